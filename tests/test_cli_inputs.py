"""Bad command lines get one line and exit 2 without touching AWS; a dead endpoint is said at once and ends the command within 10 s."""

from __future__ import annotations

import re
import socket
import time
from typing import Any, Iterator

import pytest

from approved_amis import aws, cli
from harness.tfcli import REPO_ROOT, emulator_credentials
from harness.yaml_files import read_yaml

CASES: list[dict[str, Any]] = read_yaml(REPO_ROOT / "tests" / "contracts" / "cli_bad_inputs.yaml")


@pytest.fixture(scope="module")
def closed_port() -> Iterator[int]:
    """A loopback port bound but never listening: every connection to it is refused at once."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(case, closed_port, tmp_path, monkeypatch, capsys) -> None:
    for name, value in emulator_credentials(f"http://127.0.0.1:{closed_port}").items():
        monkeypatch.setenv(name, value)
    plan = tmp_path / "plan.json"
    plan.write_text('{"format_version": "1.2", "resource_changes": []}')
    missing = str(tmp_path / "missing")
    argv = [str(plan) if a == "PLAN" else a.replace("MISSING", missing) for a in case["argv"]]
    sent: list[str] = []
    monkeypatch.setattr(
        "botocore.httpsession.URLLib3Session.send", lambda self, request: sent.append(request.url) or None
    )
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == f"approved-amis: error: {case['message'].replace('MISSING', missing)}\n"
    assert sent == [], "the input should be rejected before any AWS call"


def test_a_valid_rule_passes_the_same_checks() -> None:
    from approved_amis.rule import ApprovalRule

    rule = ApprovalRule("Environment", ("Prod",), ("ami-12345678", "ami-0123456789abcdef0"), ("123456789012", "amazon", "aws-marketplace"))
    assert rule.ami_ids and rule.ami_owners


@pytest.fixture(scope="module")
def silent_port() -> Iterator[int]:
    """A loopback port that never accepts: its accept queue is full (listen backlog 0, filled by connections
    nobody accepts), so the kernel drops new connection requests until the client's connect timeout."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(0)
        waiting: list[socket.socket] = []
        try:
            for _ in range(20):
                probe = socket.socket()
                probe.settimeout(0.5)
                try:
                    probe.connect(held.getsockname())
                except (TimeoutError, socket.timeout):
                    probe.close()
                    break
                waiting.append(probe)  # accepted into the queue: it stays there, filling it
            else:
                raise AssertionError("the kernel kept accepting connections on a backlog of 0")
            yield held.getsockname()[1]
        finally:
            for client in waiting:
                client.close()


@pytest.mark.parametrize("endpoint_kind", ["refused", "never-accepting"])
def test_a_dead_endpoint_ends_the_command_within_10_s(
    endpoint_kind, closed_port, silent_port, monkeypatch, capsys
) -> None:
    """One line on stderr at the first failure, naming AWS_ENDPOINT_URL; then one more try and exit 2.
    (In-process, so that the figure is the command's own, not the interpreter's start-up.)"""
    endpoint = f"http://127.0.0.1:{closed_port if endpoint_kind == 'refused' else silent_port}"
    for name, value in emulator_credentials(endpoint).items():
        monkeypatch.setenv(name, value)
    # The same command's own work without a call (session, region check), timed first: on a loaded machine
    # it is what the limit of 10 s of waiting is added to.
    started = time.monotonic()
    assert cli.main(["audit", "--region", "us-east-7", "--tag-key", "Environment", "--tag-value", "Prod"]) == 2
    own_work = time.monotonic() - started
    capsys.readouterr()
    started = time.monotonic()
    code = cli.main(["audit", "--region", "us-east-1", "--tag-key", "Environment", "--tag-value", "Prod"])
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    first, *_, last = err.splitlines()
    assert code == 2 and out == ""
    assert first == f"approved-amis: no answer from {endpoint}/ (AWS_ENDPOINT_URL={endpoint}); trying once more"
    assert last.startswith(f"approved-amis: error: cannot identify the AWS account: cannot reach the endpoint (AWS_ENDPOINT_URL={endpoint})")
    assert elapsed < 10 + own_work, f"{elapsed:.1f}s ({own_work:.1f}s of it the command's own work): {err}"


def test_the_final_error_names_the_endpoint_variable(monkeypatch) -> None:
    from botocore.exceptions import EndpointConnectionError

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    message = aws.describe_error(EndpointConnectionError(endpoint_url="http://127.0.0.1:9/"), "cannot identify the AWS account")
    assert message.startswith("cannot identify the AWS account: cannot reach the endpoint (AWS_ENDPOINT_URL=http://127.0.0.1:9)")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    assert "AWS_ENDPOINT_URL" not in aws.describe_error(EndpointConnectionError(endpoint_url="https://x/"), "c")


def test_the_cli_checks_ids_and_owners_with_the_module_s_own_patterns() -> None:
    """The patterns in rule.py are the regexes of the module's approved_ami_ids / approved_ami_owners validations."""
    from approved_amis import rule

    variables = (REPO_ROOT / "modules" / "approval-rule" / "variables.tf").read_text()
    ids = re.search(r'regex\("([^"]+)", id\)', variables)[1]
    owners = re.search(r'regex\("([^"]+)", owner\)', variables)[1]
    assert (rule.AMI_ID.pattern, rule.OWNER.pattern) == (ids, owners)
    limit = re.search(r"length\(var.approved_ami_ids\) <= (\d+) && length\(join\(\",\", var.approved_ami_ids\)\) <= (\d+)", variables)
    assert (rule.MAX_AMI_IDS, rule.MAX_AMI_IDS_CHARS) == (int(limit[1]), int(limit[2]))


################################################################################
# The flags are checked by the module's own rules (rule.CHECKS), on the module's own bad inputs
################################################################################

MODULE_BAD_INPUTS: dict[str, Any] = read_yaml(REPO_ROOT / "tests" / "contracts" / "bad_inputs.yaml")


def _rule_cases() -> dict[str, dict[str, Any]]:
    from approved_amis import rule

    variables = {check.variable for check in rule.CHECKS}
    return {case: spec for case, spec in MODULE_BAD_INPUTS.items() if spec["vars"] and set(spec["vars"]) <= variables}


RULE_CASES = _rule_cases()
DEFAULTS = {
    "approval_tag_key": "Environment",
    "approval_tag_values": ["Prod"],
    "approved_ami_ids": [],
    "approved_ami_owners": [],
    "ami_parameter_paths": [],
}


@pytest.mark.parametrize("case", sorted(RULE_CASES))
def test_every_bad_rule_input_the_module_rejects_the_cli_rejects(case: str) -> None:
    from approved_amis import rule

    inputs = {**DEFAULTS, **RULE_CASES[case]["vars"]}
    failed = rule.violations(inputs)
    assert failed and failed[0].variable in RULE_CASES[case]["vars"]
    with pytest.raises(rule.RuleError):
        rule.ApprovalRule(
            inputs["approval_tag_key"],
            tuple(inputs["approval_tag_values"]),
            tuple(inputs["approved_ami_ids"]),
            tuple(inputs["approved_ami_owners"]),
            tuple(inputs["ami_parameter_paths"]),
        )


def test_every_check_is_exercised_by_the_module_s_contract_and_the_defaults_pass() -> None:
    from approved_amis import rule

    assert rule.violations(DEFAULTS) == []
    hit = {id(check) for spec in RULE_CASES.values() for check in rule.violations({**DEFAULTS, **spec["vars"]})}
    declared = set(re.findall(r'^variable "([a-z_]+)"', (REPO_ROOT / "modules" / "approval-rule" / "variables.tf").read_text(), re.MULTILINE))
    assert [c.fix for c in rule.CHECKS if c.variable in declared and id(c) not in hit] == []


def test_the_limits_are_the_module_s() -> None:
    from approved_amis import rule

    variables = (REPO_ROOT / "modules" / "approval-rule" / "variables.tf").read_text()
    for condition in (
        f"length(var.approval_tag_key) <= {rule.TAG_KEY_MAX}",
        f"length(var.approval_tag_values) <= {rule.TAG_VALUES_MAX}",
        f"length(value) <= {rule.TAG_VALUE_MAX}",
        '!startswith(lower(var.approval_tag_key), "aws:")',
        r'"^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]*$"',
    ):
        assert condition in variables, condition
    assert "".join(sorted(rule.TAG_KEY_PUNCTUATION)) == "".join(sorted("_.:/=+@-"))


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"AWS_REGION": "eu-west-1"}, "eu-west-1"),
        ({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1"}, "eu-west-1"),
        ({"AWS_DEFAULT_REGION": "us-east-1"}, "us-east-1"),
        ({}, "ap-southeast-2"),  # the profile's region
    ],
    ids=["aws-region", "aws-region-first", "aws-default-region", "profile"],
)
def test_the_region_is_resolved_as_the_aws_cli_resolves_it(variables, expected, tmp_path, monkeypatch) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = ap-southeast-2\n")
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    session = aws.session(None)
    assert aws.default_region(session) == expected
    assert aws.check_regions(session, []) == [expected]
