"""The bad-input contracts (tests/contracts/bad_inputs*.yaml, run by test_validation.py) cover every kind of input."""

from __future__ import annotations

import json
from pathlib import Path

from harness.yaml_files import read_yaml

CONTRACTS = sorted((Path(__file__).parent / "contracts").glob("bad_inputs*.yaml"))
CASES = {
    f"{contract.stem}:{case}": spec
    for contract in CONTRACTS
    for case, spec in read_yaml(contract).items()
}

# Each kind of bad input the module must reject, and cases that show it.
KINDS = {
    "empty": [
        "bad_inputs:empty-tag-key",
        "bad_inputs:empty-ami-id",
        "bad_inputs:empty-publisher-arn",
        "bad_inputs:empty-name",
    ],
    "too long": ["bad_inputs:tag-key-too-long", "bad_inputs:tag-value-too-long", "bad_inputs:policy-path-too-long"],
    "reserved aws: prefix": [
        "bad_inputs:reserved-tag-key",
        "bad_inputs_layers:reserved-exemption-tag-key",
        "bad_inputs:reserved-protected-instance-tag-key",
    ],
    "malformed AMI ID": ["bad_inputs:malformed-ami-id", "bad_inputs:ami-id-upper-case", "bad_inputs:not-an-ami-id"],
    "malformed ARN": [
        "bad_inputs:malformed-publisher-arn",
        "bad_inputs:publisher-arn-with-short-account-id",
        "bad_inputs:exempt-principal-not-an-arn",
        "bad_inputs:publisher-arn-of-a-role-session",
        "bad_inputs_organization:iam-admin-not-an-arn",
        "bad_inputs_layers:malformed-topic-arn",
        "bad_inputs_layers:alarm-action-not-an-arn",
    ],
    "unknown remediation action": ["bad_inputs_layers:unknown-remediation-action"],
    "zero or negative retry values": [
        "bad_inputs_layers:zero-automatic-attempts",
        "bad_inputs_layers:negative-retry-seconds",
    ],
    "invalid SNS protocol": ["bad_inputs_layers:invalid-sns-protocol"],
    "over an AWS size limit": [
        "bad_inputs:identity-policy-over-the-size-limit",
        "bad_inputs:boundary-over-the-size-limit",
        "bad_inputs_organization:scp-over-the-size-limit",
        "bad_inputs_organization:config-rule-parameters-over-1024",
    ],
    "contradictory toggles": ["bad_inputs:attachments-without-policy", "bad_inputs_layers:alerts-without-config-rule"],
}


def distinct_inputs() -> set[tuple[str, str]]:
    return {(spec.get("directory", "."), json.dumps(spec["vars"], sort_keys=True)) for spec in CASES.values()}


def test_at_least_25_distinct_bad_inputs() -> None:
    assert len(distinct_inputs()) >= 25


def test_no_bad_input_is_listed_twice() -> None:
    assert len(distinct_inputs()) == len(CASES)


def test_every_kind_of_bad_input_is_covered() -> None:
    missing = {kind: [case for case in cases if case not in CASES] for kind, cases in KINDS.items()}
    assert {kind: cases for kind, cases in missing.items() if cases} == {}


def test_every_case_names_its_message() -> None:
    assert [case for case, spec in CASES.items() if len(spec.get("message", "")) < 10] == []
