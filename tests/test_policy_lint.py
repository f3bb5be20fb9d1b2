"""parliament over every policy document the examples plan: no finding but the documented ones.

Linted: identity policies (managed and inline), the permissions boundary, service control policies, and the
resource policies of the other layers (KMS key, SNS topic, S3 bucket). Role trust policies are left to
checkov: parliament reads every statement as an identity statement and reports one without a Resource as
MALFORMED. Each statement is also analysed on its own, so that a finding can be traced to its Sid.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest

from conftest import EXAMPLE_NAMES, EXAMPLES

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # parliament imports the deprecated pkg_resources
    from parliament import analyze_policy_string

# Planned together with the other test modules' inputs (conftest.py: plan_summary).
PLANNED = [(EXAMPLES / name, {}) for name in EXAMPLE_NAMES]

# Attribute holding the policy JSON, by resource type.
POLICY_ATTRIBUTES = {
    "aws_iam_policy": "policy",
    "aws_iam_role_policy": "policy",
    "aws_iam_group_policy": "policy",
    "aws_iam_user_policy": "policy",
    "aws_kms_key": "policy",
    "aws_sns_topic_policy": "policy",
    "aws_sqs_queue_policy": "policy",
    "aws_s3_bucket_policy": "policy",
    "aws_organizations_policy": "content",
}

# The only findings allowed, each for the statements or documents named (CONTRIBUTING.md, ## How it is tested).


def allowed(resource_type: str, sid: str | None, issue: str, detail: Any) -> bool:
    if issue == "RESOURCE_STAR":
        # In a key policy, Resource "*" is the key the policy is attached to.
        return resource_type == "aws_kms_key"
    return False


def policy_documents(plan: Any) -> dict[str, tuple[str, str]]:
    """address -> (resource type, policy JSON) for every IAM-language policy in a plan."""
    documents: dict[str, tuple[str, str]] = {}
    for address, values in plan.values.items():
        resource_type = address.split(".")[-2]
        attribute = POLICY_ATTRIBUTES.get(resource_type)
        if attribute is None:
            continue
        if resource_type == "aws_organizations_policy" and values.get("type") != "SERVICE_CONTROL_POLICY":
            continue  # declarative policies are not written in the IAM policy language
        assert values.get(attribute), f"{address}.{attribute} is unknown at plan time: it cannot be linted"
        documents[address] = (resource_type, values[attribute])
    return documents


def findings(document: str) -> list[tuple[str | None, str, Any]]:
    """(Sid, issue, detail) of every parliament finding, each traced to its statement."""
    whole = analyze_policy_string(document)
    parsed = json.loads(document)
    statements = parsed["Statement"] if isinstance(parsed["Statement"], list) else [parsed["Statement"]]
    traced = []
    for statement in statements:
        single = json.dumps({"Version": parsed.get("Version"), "Statement": [statement]})
        traced += [(statement.get("Sid"), f.issue, f.detail) for f in analyze_policy_string(single).findings]
    assert sorted(f.issue for f in whole.findings) == sorted(issue for _, issue, _ in traced), (
        "a finding about the whole document: " + repr([(f.issue, f.detail) for f in whole.findings])
    )
    return traced


@pytest.fixture(scope="module")
def documents(plan_summary) -> dict[str, dict[str, tuple[str, str]]]:
    return {example: policy_documents(plan_summary(EXAMPLES / example)) for example in EXAMPLE_NAMES}


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_parliament_finds_nothing_but_the_documented_findings(example: str, documents) -> None:
    unexpected = [
        f"{address} {sid}: {issue} {detail}"
        for address, (resource_type, document) in documents[example].items()
        for sid, issue, detail in findings(document)
        if not allowed(resource_type, sid, issue, detail)
    ]
    assert unexpected == []


def test_every_kind_of_policy_is_linted(documents) -> None:
    linted = {address.split(".")[-2] for docs in documents.values() for address in docs}
    assert {"aws_iam_policy", "aws_iam_role_policy", "aws_kms_key", "aws_sns_topic_policy", "aws_sqs_queue_policy"} <= linted
    boundary = [a for docs in documents.values() for a in docs if a.endswith("aws_iam_policy.boundary[0]")]
    assert boundary, "the permissions boundary is not linted"


def test_the_identity_policy_draws_no_finding(documents) -> None:
    """One AllowRunInstances on every EC2 resource (the Deny decides the image) draws neither RESOURCE_MISMATCH
    nor RESOURCE_STAR."""
    complete = documents["complete"]
    policy = next(doc for address, (_, doc) in complete.items() if address.endswith("aws_iam_policy.this[0]"))
    assert findings(policy) == []


def test_parliament_reports_what_it_should() -> None:
    """The lint can fail: an unknown action and a missing resource format are reported."""
    bad = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Typo", "Effect": "Allow", "Action": "ec2:RunInstance", "Resource": "*"},
            {"Sid": "WrongResource", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:ec2:*::image/*"},
        ],
    }
    issues = {(sid, issue) for sid, issue, _ in findings(json.dumps(bad))}
    assert ("Typo", "UNKNOWN_ACTION") in issues
    assert ("WrongResource", "RESOURCE_MISMATCH") in issues
    assert not allowed("aws_iam_policy", "WrongResource", "RESOURCE_MISMATCH", [{"action": "s3:GetObject"}])
