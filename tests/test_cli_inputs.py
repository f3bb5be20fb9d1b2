"""Bad command lines get one line and exit 2 without touching AWS; a dead endpoint is reported while retrying."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from typing import Any, Iterator

import pytest
import yaml

from approved_amis import aws, cli
from support.check_plan_support import cli_path
from harness.tfcli import REPO_ROOT, emulator_credentials

CASES: list[dict[str, Any]] = yaml.safe_load((REPO_ROOT / "tests" / "contracts" / "cli_bad_inputs.yaml").read_text())


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
    started = time.monotonic()
    code = cli.main(argv)
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == f"approved-amis: error: {case['message'].replace('MISSING', missing)}\n"
    assert elapsed < 2, f"{elapsed:.1f}s: the input should be rejected before any AWS call"


def test_a_valid_rule_passes_the_same_checks() -> None:
    from approved_amis.rule import ApprovalRule

    rule = ApprovalRule("Environment", ("Prod",), ("ami-12345678", "ami-0123456789abcdef0"), ("123456789012", "amazon", "aws-marketplace"))
    assert rule.ami_ids and rule.ami_owners


def test_unreachable_endpoint_is_reported_while_retrying(closed_port) -> None:
    """Instead of 20-30 s of silence, one line on stderr within seconds, naming AWS_ENDPOINT_URL."""
    endpoint = f"http://127.0.0.1:{closed_port}"
    env = dict(os.environ, **emulator_credentials(endpoint))
    args = [str(cli_path()), "audit", "--region", "us-east-1", "--tag-key", "Environment", "--tag-value", "Prod"]
    started = time.monotonic()
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()
        elapsed = time.monotonic() - started
        assert process.poll() is None, "the CLI gave up instead of retrying"
    finally:
        process.kill()
        process.wait()
        process.stderr.close()
    assert line.startswith("approved-amis: no answer from ") and "retrying" in line
    assert f"(AWS_ENDPOINT_URL={endpoint})" in line
    assert elapsed < 5, f"first word after {elapsed:.1f}s"


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
