"""Verdicts per AMI use, from the contract table tests/contracts/classify_cases.yaml, and the rule model."""

from __future__ import annotations

from pathlib import Path

import pytest

from approved_amis.classify import Verdict, classify
from approved_amis.images import Image
from approved_amis.rule import ApprovalRule, RuleError
from harness.yaml_files import read_yaml

CASES = read_yaml(Path(__file__).parent / "contracts" / "classify_cases.yaml")
ACCOUNT = "111122223333"
DEFAULT_AMI = "ami-0123456789abcdef0"


def test_the_table_covers_every_verdict() -> None:
    assert {case["verdict"] for case in CASES.values()} == {v.value for v in Verdict}


@pytest.mark.parametrize("name", sorted(CASES))
def test_verdict(name: str) -> None:
    case = CASES[name]
    ami_id = case.get("ami_id", DEFAULT_AMI)
    rule = ApprovalRule(
        tag_key=case["rule"]["tag_key"],
        tag_values=tuple(case["rule"]["tag_values"]),
        ami_ids=tuple(case["rule"].get("ami_ids", ())),
        ami_owners=tuple(case["rule"].get("ami_owners", ())),
    )
    spec = case["image"]
    image = (
        None
        if spec is None
        else Image(
            image_id=ami_id,
            owner_id=spec["owner_id"],
            owner_alias=spec.get("owner_alias", ""),
            public=spec.get("public", False),
            state=spec.get("state", "available"),
            tags=spec.get("tags", {}),
        )
    )
    result = classify(ami_id, image, rule, ACCOUNT)
    assert result.verdict.value == case["verdict"], result.reason
    for fragment in case["reason_has"]:
        assert fragment in result.reason, f"{fragment!r} not in {result.reason!r}"


def test_rule_from_terraform_outputs() -> None:
    outputs = {
        "approval_rule": {
            "sensitive": False,
            "type": ["object", {}],
            "value": {
                "tag_key": "Stage",
                "tag_values": ["Prod", "Gold"],
                "ami_ids": ["ami-0123456789abcdef0"],
                "ami_owners": ["amazon"],
            },
        }
    }
    assert ApprovalRule.from_terraform_outputs(outputs) == ApprovalRule(
        "Stage", ("Prod", "Gold"), ("ami-0123456789abcdef0",), ("amazon",)
    )


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        ({}, "no `approval_rule` output"),
        ({"approval_rule": {"value": None}}, "create = false"),
        ({"approval_rule": {"value": {"tag_values": ["Prod"]}}}, "tag_key"),
        ({"approval_rule": {"value": {"tag_key": "Environment", "tag_values": []}}}, "--tag-value"),
    ],
    ids=["no-output", "module-off", "incomplete", "no-values"],
)
def test_rule_from_bad_terraform_outputs(outputs: dict, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        ApprovalRule.from_terraform_outputs(outputs)
