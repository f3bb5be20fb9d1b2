"""The IAM permissions the CLI's README lists, proven: each command runs against an emulator that enforces
IAM with exactly the actions of its row, and fails without any one of them."""

from __future__ import annotations

import json
import os
import re
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from support.audit_fleet import Fleet, seed_fleet
from support.aws_api import emulated_apis_path
from support.cli import run_cli
from harness.emulator import client, running_emulator
from harness.tfcli import REPO_ROOT, emulator_credentials

CLI_README = REPO_ROOT / "src" / "approved_amis" / "README.md"
RULE = ["--tag-key", "Environment", "--tag-value", "Prod"]
DENIED = re.compile(r"access denied|AccessDenied|UnauthorizedOperation")


def documented_permissions() -> dict[str, tuple[list[str], list[str]]]:
    """The rows of the README's IAM permissions table: command -> (needed, read when allowed)."""
    section = CLI_README.read_text().split("## IAM permissions", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]*) \|([^|]*)\|$", section, flags=re.MULTILINE)
    action = r"`([a-z0-9-]+:[A-Za-z]+)`"
    return {command: (re.findall(action, needed), re.findall(action, optional)) for command, needed, optional in rows}


PERMISSIONS = documented_permissions()
# Each row's command line, on the fleet of tests/support/audit_fleet.py (instances, templates, groups, launch
# configurations, unused AMIs); check-plan reads a plan that uses a template and a configuration it does not create.
COMMANDS = {
    "audit": ["audit", "--region", "us-east-1", *RULE],
    "retire": ["retire", "--region", "us-east-1", *RULE, "--days", "0"],
    "retire --deregister": ["retire", "--region", "us-east-1", *RULE, "--days", "0", "--deregister", "--yes"],
    "check-plan": ["check-plan", "PLAN", "--region", "us-east-1", *RULE],
}


def plan_document(fleet: Fleet) -> dict:
    """A plan (terraform show -json shape) launching from an AMI ID, a template and a launch configuration it does not create."""

    def change(resource_type: str, name: str, after: dict) -> dict:
        return {
            "address": f"{resource_type}.{name}",
            "mode": "managed",
            "type": resource_type,
            "name": name,
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "change": {"actions": ["create"], "before": None, "after": after, "after_unknown": {}},
        }

    return {
        "format_version": "1.2",
        "terraform_version": "1.11.0",
        "resource_changes": [
            change("aws_instance", "web", {"ami": fleet.images["prod"], "instance_type": "t3.micro"}),
            change("aws_autoscaling_group", "legacy", {"launch_configuration": "fleet-legacy"}),
            change(
                "aws_autoscaling_group",
                "pinned",
                {"launch_template": [{"id": fleet.templates["web"], "name": None, "version": "2"}]},
            ),
        ],
        "configuration": {"root_module": {}},
    }


@dataclass(frozen=True)
class Guarded:
    url: str
    keys: dict[tuple[str, str], dict[str, str]]  # (command, action left out or "") -> credentials
    plan: Path


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guarded]:
    """An emulator of its own: the fleet, one IAM user per row and per row-minus-one-action, then IAM enforced."""
    with running_emulator() as url:
        fleet = seed_fleet(url, "us-east-1")
        plan = tmp_path_factory.mktemp("permissions") / "plan.json"
        plan.write_text(json.dumps(plan_document(fleet)))
        iam = client("iam", url)
        keys = {}
        for number, (command, actions) in enumerate(PERMISSIONS.items()):
            for left_out in ["", *(a for c, a in CASES + OPTIONAL_CASES if c == command)]:
                user = f"cli-{number}-{left_out.replace(':', '-') or 'all'}"
                granted = [a for a in actions[0] + actions[1] if a != left_out]
                iam.create_user(UserName=user)
                iam.put_user_policy(
                    UserName=user,
                    PolicyName="approved-amis",
                    PolicyDocument=json.dumps(
                        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": granted, "Resource": "*"}]}
                    ),
                )
                key = iam.create_access_key(UserName=user)["AccessKey"]
                keys[(command, left_out)] = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
        # From here on every request is authenticated and authorised (moto's INITIAL_NO_AUTH_ACTION_COUNT = 0).
        enforce = urllib.request.Request(f"{url}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(enforce, timeout=10).close()
        yield Guarded(url, keys, plan)


def run(guarded: Guarded, command: str, left_out: str) -> tuple[int, str, str]:
    """The command, with the credentials of the user granted the row minus `left_out`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= emulator_credentials(guarded.url) | guarded.keys[(command, left_out)] | {"AWS_MAX_ATTEMPTS": "1"}
    env["PYTHONPATH"] = emulated_apis_path()  # DescribeImageReferences, authorized by the emulator, answered from its state
    env.pop("AWS_SESSION_TOKEN")
    args = [str(guarded.plan) if a == "PLAN" else a for a in COMMANDS[command]]
    result = run_cli(env, *args)
    return result.returncode, result.stdout, result.stderr


@pytest.fixture(scope="module")
def outcomes(guarded: Guarded) -> dict[tuple[str, str], tuple[int, str, str]]:
    """Every run that only reads, then the one that deregisters, last. One after the other: they run in
    this process (support/cli.py), which has one environment."""
    runs = [*CASES, *OPTIONAL_CASES] + [(c, "") for c in COMMANDS if c != "retire --deregister"]
    found = {r: run(guarded, *r) for r in runs}
    found[("retire --deregister", "")] = run(guarded, "retire --deregister", "")
    return found


def test_every_command_has_a_documented_row() -> None:
    assert set(PERMISSIONS) == set(COMMANDS)
    assert all(needed for needed, _ in PERMISSIONS.values())


# Without one action, the command must fail. `retire --deregister` shares the dry run's actions, proven on
# the dry run's row; its own row is checked without the one it adds.
CASES = [
    (command, action)
    for command, (needed, _) in PERMISSIONS.items()
    for action in needed
    if not (command == "retire --deregister" and action in PERMISSIONS["retire"][0])
]
# Without an action read when allowed, the command still succeeds, and says what it was denied.
OPTIONAL_CASES = [
    (command, action)
    for command, (_, optional) in PERMISSIONS.items()
    for action in optional
    if command != "retire --deregister"
]


@pytest.mark.parametrize(("command", "left_out"), CASES, ids=[f"{c} without {a}" for c, a in CASES])
def test_each_documented_action_is_needed(outcomes, command: str, left_out: str) -> None:
    code, out, err = outcomes[(command, left_out)]
    # audit and retire stop (2) or report the region as failed (3); check-plan reports what it could not
    # read as an unknown finding, with the denial as its reason.
    assert code in (2, 3) or (command == "check-plan" and "unknown" in out), f"{command} succeeded without {left_out}:\n{out}{err}"
    assert DENIED.search(out + err), out + err


@pytest.mark.parametrize(("command", "left_out"), OPTIONAL_CASES, ids=[f"{c} without {a}" for c, a in OPTIONAL_CASES])
def test_without_an_action_read_when_allowed_the_command_runs_and_names_the_denial(
    outcomes, command: str, left_out: str
) -> None:
    code, out, err = outcomes[(command, left_out)]
    assert code in (0, 1), f"{command} failed without {left_out}:\n{out}{err}"
    assert left_out in out + err and DENIED.search(out + err), out + err


@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_documented_actions_are_enough(outcomes, command: str) -> None:
    code, out, err = outcomes[(command, "")]
    assert code in (0, 1), f"{command} failed with its documented permissions:\n{err}"
    assert "error" not in err and not DENIED.search(out + err), out + err
    assert out.strip()
    if command == "retire --deregister":
        assert "deregistered" in out
