"""Bad input is rejected at plan time with a message that says what to fix.

Contracts: tests/contracts/bad_inputs*.yaml, each case `{vars, message, directory?}` where directory
(relative to the repository, default the root module) is the configuration planned.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tfcli import REPO_ROOT

CONTRACTS = sorted((Path(__file__).parent / "contracts").glob("bad_inputs*.yaml"))
CASES = {
    f"{contract.stem}:{case}": spec
    for contract in CONTRACTS
    for case, spec in yaml.safe_load(contract.read_text()).items()
}


def test_the_contract_is_large_enough() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", sorted(CASES), ids=sorted(CASES))
def test_bad_input_is_rejected_with_its_message(case: str, plan_error) -> None:
    spec = CASES[case]
    output = plan_error(REPO_ROOT / spec.get("directory", "."), **spec["vars"])
    assert spec["message"] in output, f"{case}: expected {spec['message']!r} in:\n{output[-1500:]}"
    assert "Invalid value for variable" in output or "Invalid value for input variable" in output


def test_good_input_is_accepted(plan_summary) -> None:
    plan = plan_summary(
        REPO_ROOT,
        approval_tag_key="Team-Approval_1.x@y",
        approval_tag_values=["a" * 256],
        approved_ami_ids=["ami-00000001", "ami-0123456789abcdef0"],
        approved_ami_owners=["amazon", "aws-marketplace", "123456789012"],
        ami_publisher_arns=["arn:aws:iam::123456789012:role/publishers/*", "arn:aws-us-gov:iam::*:user/p"],
    )
    assert plan.counts.get("aws_iam_policy") == 1
