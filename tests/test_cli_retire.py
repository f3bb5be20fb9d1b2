"""`approved-amis retire` run as a command against a moto server over HTTP, on the fleet of
tests/audit_fleet.py. Of the AMIs this account owns there, only three are used by nothing:
`terminated` (its only instance is terminated), `orphan_untagged` and `orphan_prod` (approved).
Every other AMI backs an instance (stopped included), a launch template version or a launch
configuration, and must never be listed or deregistered.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
from typing import Any, Iterator

import jsonschema
import pytest

from audit_fleet import CLI, Fleet, clients, cli_env, run_cli, seed_fleet
from emulator import running_emulator

RULE = ("--tag-key", "Environment", "--tag-value", "Prod")
UNUSED = {"terminated": "unapproved", "orphan_untagged": "unapproved", "orphan_prod": "approved"}
ROW_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": [
            "region",
            "ami_id",
            "name",
            "creation_date",
            "age_days",
            "verdict",
            "reason",
            "in_use",
            "snapshots",
            "snapshot_size_gib",
            "action",
        ],
        "properties": {
            "ami_id": {"type": "string", "pattern": "^ami-"},
            "age_days": {"type": "integer", "minimum": 0},
            "verdict": {"enum": ["approved", "unapproved", "unknown"]},
            "in_use": {"type": "boolean"},
            "snapshots": {"type": "array", "items": {"type": "string", "pattern": "^snap-"}},
            "snapshot_size_gib": {"type": "integer", "minimum": 0},
        },
    },
}


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[str, dict[str, Fleet]]]:
    with running_emulator() as url:
        yield url, {region: seed_fleet(url, region) for region in ("us-east-1", "eu-west-1")}


@pytest.fixture(scope="module")
def env(seeded: tuple[str, dict[str, Fleet]]) -> dict[str, str]:
    return cli_env(seeded[0])


def owned(url: str, region: str) -> dict[str, dict[str, Any]]:
    ec2, _ = clients(url, region)
    return {image["ImageId"]: image for image in ec2.describe_images(Owners=["self"])["Images"]}


def retire(env: dict[str, str], region: str, *args: str) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    result = run_cli(env, "retire", "--region", region, *RULE, "--days", "0", "--format", "json", *args)
    return result, json.loads(result.stdout or "null")


def test_lists_unused_amis_unapproved_first(seeded: tuple[str, dict[str, Fleet]], env: dict[str, str]) -> None:
    url, fleets = seeded
    fleet = fleets["us-east-1"]
    images = owned(url, "us-east-1")
    result, rows = retire(env, "us-east-1")
    assert result.returncode == 0, result.stderr
    jsonschema.validate(rows, ROW_SCHEMA)
    assert {row["ami_id"]: row["verdict"] for row in rows} == {fleet.images[r]: v for r, v in UNUSED.items()}
    assert [row["verdict"] for row in rows] == ["unapproved", "unapproved", "approved"]
    for row in rows:
        mappings = [m["Ebs"] for m in images[row["ami_id"]]["BlockDeviceMappings"] if "Ebs" in m]
        assert row["snapshots"] == [ebs["SnapshotId"] for ebs in mappings]
        assert row["snapshot_size_gib"] == sum(ebs["VolumeSize"] for ebs in mappings) > 0
        assert row["in_use"] is False
    actions = {row["verdict"]: row["action"] for row in rows}
    assert actions == {"unapproved": "would deregister", "approved": "keep (approved)"}
    assert "dry run: nothing deregistered" in result.stderr


def test_dry_run_deletes_nothing(seeded: tuple[str, dict[str, Fleet]], env: dict[str, str]) -> None:
    url, _ = seeded
    before = owned(url, "us-east-1")
    table = run_cli(env, "retire", "--region", "us-east-1", *RULE, "--days", "0")
    assert table.returncode == 0
    assert table.stdout.splitlines()[0].split()[:3] == ["REGION", "AMI", "NAME"]
    assert "dry run: nothing deregistered" in table.stdout.strip().splitlines()[-1]
    assert owned(url, "us-east-1").keys() == before.keys()


def test_days_leaves_out_recent_amis(env: dict[str, str]) -> None:
    result, rows = retire(env, "us-east-1", "--days", "1")
    assert result.returncode == 0
    assert rows == []


def test_amis_in_use_only_when_asked(seeded: tuple[str, dict[str, Fleet]], env: dict[str, str]) -> None:
    fleet = seeded[1]["us-east-1"]
    result, rows = retire(env, "us-east-1", "--include-in-use")
    assert result.returncode == 0
    in_use = {row["ami_id"] for row in rows if row["in_use"]}
    used_roles = ("prod", "wrong_case", "key_case", "two_keys", "other_value", "untagged", "by_id", "stopped", "template_only")
    assert in_use == {fleet.images[role] for role in used_roles}


def test_deregister_without_confirmation_is_refused(seeded: tuple[str, dict[str, Fleet]], env: dict[str, str]) -> None:
    url, _ = seeded
    before = owned(url, "us-east-1")
    result = run_cli(env, "retire", "--region", "us-east-1", *RULE, "--days", "0", "--deregister")
    assert result.returncode == 2
    assert result.stderr.strip() == "approved-amis: error: --deregister needs confirmation: run it on a terminal, or add --yes"
    assert owned(url, "us-east-1").keys() == before.keys()


def test_declined_prompt_deregisters_nothing(seeded: tuple[str, dict[str, Fleet]], env: dict[str, str]) -> None:
    url, _ = seeded
    before = owned(url, "us-east-1")
    leader, follower = pty.openpty()
    try:
        os.write(leader, b"n\n")
        result = subprocess.run(
            [CLI, "retire", "--region", "us-east-1", *RULE, "--days", "0", "--deregister", "--format", "json"],
            env=env,
            stdin=follower,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert "Deregister 2 AMI(s) in 1 region(s)?" in result.stderr
    assert result.returncode == 0
    assert {row["action"] for row in json.loads(result.stdout)} == {"not deregistered", "keep (approved)"}
    assert owned(url, "us-east-1").keys() == before.keys()


def test_deregister_touches_only_unused_unapproved_amis(
    seeded: tuple[str, dict[str, Fleet]], env: dict[str, str]
) -> None:
    url, fleets = seeded
    fleet = fleets["eu-west-1"]
    before = set(owned(url, "eu-west-1"))
    result, rows = retire(env, "eu-west-1", "--deregister", "--yes")
    assert result.returncode == 0, result.stderr
    gone = {fleet.images["terminated"], fleet.images["orphan_untagged"]}
    assert {row["ami_id"] for row in rows if row["action"] == "deregistered"} == gone
    assert set(owned(url, "eu-west-1")) == before - gone

    result, rows = retire(env, "eu-west-1", "--deregister", "--yes", "--include-approved")
    assert result.returncode == 0, result.stderr
    assert [(row["ami_id"], row["action"]) for row in rows] == [(fleet.images["orphan_prod"], "deregistered")]
    assert set(owned(url, "eu-west-1")) == before - gone - {fleet.images["orphan_prod"]}
