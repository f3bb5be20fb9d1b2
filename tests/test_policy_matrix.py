"""Decision matrix: the verdict IAM reaches for each request under the documents the module renders.

The documents come from the plans (tests/contracts/policy_matrix.yaml names the configurations); the
evaluation engine is principalmapper's local policy simulation (harness/iam_eval.py), whose condition
operators are checked here against the IAM documentation before the matrix relies on them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from harness.iam_eval import (
    ALLOWED,
    EXPLICITLY_DENIED,
    IMPLICITLY_DENIED,
    VERDICTS,
    Document,
    Request,
    decide,
    statement_matches,
)
from support.planning import PlanSummary
from harness.tfcli import REPO_ROOT
from harness.yaml_files import read_yaml

MATRIX = read_yaml(Path(__file__).parent / "contracts" / "policy_matrix.yaml")
ROWS = {row["id"]: row for row in MATRIX["rows"]}
# Configurations of a module directory are planned together with the other test modules' inputs
# (conftest.py: plan_summary); the examples configure their provider and are planned as roots.
PLANNED = [
    (REPO_ROOT / spec["directory"], spec.get("vars", {}))
    for spec in MATRIX["configurations"].values()
    if not spec["directory"].startswith("examples/")
]
CELLS = [(row["id"], setup) for row in MATRIX["rows"] for setup in row["expect"]]
RENDERED = MATRIX["documents"]


def rendered_documents(plan: PlanSummary) -> dict[str, Document]:
    """The documents of one plan, by name, as Terraform will create them (see `documents` in the matrix)."""
    found: dict[str, Document] = {}
    for name, source in RENDERED.items():
        resources = [v for a, v in plan.values.items() if a.endswith(source["resource"])]
        assert len(resources) <= 1, f"several resources end with {source['resource']}"
        output = plan.outputs.get(source.get("output", ""))
        if output and "key" in source:
            output = output.get(source["key"])
        if resources:
            found[name] = json.loads(resources[0][source["attribute"]])
        elif output:
            found[name] = json.loads(output)
    return found


@pytest.fixture(scope="module")
def documents(plan_summary) -> Callable[[str], dict[str, Document]]:
    """documents(configuration): the rendered documents of a configuration of the matrix."""
    cache: dict[str, dict[str, Document]] = {}

    def get(configuration: str) -> dict[str, Document]:
        if configuration not in cache:
            spec = MATRIX["configurations"][configuration]
            plan = plan_summary(REPO_ROOT / spec["directory"], **spec.get("vars", {}))
            cache[configuration] = rendered_documents(plan)
            missing = {name for name in needed(configuration) if name not in cache[configuration]}
            assert not missing, f"the plan of {configuration} has no {sorted(missing)} document"
        return cache[configuration]

    return get


def needed(configuration: str) -> set[str]:
    """The documents the rows of a configuration need."""
    setups = {setup for row in ROWS.values() if row["configuration"] == configuration for setup in row["expect"]}
    kinds = [MATRIX["setups"][setup] for setup in setups]
    return {name for kind in kinds for names in kind.values() for name in names if name in RENDERED}


def policies_in_force(setup: str, rendered: dict[str, Document]) -> dict[str, list[Document]]:
    """A setup's documents by policy kind: rendered documents by name, the matrix's fixed grants otherwise."""
    kinds: dict[str, list[Document]] = {}
    for kind, names in MATRIX["setups"][setup].items():
        kinds[kind] = [rendered[name] if name in RENDERED else MATRIX["grants"][name] for name in names]
    return kinds


def request_of(row: dict[str, Any]) -> Request:
    spec = row["request"]
    return Request(spec["action"], spec["resource"], spec.get("context", {}), spec.get("principal", {}))


def verdict_in(row: dict, setup: str, rendered: dict) -> str:
    """What IAM decides for the row's request under the setup's policies, taken from `rendered`."""
    kinds = policies_in_force(setup, rendered)
    return decide(
        request_of(row),
        identity=kinds.get("identity", []),
        boundary=kinds.get("boundary"),
        scps=kinds.get("scps"),
        resource=kinds.get("resource", []),
    )


@pytest.mark.parametrize(("row_id", "setup"), CELLS, ids=[f"{r}::{s.replace(' ', '')}" for r, s in CELLS])
def test_verdict(row_id: str, setup: str, documents) -> None:
    row = ROWS[row_id]
    verdict = verdict_in(row, setup, documents(row["configuration"]))
    assert verdict == row["expect"][setup], f"{row_id} under {setup}: {verdict}"


################################################################################
# The matrix itself
################################################################################


def test_the_matrix_is_well_formed() -> None:
    assert len(ROWS) == len(MATRIX["rows"]), "row ids must be unique"
    for row in MATRIX["rows"]:
        assert row["configuration"] in MATRIX["configurations"], row["id"]
        assert set(row["expect"]) <= set(MATRIX["setups"]), row["id"]
        assert set(row["expect"].values()) <= set(VERDICTS), row["id"]
    for setup in MATRIX["setups"].values():
        assert set(setup) <= {"identity", "boundary", "scps", "resource"}
        assert all(name in RENDERED or name in MATRIX["grants"] for names in setup.values() for name in names)


def test_the_matrix_covers_every_setup_verdict_and_configuration() -> None:
    assert len(CELLS) >= 100
    assert {setup for _, setup in CELLS} == set(MATRIX["setups"])
    assert {ROWS[r]["expect"][s] for r, s in CELLS} == set(VERDICTS)
    assert {row["configuration"] for row in ROWS.values()} == set(MATRIX["configurations"])
    actions = {row["request"]["action"] for row in ROWS.values()}
    assert {"ec2:RunInstances", "ec2:CreateTags", "ec2:DeleteTags"} <= actions


def test_every_denial_holds_beside_broad_grants() -> None:
    """Rows denied by the policy alone stay denied when another policy grants ec2:* or ec2:*, autoscaling:*,
    imagebuilder:* and iam:* (explicit Deny wins)."""
    broad = ("policy + ec2:*", "policy + broad")
    denied = [r for r in ROWS.values() if r["expect"].get("policy") == EXPLICITLY_DENIED]
    assert len(denied) >= 40
    assert all(
        any(setup in r["expect"] for setup in broad)
        and all(r["expect"][setup] == EXPLICITLY_DENIED for setup in broad if setup in r["expect"])
        for r in denied
    ), [r["id"] for r in denied if not all(r["expect"].get(s, EXPLICITLY_DENIED) == EXPLICITLY_DENIED for s in broad)]


def test_the_scp_grants_nothing(documents) -> None:
    for configuration in ("complete", "custom", "organization"):
        for part in ("scp-launch", "scp-approval"):
            scp = documents(configuration)[part]
            assert [s["Effect"] for s in scp["Statement"]] == ["Deny"] * len(scp["Statement"])


# The statements by which the identity policy and the boundary guard themselves: no member principal can detach
# or change an SCP, so the SCPs carry none of them.
GUARD_SIDS = {"DenyGuardChange", "DenyGuardPolicyDetach", "DenyPrincipalWithoutBoundary"}


def test_the_two_scps_hold_every_deny_statement_once(documents) -> None:
    """Split for size, the SCPs together deny what the boundary denies (but its self-guard), each statement in one of them."""
    rendered = documents("complete")
    launch, approval = ([s["Sid"] for s in rendered[part]["Statement"]] for part in ("scp-launch", "scp-approval"))
    denied = [s["Sid"] for s in rendered["boundary"]["Statement"] if s["Effect"] == "Deny" and s["Sid"] not in GUARD_SIDS]
    assert not set(launch) & set(approval) and sorted(launch + approval) == sorted(denied)
    guards = {s["Sid"] for s in rendered["boundary"]["Statement"]} & GUARD_SIDS
    assert guards == {"DenyGuardChange", "DenyPrincipalWithoutBoundary"}
    assert {s["Sid"] for s in rendered["policy"]["Statement"]} & GUARD_SIDS == {"DenyGuardChange", "DenyGuardPolicyDetach"}


################################################################################
# Flip experiments: without any one Deny statement, the matrix turns red
################################################################################


def without_statement(sid: str) -> Callable[[Document], list[dict[str, Any]]]:
    return lambda document: [s for s in document["Statement"] if s.get("Sid") != sid]


def without_action(sid: str, action: str) -> Callable[[Document], list[dict[str, Any]]]:
    def edit(document: Document) -> list[dict[str, Any]]:
        return [
            {**s, "Action": [a for a in s["Action"] if a != action]} if s.get("Sid") == sid else s
            for s in document["Statement"]
        ]

    return edit


def red_cells(documents, without: str | Callable[[Document], list[dict[str, Any]]]) -> list[str]:
    """The cells whose verdict changes when the Deny statement `without` (or an edit) is applied to every document."""
    edit = without_statement(without) if isinstance(without, str) else without
    red = []
    for row_id, setup in CELLS:
        row = ROWS[row_id]
        rendered = {name: {**document, "Statement": edit(document)} for name, document in documents(row["configuration"]).items()}
        verdict = verdict_in(row, setup, rendered)
        if verdict != row["expect"][setup]:
            red.append(f"{row_id}::{setup}")
    return red


def deny_sids(documents) -> list[str]:
    return sorted(
        s["Sid"]
        for c in MATRIX["configurations"]
        for name, d in documents(c).items()
        if name in ("policy", "boundary", "scp-launch", "scp-approval")
        for s in d["Statement"]
        if s["Effect"] == "Deny"
    )


@pytest.fixture(scope="module")
def flips(documents) -> dict[str, list[str]]:
    return {sid: red_cells(documents, without=sid) for sid in deny_sids(documents)}


def test_every_launch_action_is_needed_by_the_matrix(documents) -> None:
    """Leaving any one action out of the launch Deny changes at least one verdict: each door has its row."""
    sid = "DenyLaunchWithUnapprovedImage"
    actions = next(s["Action"] for s in documents("complete")["policy"]["Statement"] if s.get("Sid") == sid)
    summary = {action: len(red_cells(documents, without_action(sid, action))) for action in actions}
    print("\nlaunch action flips (red cells without the action):", summary)
    assert [action for action, red in summary.items() if not red] == [], summary


def test_every_image_builder_pattern_is_needed_by_the_matrix(documents) -> None:
    """Each Image Builder pattern of the publishing Deny (Create*, Update*, Import*, Start*, Put*, Send*) has a row
    that turns red without it."""
    sid = "DenyImagePublishingByNonPublishers"
    actions = next(s["Action"] for s in documents("complete")["policy"]["Statement"] if s.get("Sid") == sid)
    patterns = [action for action in actions if action.startswith("imagebuilder:")]
    summary = {pattern: len(red_cells(documents, without_action(sid, pattern))) for pattern in patterns}
    print("\nImage Builder pattern flips (red cells without the pattern):", summary)
    assert len(patterns) == 6 and [pattern for pattern, red in summary.items() if not red] == [], summary


def test_every_deny_statement_is_needed_by_the_matrix(flips) -> None:
    """Leaving out any one Deny statement (the template rendered without it) changes at least one verdict."""
    summary = {sid: len(cells) for sid, cells in flips.items()}
    print("\nflip experiments (red cells without the statement):", summary)
    assert len(flips) >= 8
    assert [sid for sid, cells in flips.items() if not cells] == [], summary


################################################################################
# The engine: each condition operator the module uses, as the IAM documentation defines it
################################################################################

ARN = "arn:aws:iam::111122223333:role/ami-publisher"
OTHER_ARN = "arn:aws:iam::111122223333:role/deployer"
TAG = "ec2:ResourceTag/Env"
KEYS = "aws:TagKeys"
PRINCIPAL = "aws:PrincipalArn"
PUBLISHERS = {"ArnNotLike": {PRINCIPAL: ["arn:aws:iam::*:role/ami-*"]}}
ANY_KEY = "ForAnyValue:StringEqualsIgnoreCase"
VERSION = "autoscaling:LaunchTemplateVersionSpecified"


def applies(condition: dict[str, Any], context: dict[str, Any]) -> bool:
    statement = {"Effect": "Deny", "Action": "ec2:CreateTags", "Resource": "*", "Condition": condition}
    request = Request("ec2:CreateTags", "arn:aws:ec2:eu-west-1::image/ami-1", context)
    return statement_matches(statement, "Deny", request)


OPERATOR_CASES: dict[str, tuple[dict[str, Any], dict[str, Any], bool]] = {
    # StringEquals: case-sensitive; any listed value; false when the key is absent.
    "StringEquals/equal": ({"StringEquals": {TAG: ["Prod", "Production"]}}, {TAG: "Production"}, True),
    "StringEquals/other-case": ({"StringEquals": {TAG: ["Prod"]}}, {TAG: "prod"}, False),
    "StringEquals/absent": ({"StringEquals": {TAG: ["Prod"]}}, {}, False),
    # StringNotEquals: true when no listed value equals; true when the key is absent; several keys ANDed.
    "StringNotEquals/none-equal": ({"StringNotEquals": {TAG: ["Prod", "Production"]}}, {TAG: "Dev"}, True),
    "StringNotEquals/one-equal": ({"StringNotEquals": {TAG: ["Prod", "Production"]}}, {TAG: "Prod"}, False),
    "StringNotEquals/absent": ({"StringNotEquals": {TAG: ["Prod"]}}, {}, True),
    "StringNotEquals/both-keys-differ": (
        {"StringNotEquals": {TAG: ["Prod"], "ec2:ImageID": ["ami-1"]}},
        {TAG: "Dev", "ec2:ImageID": "ami-2"},
        True,
    ),
    "StringNotEquals/second-key-equal": (
        {"StringNotEquals": {TAG: ["Prod"], "ec2:ImageID": ["ami-1"]}},
        {TAG: "Dev", "ec2:ImageID": "ami-1"},
        False,
    ),
    # ForAnyValue:StringEqualsIgnoreCase: any request value equals any listed value, ignoring case; absent is false.
    "ForAnyValue:StringEqualsIgnoreCase/one-of-several": ({ANY_KEY: {KEYS: ["Env"]}}, {KEYS: ["Name", "ENV"]}, True),
    "ForAnyValue:StringEqualsIgnoreCase/none": ({ANY_KEY: {KEYS: ["Env"]}}, {KEYS: ["Name", "Owner"]}, False),
    "ForAnyValue:StringEqualsIgnoreCase/absent": ({ANY_KEY: {KEYS: ["Env"]}}, {}, False),
    # ArnNotLike: case-sensitive, wildcards within one colon-separated part; true when the key is absent.
    "ArnNotLike/matching-pattern": (PUBLISHERS, {PRINCIPAL: ARN}, False),
    "ArnNotLike/other-role": (PUBLISHERS, {PRINCIPAL: OTHER_ARN}, True),
    "ArnNotLike/other-case": (PUBLISHERS, {PRINCIPAL: "arn:aws:iam::111122223333:role/AMI-Publisher"}, True),
    "ArnNotLike/wildcard-stays-in-its-part": (
        {"ArnNotLike": {PRINCIPAL: ["arn:aws:iam::*:role/ami-publisher"]}},
        {PRINCIPAL: "arn:aws:iam::111122223333:role/x:role/ami-publisher"},
        True,
    ),
    "ArnNotLike/absent": ({"ArnNotLike": {PRINCIPAL: [ARN]}}, {}, True),
    # Null "true": true only when the key is absent from the request.
    "Null/absent": ({"Null": {KEYS: "true"}}, {}, True),
    "Null/present": ({"Null": {KEYS: "true"}}, {KEYS: ["Env"]}, False),
    # Bool: "false" matches a request whose value is false; absent from the request, the condition is false
    # (Auto Scaling sets autoscaling:LaunchTemplateVersionSpecified only when a launch template is named).
    "Bool/false-and-false": ({"Bool": {VERSION: "false"}}, {VERSION: "false"}, True),
    "Bool/false-and-true": ({"Bool": {VERSION: "false"}}, {VERSION: "true"}, False),
    "Bool/absent": ({"Bool": {VERSION: "false"}}, {}, False),
    # BoolIfExists "false": true when the key is false or absent (so an undocumented key fails closed).
    "BoolIfExists/false-and-false": ({"BoolIfExists": {VERSION: "false"}}, {VERSION: "false"}, True),
    "BoolIfExists/false-and-true": ({"BoolIfExists": {VERSION: "false"}}, {VERSION: "true"}, False),
    "BoolIfExists/absent": ({"BoolIfExists": {VERSION: "false"}}, {}, True),
    # Null "false": true only when the key is present; several keys in one Null block are ANDed.
    "Null-false/present": ({"Null": {"autoscaling:InstanceTypes": "false"}}, {"autoscaling:InstanceTypes": ["m5.large"]}, True),
    "Null-false/absent": ({"Null": {"autoscaling:InstanceTypes": "false"}}, {}, False),
    "Null/both-keys-absent": ({"Null": {VERSION: "true", "autoscaling:LaunchConfigurationName": "true"}}, {}, True),
    "Null/one-key-present": ({"Null": {VERSION: "true", "autoscaling:LaunchConfigurationName": "true"}}, {VERSION: "true"}, False),
    # StringNotEquals on autoscaling:ImageId: a launch configuration's AMI, matched exactly.
    "StringNotEquals/image-id-listed": ({"StringNotEquals": {"autoscaling:ImageId": ["ami-1"]}}, {"autoscaling:ImageId": "ami-1"}, False),
    "StringNotEquals/image-id-other": ({"StringNotEquals": {"autoscaling:ImageId": ["ami-1"]}}, {"autoscaling:ImageId": "ami-2"}, True),
    # Several operators in one Condition are ANDed.
    "operators-are-anded": (
        {ANY_KEY: {KEYS: ["Env"]}, "ArnNotLike": {PRINCIPAL: [ARN]}},
        {KEYS: ["Env"], PRINCIPAL: ARN},
        False,
    ),
}


@pytest.mark.parametrize("case", sorted(OPERATOR_CASES))
def test_engine_evaluates_condition_operators_as_iam_does(case: str) -> None:
    condition, context, expected = OPERATOR_CASES[case]
    assert applies(condition, context) is expected


ROLE_PATTERNS = ["arn:aws:iam::*:role/ami-publisher", "arn:aws:iam::111122223333:role/image-builder-*"]
RESOURCE_CASES = {
    "any-account": ("arn:aws:iam::111122223333:role/ami-publisher", True),
    "wildcard-name": ("arn:aws:iam::111122223333:role/image-builder-linux", True),
    "same-name-under-a-path": ("arn:aws:iam::111122223333:role/team/ami-publisher", False),
    "other-account-for-an-account-pattern": ("arn:aws:iam::444455556666:role/image-builder-linux", False),
    "another-role": ("arn:aws:iam::111122223333:role/app", False),
}


@pytest.mark.parametrize("case", sorted(RESOURCE_CASES))
def test_engine_matches_role_arns_as_resources_as_iam_does(case: str) -> None:
    """The role guard names the publisher patterns as Resource: * runs within the ARN, a path changes the ARN."""
    resource, expected = RESOURCE_CASES[case]
    statement = {"Effect": "Deny", "Action": ["iam:CreateRole", "iam:PassRole"], "Resource": ROLE_PATTERNS}
    for action in statement["Action"]:
        assert statement_matches(statement, "Deny", Request(action, resource, {})) is expected


def test_principalmapper_matches_resources_in_any_case() -> None:
    """Pinned: principalmapper matches Resource ignoring case, IAM does not. No matrix row depends on the case
    of a resource ARN; a role named like a publisher in another case is not a publisher (ArnNotLike is exact)."""
    statement = {"Effect": "Deny", "Action": "iam:CreateRole", "Resource": ROLE_PATTERNS[0]}
    request = Request("iam:CreateRole", "arn:aws:iam::111122223333:role/AMI-Publisher", {})
    assert statement_matches(statement, "Deny", request) is True
    assert not any(
        r["request"]["resource"].lower() != r["request"]["resource"] and r["request"]["action"].startswith("iam:")
        for r in MATRIX["rows"]
    )


def test_principalmapper_alone_matches_arns_in_any_case() -> None:
    """Why iam_eval evaluates Arn* blocks itself: principalmapper's own ArnLike ignores case (IAM does not)."""
    from principalmapper.querying.local_policy_simulation import _get_condition_match
    from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict

    context = CaseInsensitiveDict({PRINCIPAL: "arn:aws:iam::111122223333:role/AMI-Publisher"})
    assert _get_condition_match({"ArnLike": {PRINCIPAL: [ARN]}}, context) is True
    assert applies({"ArnLike": {PRINCIPAL: [ARN]}}, dict(context)) is False


def test_verdicts_follow_iam_evaluation_logic() -> None:
    request = Request("ec2:RunInstances", "arn:aws:ec2:eu-west-1::image/ami-1", {})
    allow = {"Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}
    deny = {"Statement": [{"Effect": "Deny", "Action": "ec2:RunInstances", "Resource": "*"}]}
    other = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    assert decide(request, identity=[allow]) == ALLOWED
    assert decide(request, identity=[allow, deny]) == EXPLICITLY_DENIED
    assert decide(request, identity=[other]) == IMPLICITLY_DENIED
    assert decide(request, identity=[allow], boundary=[other]) == IMPLICITLY_DENIED
    assert decide(request, identity=[allow], scps=[other]) == IMPLICITLY_DENIED
    assert decide(request, identity=[allow], scps=[allow, deny]) == EXPLICITLY_DENIED


def test_resource_policies_apply_to_the_principals_they_name() -> None:
    topic = "arn:aws:sns:eu-west-1:111122223333:alerts"
    events, s3 = {"Service": "events.amazonaws.com"}, {"Service": "s3.amazonaws.com"}
    same_account = {"AWS": "arn:aws:iam::111122223333:role/admin"}
    other_account = {"AWS": "arn:aws:iam::444455556666:role/admin"}
    root = {"AWS": "arn:aws:iam::111122223333:root"}
    policy = {
        "Statement": [
            {"Effect": "Allow", "Principal": events, "Action": "sns:Publish", "Resource": topic},
            {"Effect": "Allow", "Principal": root, "Action": "sns:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": topic,
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ]
    }  # fmt: skip
    tls, plain = {"aws:SecureTransport": "true"}, {"aws:SecureTransport": "false"}
    assert decide(Request("sns:Publish", topic, tls, events), resource=[policy]) == ALLOWED
    assert decide(Request("sns:Publish", topic, tls, s3), resource=[policy]) == IMPLICITLY_DENIED
    assert decide(Request("sns:Subscribe", topic, tls, same_account), resource=[policy]) == ALLOWED
    assert decide(Request("sns:Subscribe", topic, tls, other_account), resource=[policy]) == IMPLICITLY_DENIED
    assert decide(Request("sns:Publish", topic, plain, events), resource=[policy]) == EXPLICITLY_DENIED
