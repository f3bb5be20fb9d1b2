"""`approved-amis retire` run as a command against a moto server over HTTP, on the fleet of
tests/support/audit_fleet.py plus unused AMIs shared with other accounts (SHARES, and the approved GOLDEN
one shared with an account, as a golden-image account does). Of the fleet's AMIs, only
three are used by nothing: `terminated` (its only instance is terminated), `orphan_untagged` and
`orphan_prod` (approved). Every other fleet AMI backs an instance (stopped included), a launch
template version or a launch configuration, and must never be listed or deregistered. The shared ones
are listed and kept unless --include-shared.

What the emulator does not serve (NOT_SERVED) is exercised here through its real error answers: retire
says so on each row and keeps what depended on it. Deregistration protection cannot be set on the
emulator: its decision is tested on Image data, and a test fails once the emulator serves it.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import pty
import subprocess
import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Iterator

import boto3
import jsonschema
import pytest
from botocore.config import Config
from botocore.stub import ANY, Stubber

from approved_amis import aws
from approved_amis.classify import Classification, Verdict
from approved_amis.images import Image, Reference, RetentionRule, Sharing, UsageEntry, UsageReport, image_references
from approved_amis.retire import (
    KEEP_APPROVED,
    KEEP_IN_USE,
    KEEP_PROTECTED,
    KEEP_SHARED,
    KEEP_UNKNOWN,
    TO_DEREGISTER,
    WOULD_DEREGISTER,
    Evidence,
    decide,
    launched_since,
    _usage,
    read_usage_report,
)
from support.audit_fleet import APPROVAL, Fleet, clients, cli_env, seed_fleet
from support.aws_api import emulated_apis_path, stubbed
from support.cli import CLI, run_cli
from harness.emulator import client, running_emulator

RULE = ("--tag-key", "Environment", "--tag-value", "Prod")
UNUSED = {"terminated": "unapproved", "orphan_untagged": "unapproved", "orphan_prod": "approved"}
ORGANIZATION_ARN = "arn:aws:organizations::123456789012:organization/o-a1b2c3d4e5"
OU_ARN = "arn:aws:organizations::123456789012:ou/o-a1b2c3d4e5/ou-ab12-cdef3456"
# Unused, unapproved AMIs this account shares: role -> launch permission -> what retire must say.
SHARES = {
    "shared_account": ({"UserId": "111122223333"}, "shared", ["account 111122223333"]),
    "shared_org": ({"OrganizationArn": ORGANIZATION_ARN}, "shared", [f"organization {ORGANIZATION_ARN}"]),
    "shared_ou": ({"OrganizationalUnitArn": OU_ARN}, "shared", [f"OU {OU_ARN}"]),
    "public": ({"Group": "all"}, "public", ["public"]),
}
PLAIN = ("terminated", "orphan_untagged")
# An approved AMI the golden-image account shares with a workload account: nothing launches it here.
GOLDEN = "golden"

# Served by AWS, not by the emulator (moto server answers HTTP 500). retire degrades on each and keeps
# what depends on it; test_the_emulator_does_not_serve fails once moto serves one, so this list stays true.
NOT_SERVED = {
    "ec2 DescribeImageAttribute lastLaunchedTime": lambda ec2, rbin, ami: ec2.describe_image_attribute(
        ImageId=ami, Attribute="lastLaunchedTime"
    ),
    "ec2 EnableImageDeregistrationProtection": lambda ec2, rbin, ami: ec2.enable_image_deregistration_protection(
        ImageId=ami
    ),
    "ec2 DescribeImageUsageReports": lambda ec2, rbin, ami: ec2.describe_image_usage_reports(ImageIds=[ami]),
    "ec2 CreateImageUsageReport": lambda ec2, rbin, ami: ec2.create_image_usage_report(
        ImageId=ami, ResourceTypes=[{"ResourceType": "ec2:Instance"}]
    ),
    "rbin ListRules": lambda ec2, rbin, ami: rbin.list_rules(ResourceType="EC2_IMAGE"),
}
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
            "sharing",
            "shared_with",
            "protected",
            "last_launched",
            "usage",
            "recycle_bin",
            "recycle_bin_detail",
            "kept_because",
        ],
        "properties": {
            "ami_id": {"type": "string", "pattern": "^ami-"},
            "age_days": {"type": "integer", "minimum": 0},
            "verdict": {"enum": ["approved", "unapproved", "unknown"]},
            "in_use": {"type": "boolean"},
            "sharing": {"enum": ["private", "shared", "public", "unknown"]},
            "shared_with": {"type": "array", "items": {"type": "string"}},
            "protected": {"type": "boolean"},
            "kept_because": {"type": ["string", "null"]},
            "snapshots": {"type": "array", "items": {"type": "string", "pattern": "^snap-"}},
            "snapshot_size_gib": {"type": "integer", "minimum": 0},
        },
    },
}


def seed_shares(url: str, fleet: Fleet) -> None:
    """Unused, untagged AMIs shared as SHARES says, and the approved GOLDEN one shared with an account,
    added to the fleet's images by role."""
    ec2, _ = clients(url, fleet.region)
    amazon = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    builder = ec2.run_instances(ImageId=amazon, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    for role, (permission, _, _) in SHARES.items():
        fleet.images[role] = ec2.create_image(InstanceId=builder, Name=f"fleet-{role}")["ImageId"]
        ec2.modify_image_attribute(ImageId=fleet.images[role], LaunchPermission={"Add": [permission]})
    golden = [{"ResourceType": "image", "Tags": [APPROVAL]}]
    fleet.images[GOLDEN] = ec2.create_image(InstanceId=builder, Name="fleet-golden", TagSpecifications=golden)[
        "ImageId"
    ]
    share = {"Add": [{"UserId": "111122223333"}]}
    ec2.modify_image_attribute(ImageId=fleet.images[GOLDEN], LaunchPermission=share)
    ec2.terminate_instances(InstanceIds=[builder])


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[str, dict[str, Fleet]]]:
    with running_emulator() as url:
        fleets = {region: seed_fleet(url, region) for region in ("us-east-1", "eu-west-1")}
        for fleet in fleets.values():
            seed_shares(url, fleet)
        yield url, fleets


@pytest.fixture(scope="module")
def env(seeded: tuple[str, dict[str, Fleet]]) -> dict[str, str]:
    # DescribeImageReferences, which the emulator does not serve, answered from its state (support/aws_api.py).
    return cli_env(seeded[0], PYTHONPATH=emulated_apis_path())


def owned(url: str, region: str) -> dict[str, dict[str, Any]]:
    ec2, _ = clients(url, region)
    return {image["ImageId"]: image for image in ec2.describe_images(Owners=["self"])["Images"]}


def retire(env: dict[str, str], region: str, *args: str) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    result = run_cli(env, "retire", "--region", region, *RULE, "--days", "0", "--format", "json", *args)
    return result, json.loads(result.stdout or "null")


@pytest.fixture(scope="module")
def dry_run(env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    """One dry run in us-east-1, as JSON, for the tests that only read it."""
    return retire(env, "us-east-1")


def test_lists_unused_amis_unapproved_first(
    seeded: tuple[str, dict[str, Fleet]], dry_run: tuple[subprocess.CompletedProcess[str], list[dict]]
) -> None:
    url, fleets = seeded
    fleet = fleets["us-east-1"]
    images = owned(url, "us-east-1")
    result, rows = dry_run
    assert result.returncode == 0, result.stderr
    jsonschema.validate(rows, ROW_SCHEMA)
    expected = {fleet.images[r]: v for r, v in UNUSED.items()} | {fleet.images[r]: "unapproved" for r in SHARES}
    assert {row["ami_id"]: row["verdict"] for row in rows} == expected | {fleet.images[GOLDEN]: "approved"}
    assert [row["verdict"] for row in rows] == ["unapproved"] * (len(rows) - 2) + ["approved"] * 2
    for row in rows:
        mappings = [m["Ebs"] for m in images[row["ami_id"]]["BlockDeviceMappings"] if "Ebs" in m]
        assert row["snapshots"] == [ebs["SnapshotId"] for ebs in mappings]
        assert row["snapshot_size_gib"] == sum(ebs["VolumeSize"] for ebs in mappings) > 0
        assert row["in_use"] is False
    by_id = {row["ami_id"]: row for row in rows}
    by_role = {role: by_id[fleet.images[role]] for role in [*UNUSED, *SHARES, GOLDEN]}
    assert {role: row["action"] for role, row in by_role.items()} == {
        "terminated": "would deregister",
        "orphan_untagged": "would deregister",
        "orphan_prod": "keep (approved)",
        **{role: "keep (shared)" for role in SHARES},
        GOLDEN: "keep (shared)",
    }
    assert "dry run: nothing deregistered" in result.stderr


def test_each_row_carries_its_sharing_state_and_why_it_is_kept(
    seeded: tuple[str, dict[str, Fleet]],
    env: dict[str, str],
    dry_run: tuple[subprocess.CompletedProcess[str], list[dict]],
) -> None:
    fleet = seeded[1]["us-east-1"]
    _, rows = dry_run
    by_id = {row["ami_id"]: row for row in rows}
    for role, (_, state, targets) in SHARES.items():
        row = by_id[fleet.images[role]]
        assert (row["sharing"], row["shared_with"]) == (state, targets)
        assert all(target in row["kept_because"] for target in targets)
        assert row["kept_because"].endswith("add --include-shared to retire it")
    assert by_id[fleet.images["shared_account"]]["kept_because"] == (
        "shared with account 111122223333: may be in use there; usage report unavailable (usage report: the "
        "endpoint's answer is not the API's: 500 Internal Server Error); add --include-shared to retire it"
    )
    assert by_id[fleet.images["public"]]["kept_because"].startswith("public: any account may be using it; ")
    assert by_id[fleet.images[GOLDEN]]["kept_because"] == by_id[fleet.images["shared_account"]]["kept_because"]
    for role in UNUSED:
        row = by_id[fleet.images[role]]
        assert (row["sharing"], row["shared_with"], row["protected"]) == ("private", [], False)
    assert [by_id[fleet.images[role]]["kept_because"] for role in PLAIN] == [None, None]
    assert by_id[fleet.images["orphan_prod"]]["kept_because"] == (
        "approved by tag Environment=Prod; add --include-approved to retire it"
    )

    table = run_cli(env, "retire", "--region", "us-east-1", *RULE, "--days", "0", "--format", "csv")
    assert table.returncode == 0, table.stderr
    csv_rows = {row["ami_id"]: row for row in csv.DictReader(io.StringIO(table.stdout))}
    public = csv_rows[fleet.images["public"]]
    assert (public["sharing"], public["action"]) == ("public", "keep (shared)")
    assert public["kept_because"] == by_id[fleet.images["public"]]["kept_because"]


def test_what_the_emulator_does_not_serve_is_said_on_each_row(
    seeded: tuple[str, dict[str, Fleet]], dry_run: tuple[subprocess.CompletedProcess[str], list[dict]]
) -> None:
    fleet = seeded[1]["us-east-1"]
    _, rows = dry_run
    for row in rows:
        assert row["last_launched"] == (
            "unknown: last launch: the endpoint's answer is not the API's: 500 Internal Server Error"
        ), row
        assert row["recycle_bin"] == "unknown"
        assert row["recycle_bin_detail"] == "Recycle Bin rules: ListRules: 500: 500 Internal Server Error", row
    shared = [row for row in rows if row["ami_id"] in {fleet.images[role] for role in [*SHARES, GOLDEN]}]
    assert shared and all(row["usage"].startswith("usage report unavailable (usage report:") for row in shared)
    assert all(row["usage"] == "" for row in rows if row not in shared)


@pytest.mark.parametrize("name", sorted(NOT_SERVED))
def test_the_emulator_does_not_serve(seeded: tuple[str, dict[str, Fleet]], name: str) -> None:
    url, fleets = seeded
    options = dict(
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )
    ec2, rbin = boto3.client("ec2", **options), boto3.client("rbin", **options)
    with pytest.raises(aws.AWS_ERRORS):
        NOT_SERVED[name](ec2, rbin, fleets["us-east-1"].images["orphan_prod"])


def test_the_emulator_reports_no_deregistration_protection(seeded: tuple[str, dict[str, Fleet]]) -> None:
    # Once DescribeImages carries DeregistrationProtection, the protected case belongs on the emulator.
    url, _ = seeded
    assert all("DeregistrationProtection" not in image for image in owned(url, "us-east-1").values())


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
    actions = {row["action"] for row in json.loads(result.stdout)}
    assert actions == {"not deregistered", "keep (approved)", "keep (shared)"}
    assert owned(url, "us-east-1").keys() == before.keys()


def test_deregister_touches_only_plain_unused_unapproved_amis(
    seeded: tuple[str, dict[str, Fleet]], env: dict[str, str]
) -> None:
    url, fleets = seeded
    fleet = fleets["eu-west-1"]
    before = set(owned(url, "eu-west-1"))
    shared = {fleet.images[role] for role in SHARES}
    result, rows = retire(env, "eu-west-1", "--deregister", "--yes")
    assert result.returncode == 0, result.stderr
    gone = {fleet.images[role] for role in PLAIN}
    assert {row["ami_id"] for row in rows if row["action"] == "deregistered"} == gone
    golden = fleet.images[GOLDEN]
    assert {row["ami_id"]: row["action"] for row in rows if row["ami_id"] in shared | {golden}} == dict.fromkeys(
        shared | {golden}, "keep (shared)"
    )
    assert set(owned(url, "eu-west-1")) == before - gone
    assert (
        "approved-amis: eu-west-1: Recycle Bin coverage unknown for 2 of 2 AMI(s) to deregister (Recycle Bin "
        "rules: ListRules: 500: 500 Internal Server Error): assume it cannot be undone" in result.stderr
    )

    result, rows = retire(env, "eu-west-1", "--deregister", "--yes", "--include-approved")
    assert result.returncode == 0, result.stderr
    assert [(row["ami_id"], row["action"]) for row in rows if row["action"] == "deregistered"] == [
        (fleet.images["orphan_prod"], "deregistered")
    ]
    assert {row["ami_id"]: row["action"] for row in rows}[golden] == "keep (shared)"
    assert set(owned(url, "eu-west-1")) == before - gone - {fleet.images["orphan_prod"]}

    result, rows = retire(env, "eu-west-1", "--deregister", "--yes", "--include-shared")
    assert result.returncode == 0, result.stderr
    assert {row["ami_id"]: row["action"] for row in rows} == dict.fromkeys(shared, "deregistered") | {
        golden: "keep (approved)"
    }
    assert set(owned(url, "eu-west-1")) == before - gone - {fleet.images["orphan_prod"]} - shared


def test_an_ami_that_fails_to_deregister_is_reported_and_the_run_goes_on(
    seeded: tuple[str, dict[str, Fleet]], env: dict[str, str]
) -> None:
    """Someone deregisters one of the listed AMIs while retire waits for confirmation: the emulator refuses
    retire's DeregisterImage for it, the other is still deregistered, and the exit code is 3."""
    url, fleets = seeded
    fleet = fleets["us-east-1"]
    ec2, _ = clients(url, "us-east-1")
    taken, other = fleet.images["terminated"], fleet.images["orphan_untagged"]
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [CLI, "retire", "--region", "us-east-1", *RULE, "--days", "0", "--deregister", "--format", "json"],
        env=env,
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        prompt = b""
        deadline = time.monotonic() + 60
        while b"[y/N]" not in prompt and time.monotonic() < deadline and process.poll() is None:
            prompt += os.read(process.stderr.fileno(), 4096)
        assert b"Deregister 2 AMI(s) in 1 region(s)?" in prompt, prompt
        ec2.deregister_image(ImageId=taken)
        os.write(leader, b"y\n")
        stdout, stderr = process.communicate(timeout=60)
    finally:
        os.close(follower)
        os.close(leader)
        if process.poll() is None:
            process.kill()
    assert process.returncode == 3, stderr
    actions = {row["ami_id"]: (row["action"], row["kept_because"]) for row in json.loads(stdout)}
    reason = (
        f"region us-east-1: {taken}: DeregisterImage: InvalidAMIID.Unavailable: "
        f"The image id '[{taken}]' is no longer available"
    )
    assert actions[taken] == ("failed: InvalidAMIID.Unavailable", f"deregistration failed: {reason}")
    assert actions[other] == ("deregistered", None)
    assert f"approved-amis: error: {reason}" in stderr.decode()
    assert "1 deregistered, their snapshots kept; 1 failed to deregister" in stderr.decode()
    assert other not in owned(url, "us-east-1")


################################################################################
# The decision on Image data: what the emulator cannot set (deregistration protection), and the order
################################################################################

EVERYTHING = argparse.Namespace(include_in_use=True, include_shared=True, include_approved=True, deregister=True)
NOTHING = argparse.Namespace(include_in_use=False, include_shared=False, include_approved=False, deregister=True)
UNAPPROVED = Classification(Verdict.UNAPPROVED, "tag Environment missing")
APPROVED = Classification(Verdict.APPROVED, "approved by tag Environment=Prod")


def image(**fields: Any) -> Image:
    return Image(image_id="ami-0123456789abcdef0", owner_id="123456789012", state="available", **fields)


@pytest.mark.parametrize("value", ["enabled", "enabled-with-cooldown", "disabled-until 2026-11-26T21:00:00Z"])
def test_protected_amis_are_never_attempted_whatever_the_flags(value: str) -> None:
    item = {"ImageId": "ami-0123456789abcdef0", "OwnerId": "123456789012", "DeregistrationProtection": value}
    protected = Image.from_api(item)
    assert protected.protected
    for args in (NOTHING, EVERYTHING):
        action, why = decide(protected, UNAPPROVED, False, Evidence(), args)
        assert action == KEEP_PROTECTED
        assert why is not None and why.startswith(f"deregistration protection is {value}: never attempted")


@pytest.mark.parametrize("value", ["", "disabled"])
def test_unprotected_amis_follow_the_other_rules(value: str) -> None:
    item = {"ImageId": "ami-0123456789abcdef0", "OwnerId": "123456789012"}
    plain = Image.from_api({**item, "DeregistrationProtection": value} if value else item)
    assert not plain.protected
    assert decide(plain, UNAPPROVED, False, Evidence(), NOTHING) == (TO_DEREGISTER, None)


def test_the_first_reason_to_keep_wins() -> None:
    shared = Evidence(sharing=Sharing(("account 111122223333",)))
    used_elsewhere = Evidence(
        sharing=Sharing(("account 111122223333",)),
        usage="used by account 111122223333 (2 ec2:Instance) per usage report of 2026-11-20",
        used_elsewhere=True,
    )
    unknown = Evidence(sharing=Sharing((), "launch permissions: DescribeImageAttribute: access denied"))
    dry_run = argparse.Namespace(**{**vars(NOTHING), "deregister": False})
    assert decide(image(), UNAPPROVED, False, Evidence(), dry_run) == (WOULD_DEREGISTER, None)
    assert decide(image(), UNAPPROVED, True, Evidence(), NOTHING) == (KEEP_IN_USE, "in use")
    assert decide(image(), UNAPPROVED, False, used_elsewhere, NOTHING) == (
        KEEP_IN_USE,
        "in use: used by account 111122223333 (2 ec2:Instance) per usage report of 2026-11-20",
    )
    only_shared = argparse.Namespace(**{**vars(NOTHING), "include_shared": True})
    assert decide(image(), UNAPPROVED, False, used_elsewhere, only_shared)[0] == KEEP_IN_USE
    assert decide(image(), UNAPPROVED, False, shared, NOTHING)[0] == KEEP_SHARED
    assert decide(image(), UNAPPROVED, False, unknown, NOTHING) == (
        KEEP_SHARED,
        "sharing unknown, kept as if shared (launch permissions: DescribeImageAttribute: access denied); "
        "add --include-shared to retire it",
    )
    assert decide(image(), APPROVED, False, shared, only_shared)[0] == KEEP_APPROVED
    only_approved = argparse.Namespace(**{**vars(NOTHING), "include_approved": True})
    assert decide(image(), APPROVED, False, shared, only_approved)[0] == KEEP_SHARED
    both = argparse.Namespace(**{**vars(NOTHING), "include_approved": True, "include_shared": True})
    assert decide(image(), APPROVED, False, shared, both) == (TO_DEREGISTER, None)
    assert decide(image(), APPROVED, False, shared, EVERYTHING) == (TO_DEREGISTER, None)


def test_recycle_bin_rules_cover_by_region_or_by_tag() -> None:
    tagged = image(tags={"Backup": "ami", "Team": "web"})
    region_wide = RetentionRule("abcdefghijk", "7 days", "available")
    assert region_wide.covers(tagged) and region_wide.covers(image())
    excluding = RetentionRule("abcdefghijk", "7 days", "available", exclude_tags=(("Team", ""),))
    assert not excluding.covers(tagged) and excluding.covers(image())
    by_tag = RetentionRule("abcdefghijk", "7 days", "available", resource_tags=(("Backup", "ami"),))
    assert by_tag.covers(tagged) and not by_tag.covers(image(tags={"Backup": "other"}))
    assert not RetentionRule("abcdefghijk", "7 days", "pending").covers(tagged)


def test_a_usage_report_shows_who_uses_a_shared_ami() -> None:
    report = UsageReport("ami-0123456789abcdef0", "amiur-0123456789abcdef0", "available", "2026-11-20T11:04:43+00:00")
    entries = (
        UsageEntry("444455556666", "ec2:LaunchTemplate", 1),
        UsageEntry("111122223333", "ec2:Instance", 3),
        UsageEntry("777788889999", "ec2:Instance", 0),
    )
    assert read_usage_report(replace(report, entries=entries)) == (
        "used by account 111122223333 (3 ec2:Instance), account 444455556666 (1 ec2:LaunchTemplate) "
        "per usage report of 2026-11-20T11:04:43+00:00",
        True,
    )
    assert read_usage_report(report) == (
        "no other account uses it per usage report of 2026-11-20T11:04:43+00:00",
        False,
    )
    assert read_usage_report(replace(report, state="pending")) == (
        "usage report amiur-0123456789abcdef0 pending since 2026-11-20T11:04:43+00:00",
        False,
    )
    assert read_usage_report(replace(report, state="error", state_reason="internal error")) is None


def test_a_launch_within_the_window_counts_as_use() -> None:
    cutoff = datetime(2026, 8, 27, tzinfo=timezone.utc)
    assert launched_since("2026-11-20T09:12:00Z", cutoff)
    assert launched_since("2026-08-27T00:00:00.000Z", cutoff)
    assert not launched_since("2026-08-26T23:59:59Z", cutoff)
    assert not launched_since("never", cutoff)
    assert not launched_since("unknown: last launch: access denied (UnauthorizedOperation): ...", cutoff)


def _stubbed_ec2(reports: list[dict[str, Any]]) -> tuple[Any, Any]:
    """A real EC2 client whose answers are botocore's Stubber's: the emulator serves no usage reports."""
    ec2 = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(ec2)
    stubber.add_response("describe_image_usage_reports", {"ImageUsageReports": reports})
    return ec2, stubber


def test_a_dry_run_requests_no_usage_report_unless_asked() -> None:
    ec2, stubber = _stubbed_ec2([])
    with stubber:  # any call not queued above fails the test: CreateImageUsageReport is a write
        usage = _usage(ec2, ["ami-0123456789abcdef0"], request_reports=False)
    stubber.assert_no_pending_responses()
    assert usage == {"ami-0123456789abcdef0": ("no usage report: --request-usage-reports asks AWS for one", False)}


def test_usage_reports_are_requested_with_the_flag() -> None:
    ec2, stubber = _stubbed_ec2([])
    stubber.add_response(
        "create_image_usage_report",
        {"ReportId": "amiur-0123456789abcdef0"},
        {"ImageId": "ami-0123456789abcdef0", "ResourceTypes": ANY},
    )
    with stubber:
        usage = _usage(ec2, ["ami-0123456789abcdef0"], request_reports=True)
    assert usage["ami-0123456789abcdef0"][0].startswith("usage report amiur-0123456789abcdef0 requested")


################################################################################
# What AWS says references an AMI (DescribeImageReferences)
################################################################################

PARAMETER = "/golden/web/ami"


def test_an_ami_referenced_only_by_an_ssm_parameter_is_kept(
    seeded: tuple[str, dict[str, Fleet]], env: dict[str, str]
) -> None:
    """An AMI no instance, template or configuration uses, named by an SSM parameter (a template's
    `resolve:ssm:` image): AWS's references keep it, and say by what."""
    url, _ = seeded
    region = "eu-central-1"  # a region of its own: the shared fleet stays as the other tests expect it
    ec2, _ = clients(url, region)
    amazon = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    builder = ec2.run_instances(ImageId=amazon, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    referenced = ec2.create_image(InstanceId=builder, Name="golden-web")["ImageId"]
    plain = ec2.create_image(InstanceId=builder, Name="golden-old")["ImageId"]
    ec2.terminate_instances(InstanceIds=[builder])
    ssm = client("ssm", url, region)
    ssm.put_parameter(Name=PARAMETER, Value=referenced, Type="String", DataType="aws:ec2:image")

    result, rows = retire(env, region)
    assert result.returncode == 0, result.stderr
    by_id = {row["ami_id"]: row for row in rows}
    arn = f"arn:aws:ssm:{region}:123456789012:parameter{PARAMETER}"
    assert (by_id[referenced]["action"], by_id[referenced]["kept_because"]) == (
        KEEP_IN_USE,
        f"referenced by ssm:Parameter {arn}",
    )
    assert by_id[referenced]["referenced_by"] == [f"ssm:Parameter {arn}"] and by_id[referenced]["in_use"]
    assert (by_id[plain]["action"], by_id[plain]["referenced_by"]) == (WOULD_DEREGISTER, [])


def test_without_aws_s_references_no_ami_is_taken_as_unused(seeded: tuple[str, dict[str, Fleet]]) -> None:
    """The emulator as it is (no DescribeImageReferences): every AMI that would go is kept as unknown, with
    the reason, and a deregistration run deregisters nothing."""
    url, _ = seeded
    region = "ap-southeast-2"  # AMIs of its own, whatever the other tests deregister
    ec2, _ = clients(url, region)
    amazon = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    builder = ec2.run_instances(ImageId=amazon, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    unused = [ec2.create_image(InstanceId=builder, Name=f"unused-{n}")["ImageId"] for n in range(2)]
    ec2.terminate_instances(InstanceIds=[builder])
    bare = cli_env(url)
    before = owned(url, region)
    result = run_cli(bare, "retire", "--region", region, *RULE, "--days", "0", "--format", "json", "--deregister", "--yes")
    assert result.returncode == 0, result.stderr
    rows = {row["ami_id"]: row for row in json.loads(result.stdout)}
    for ami in unused:
        row = rows[ami]
        assert row["action"] == KEEP_UNKNOWN, row
        assert row["kept_because"].startswith("whether anything references it is unknown (image references: ")
        assert row["references_unknown"].startswith("image references: ")
    assert owned(url, region).keys() == before.keys()


def test_references_are_asked_ten_images_at_a_time_for_every_resource_type() -> None:
    ids = [f"ami-{n:017x}" for n in range(12)]
    ec2, stubber = stubbed("ec2")
    arn = "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/web/1.0.0"
    stubber.add_response(
        "describe_image_references",
        {"ImageReferences": [{"ImageId": ids[3], "ResourceType": "imagebuilder:ImageRecipe", "Arn": arn}], "NextToken": "t"},
        {"ImageIds": ids[:10], "IncludeAllResourceTypes": True},
    )
    template = "arn:aws:ec2:us-east-1:123456789012:launch-template/lt-0123456789abcdef0"
    stubber.add_response(
        "describe_image_references",
        {"ImageReferences": [{"ImageId": ids[3], "ResourceType": "ec2:LaunchTemplate", "Arn": template}]},
        {"ImageIds": ids[:10], "IncludeAllResourceTypes": True, "NextToken": "t"},
    )
    stubber.add_response(
        "describe_image_references", {"ImageReferences": []}, {"ImageIds": ids[10:], "IncludeAllResourceTypes": True}
    )
    found = image_references(ec2, ids)
    stubber.assert_no_pending_responses()
    assert found[ids[3]] == [Reference("imagebuilder:ImageRecipe", arn), Reference("ec2:LaunchTemplate", template)]
    assert all(found[i] == [] for i in ids if i != ids[3])


def test_references_keep_an_ami_unless_in_use_ones_are_included() -> None:
    referenced = Evidence(references=(Reference("ssm:Parameter", "arn:aws:ssm:us-east-1:123456789012:parameter/ami"),))
    unknown = Evidence(references_error="image references: DescribeImageReferences: access denied (UnauthorizedOperation): no")
    assert decide(image(), UNAPPROVED, False, referenced, NOTHING) == (
        KEEP_IN_USE,
        "referenced by ssm:Parameter arn:aws:ssm:us-east-1:123456789012:parameter/ami",
    )
    action, why = decide(image(), UNAPPROVED, False, unknown, NOTHING)
    assert action == KEEP_UNKNOWN and why is not None and "access denied (UnauthorizedOperation)" in why
    in_use_too = argparse.Namespace(**{**vars(NOTHING), "include_in_use": True})
    assert decide(image(), UNAPPROVED, False, referenced, in_use_too) == (TO_DEREGISTER, None)
    assert decide(image(), UNAPPROVED, False, unknown, in_use_too) == (TO_DEREGISTER, None)


def test_progress_says_what_each_region_does_on_a_terminal_only() -> None:
    from approved_amis.output import Heartbeat

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, shown in ((Terminal(), True), (io.StringIO(), False)):
        with Heartbeat(stream, "retire", 2) as progress:
            progress.step("us-east-1", "weighing 3 AMI(s)")
        assert ("retire: 0 of 2 regions checked, 0 s; us-east-1 weighing 3 AMI(s)" in stream.getvalue()) is shown
