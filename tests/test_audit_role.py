"""modules/audit-role, planned: the member role of the organization audit, its trust and its inputs.

That the role's permissions are enough is shown where it is applied and used, with IAM enforced
(tests/test_cli_audit_organization.py); here, that each action is one AWS defines, and that parliament
(AWS's Service Authorization Reference as it ships it) finds nothing to say about the policy. Bad inputs:
tests/contracts/bad_inputs_audit_role.yaml.
"""

from __future__ import annotations

import json
import warnings
from typing import Any, Callable

import pytest

from conftest import MODULES

MODULE = MODULES / "audit-role"
AUDITOR = "arn:aws:iam::111111111111:role/platform-auditor"
INPUTS = {"trusted_principal_arns": [AUDITOR], "external_id": "approved-amis"}
# Planned together with the other test modules' inputs (conftest.py: plan_summary).
PLANNED = [(MODULE, INPUTS)]


@pytest.fixture(scope="module")
def plan(plan_summary: Callable[..., Any]) -> Any:
    return plan_summary(MODULE, **INPUTS)


def test_role_trusts_the_auditor_with_the_external_id(plan: Any) -> None:
    trust = json.loads(plan.one("aws_iam_role")["assume_role_policy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"AWS": [AUDITOR]} and statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "approved-amis"}}
    assert plan.counts == {"aws_iam_role": 1, "aws_iam_role_policy": 1}


def test_policy_is_read_only_and_every_action_exists(plan: Any) -> None:
    warnings.simplefilter("ignore", UserWarning)  # parliament imports the deprecated pkg_resources
    from parliament import analyze_policy_string, iam_definition

    levels = {
        f"{service['prefix']}:{privilege['privilege']}": privilege["access_level"]
        for service in iam_definition
        for privilege in service["privileges"]
    }
    document = plan.policy("aws_iam_role_policy.this[0]")
    (statement,) = document["Statement"]
    assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
    for action in statement["Action"]:
        assert levels.get(action) in ("List", "Read"), (action, levels.get(action))
    assert analyze_policy_string(json.dumps(document)).findings == []


def test_the_role_grants_exactly_what_the_cli_readme_documents_for_audit(plan: Any) -> None:
    """The CLI's README row for `audit` is proven enough and each action needed (tests/test_cli_permissions.py);
    the role adds DescribeRegions, for --regions all, and GetAllowedImagesSettings, which audit reads when
    allowed and the emulator does not serve (the README says so beside the table)."""
    from test_cli_permissions import documented_permissions

    (statement,) = plan.policy("aws_iam_role_policy.this[0]")["Statement"]
    needed, optional = documented_permissions()["audit"]
    assert sorted(statement["Action"]) == sorted([*needed, *optional, "ec2:DescribeRegions", "ec2:GetAllowedImagesSettings"])
