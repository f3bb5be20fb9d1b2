"""`approved-amis audit` run as a command against moto servers over HTTP.

The fleet (tests/support/audit_fleet.py) is seeded in two regions of an emulator of this module's own; the
expected verdicts are the contract tests/contracts/audit_fleet.yaml. Region failures come from a second
emulator that enforces IAM: a user allowed to describe, one allowed nothing, and a region in another
partition, where the credentials are not valid (as in an opt-in region the account has not enabled).
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import boto3
import jsonschema
import pytest

from support.audit_fleet import ACCOUNT_ID, Fleet, cli_env, clients, seed_fleet
from support.aws_api import stubbed
from support.cli import CLI, run_cli
from harness.emulator import assumed_credentials, client, running_emulator
from harness.tfcli import REPO_ROOT
from harness.yaml_files import read_yaml
from support.terraform_cli import check

REGIONS = ("us-east-1", "eu-west-1")
CONTRACT = read_yaml(Path(__file__).parent / "contracts" / "audit_fleet.yaml")
RULE = ("--tag-key", "Environment", "--tag-value", "Prod")
FINDING_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["resource_type", "resource_id", "region", "ami_id", "verdict", "reason"],
        "additionalProperties": False,
        "properties": {
            "resource_type": {
                "enum": ["instance", "launch-template", "auto-scaling-group", "spot-instance-request",
                         "spot-fleet-request", "ec2-fleet"]
            },
            "kind": {"enum": ["ami", "floating-version", "launch-configuration", "allowed-amis", "ami-parameter"]},
            "image_allowed": {"type": "boolean"},
            "resource_id": {"type": "string", "minLength": 1},
            "region": {"enum": list(REGIONS)},
            "ami_id": {"type": ["string", "null"]},
            "verdict": {"enum": ["approved", "unapproved", "unknown"]},
            "reason": {"type": "string", "minLength": 1},
        },
    },
}


@pytest.fixture(scope="module")
def fleet_emulator() -> Iterator[tuple[str, dict[str, Fleet]]]:
    with running_emulator() as url:
        yield url, {region: seed_fleet(url, region) for region in REGIONS}


@pytest.fixture(scope="module")
def env(fleet_emulator: tuple[str, dict[str, Fleet]]) -> dict[str, str]:
    return cli_env(fleet_emulator[0])


@pytest.fixture(scope="module")
def fleets(fleet_emulator: tuple[str, dict[str, Fleet]]) -> dict[str, Fleet]:
    return fleet_emulator[1]


def by_id_flags(fleets: dict[str, Fleet]) -> list[str]:
    return [arg for fleet in fleets.values() for arg in ("--ami-id", fleet.images["by_id"])]


@pytest.fixture(scope="module")
def audit(env: dict[str, str], fleets: dict[str, Fleet]) -> subprocess.CompletedProcess[str]:
    regions = [arg for region in REGIONS for arg in ("--region", region)]
    return run_cli(env, "audit", *regions, *RULE, *by_id_flags(fleets), "--format", "json")


@pytest.fixture(scope="module")
def findings(audit: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return json.loads(audit.stdout)


def find(findings: list[dict[str, Any]], region: str, resource_type: str, resource_id: str) -> list[dict[str, Any]]:
    return [
        f
        for f in findings
        if f["region"] == region and f["resource_type"] == resource_type and f["resource_id"] == resource_id
    ]


def assert_matches(finding: dict[str, Any], expected: dict[str, Any]) -> None:
    assert finding["verdict"] == expected["verdict"], finding
    for fragment in expected["reason_has"]:
        assert fragment in finding["reason"], f"{fragment!r} not in {finding['reason']!r}"


################################################################################
# Verdicts
################################################################################


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("role", sorted(CONTRACT["instances"]))
def test_instance_verdict(role: str, region: str, findings: list[dict[str, Any]], fleets: dict[str, Fleet]) -> None:
    fleet = fleets[region]
    found = find(findings, region, "instance", fleet.instances[role])
    assert len(found) == 1, found
    assert found[0]["ami_id"] == fleet.images[role]
    assert_matches(found[0], CONTRACT["instances"][role])


def test_terminated_instance_is_not_audited(findings: list[dict[str, Any]], fleets: dict[str, Fleet]) -> None:
    for region, fleet in fleets.items():
        assert find(findings, region, "instance", fleet.instances["terminated"]) == []
    expected = {fleet.instances[role] for fleet in fleets.values() for role in CONTRACT["instances"]}
    assert {f["resource_id"] for f in findings if f["resource_type"] == "instance"} == expected


@pytest.mark.parametrize("region", REGIONS)
def test_launch_template_default_and_latest_versions(
    region: str, findings: list[dict[str, Any]], fleets: dict[str, Fleet]
) -> None:
    fleet = fleets[region]
    template = fleet.templates["web"]
    reported = {f["resource_id"]: f for f in findings if f["region"] == region and f["resource_type"] == "launch-template"}
    assert set(reported) == {f"{template}:{version}" for version in CONTRACT["launch_template_versions"]}
    for version, expected in CONTRACT["launch_template_versions"].items():
        finding = reported[f"{template}:{version}"]
        assert finding["ami_id"] == fleet.images[expected["image"]]
        assert_matches(finding, expected)


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("group", sorted(CONTRACT["auto_scaling_groups"]))
def test_auto_scaling_group_uses(
    group: str, region: str, findings: list[dict[str, Any]], fleets: dict[str, Fleet]
) -> None:
    fleet = fleets[region]
    found = sorted(find(findings, region, "auto-scaling-group", fleet.groups[group]), key=lambda f: (f["kind"], f["ami_id"]))
    expected = sorted(
        CONTRACT["auto_scaling_groups"][group], key=lambda e: (e.get("kind", "ami"), fleet.images[e["image"]])
    )
    assert [(f["kind"], f["ami_id"]) for f in found] == [(e.get("kind", "ami"), fleet.images[e["image"]]) for e in expected]
    for finding, spec in zip(found, expected):
        assert_matches(finding, spec)


def test_owner_approves_what_the_tag_cannot(env: dict[str, str], fleets: dict[str, Fleet]) -> None:
    result = run_cli(
        env, "audit", "--region", "us-east-1", *RULE, "--owner", ACCOUNT_ID, "--owner", "amazon", "--format", "json"
    )
    assert result.returncode == 1, result.stderr  # the exposed groups (their own kind) still fail
    findings = json.loads(result.stdout)
    shared = find(findings, "us-east-1", "instance", fleets["us-east-1"].instances["shared"])
    assert shared[0]["verdict"] == "approved" and "owner amazon" in shared[0]["reason"]
    untagged = find(findings, "us-east-1", "instance", fleets["us-east-1"].instances["untagged"])
    assert untagged[0]["verdict"] == "approved" and f"owner {ACCOUNT_ID}" in untagged[0]["reason"]
    assert {f["verdict"] for f in findings if f["kind"] == "ami"} == {"approved", "unknown"}  # the deregistered AMI stays unknown
    # No owner approves a group on $Latest/$Default or a launch configuration whose AMI is not approved by ID.
    assert {f["verdict"] for f in findings if f["kind"] != "ami"} == {"unapproved"}


def test_the_emulator_shares_no_images_between_accounts(fleet_emulator: tuple[str, dict[str, Fleet]]) -> None:
    """The fleet's AMIs owned elsewhere are Amazon's public ones because moto keeps each account's images
    apart: an AMI another account shares with this one is not visible here. When this fails, the emulator
    serves sharing, and the fleet should hold a shared AMI, untagged and tagged by this account."""
    url, _ = fleet_emulator
    publisher = "444455556666"
    other = client("ec2", url, credentials=assumed_credentials(url, publisher, "publisher"))
    image_id = other.register_image(Name="shared-with-the-fleet", RootDeviceName="/dev/xvda")["ImageId"]
    other.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": ACCOUNT_ID}]})
    assert [i["OwnerId"] for i in other.describe_images(ImageIds=[image_id])["Images"]] == [publisher]
    ec2, _ = clients(url, "us-east-1")
    assert ec2.describe_images(Owners=[publisher])["Images"] == []
    assert ec2.describe_images(ExecutableUsers=["self"], Filters=[{"Name": "image-id", "Values": [image_id]}])["Images"] == []


def test_describe_images_survives_missing_ids(fleet_emulator: tuple[str, dict[str, Fleet]]) -> None:
    """Unknown and malformed IDs, alone in a batch (the call fails naming them) or mixed with real ones
    (left out of the answer), come back as None; every real image is still described, in batches."""
    from approved_amis.images import DESCRIBE_IMAGES_BATCH_SIZE, describe_images

    url, fleets = fleet_emulator
    ec2, _ = clients(url, "us-east-1")
    calls: list[int] = []
    ec2.meta.events.register(
        "provide-client-params.ec2.DescribeImages", lambda params, **_: calls.append(len(params["ImageIds"]))
    )
    real = [fleets["us-east-1"].images[role] for role in ("prod", "untagged", "wrong_case")]
    gone = [fleets["us-east-1"].images["deregistered"], "ami-bad", *[f"ami-{n:017x}" for n in range(1, 120)]]
    ids = [*gone[: DESCRIBE_IMAGES_BATCH_SIZE + 1], *real, *gone[DESCRIBE_IMAGES_BATCH_SIZE + 1 :]]
    found = describe_images(ec2, ids)
    assert list(found) == ids
    assert {ami_id for ami_id, image in found.items() if image is not None} == set(real)
    assert all(found[ami_id].image_id == ami_id for ami_id in real)
    # Two batches: the first holds only missing IDs, and its call fails naming them.
    assert calls == [DESCRIBE_IMAGES_BATCH_SIZE, len(ids) - DESCRIBE_IMAGES_BATCH_SIZE]


def test_the_classifier_describes_each_ami_once_per_region(fleet_emulator: tuple[str, dict[str, Fleet]]) -> None:
    """The verdict path of audit, check-plan and retire: a region's AMIs described in one batch, each one
    once however often it is asked for, images already described never asked for; a missing AMI's
    reason ends with the caller's note."""
    from approved_amis.classify import Classifier, Verdict
    from approved_amis.images import describe_images
    from approved_amis.rule import ApprovalRule

    url, fleets = fleet_emulator
    images = fleets["us-east-1"].images
    ec2, _ = clients(url, "us-east-1")
    calls: list[list[str]] = []
    ec2.meta.events.register(
        "provide-client-params.ec2.DescribeImages", lambda params, **_: calls.append(params["ImageIds"])
    )
    classifier = Classifier(ec2, ApprovalRule("Environment", ("Prod",)), ACCOUNT_ID, " (searched us-east-1)")
    first = classifier([images["prod"], images["untagged"], images["prod"], images["deregistered"]])
    assert calls == [[images["prod"], images["untagged"], images["deregistered"]]]
    assert first[images["prod"]].verdict is Verdict.APPROVED
    assert first[images["untagged"]].verdict is Verdict.UNAPPROVED
    assert first[images["deregistered"]].verdict is Verdict.UNKNOWN
    assert first[images["deregistered"]].reason == (
        "AMI not found: deregistered, never existed, or not shared with this account (searched us-east-1)"
    )
    assert not first[images["untagged"]].reason.endswith("(searched us-east-1)")
    classifier([images["untagged"], images["wrong_case"]])
    assert calls[1:] == [[images["wrong_case"]]]
    described = describe_images(ec2, [images["stopped"]])
    calls.clear()
    verdicts = classifier.described(image for image in described.values() if image is not None)
    assert calls == [] and verdicts[images["stopped"]].verdict is Verdict.UNAPPROVED


################################################################################
# Output and exit codes
################################################################################


def test_json_findings_follow_the_schema(findings: list[dict[str, Any]]) -> None:
    jsonschema.validate(findings, FINDING_SCHEMA)
    assert {f["region"] for f in findings} == set(REGIONS)


def test_unapproved_uses_exit_1_with_a_summary(audit: subprocess.CompletedProcess[str], findings: list) -> None:
    assert audit.returncode == 1, audit.stderr
    counts = {v: sum(1 for f in findings if f["verdict"] == v) for v in ("approved", "unapproved", "unknown")}
    summary = audit.stderr.strip().splitlines()[-1]
    assert summary == (
        f"2 of 2 regions scanned, {len(findings)} AMI uses: {counts['approved']} approved, "
        f"{counts['unapproved']} unapproved, {counts['unknown']} unknown"
    )


def test_the_console_script_reports_what_the_entry_point_reports(env: dict[str, str]) -> None:
    """The installed `approved-amis`, run as a process, gives the exit code, findings and summary of the
    in-process run the other tests make (support/cli.py)."""
    args = ["audit", "--region", "eu-west-1", *RULE, "--format", "json"]
    process = subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=120, check=False)
    in_process = run_cli(env, *args)

    def rows(stdout: str) -> list[str]:
        return sorted(json.dumps(row, sort_keys=True) for row in json.loads(stdout))

    assert process.returncode == in_process.returncode == 1, process.stderr
    assert rows(process.stdout) == rows(in_process.stdout) != []
    assert process.stderr == in_process.stderr


def test_unknown_fails_only_when_asked(env: dict[str, str], fleet_emulator: tuple[str, dict[str, Fleet]]) -> None:
    # A region without the groups that follow $Latest/$Default or use a launch configuration, which no
    # owner approves: what is left under this rule is approved or unknown.
    region = "ap-southeast-2"
    seed_fleet(fleet_emulator[0], region)
    _, autoscaling = clients(fleet_emulator[0], region)
    for group in ("fleet-mixed", "fleet-legacy"):
        autoscaling.delete_auto_scaling_group(AutoScalingGroupName=group, ForceDelete=True)
    rule = (*RULE, "--owner", ACCOUNT_ID, "--owner", "amazon")
    assert run_cli(env, "audit", "--region", region, *rule).returncode == 0
    assert run_cli(env, "audit", "--region", region, *rule, "--fail-on", "unknown").returncode == 1


def test_table_and_csv_formats(env: dict[str, str], fleets: dict[str, Fleet]) -> None:
    table = run_cli(env, "audit", "--region", "eu-west-1", *RULE)
    lines = table.stdout.strip().splitlines()
    assert lines[0].split() == ["RESOURCE", "REGION", "AMI", "VERDICT", "REASON"]
    assert lines[-1].startswith("1 of 1 regions scanned, ") and " unapproved, " in lines[-1]
    row = next(line for line in lines if fleets["eu-west-1"].instances["wrong_case"] in line)
    assert "unapproved" in row.split() and fleets["eu-west-1"].images["wrong_case"] in row.split()

    as_csv = run_cli(env, "audit", "--region", "eu-west-1", *RULE, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert list(rows[0]) == ["resource_type", "resource_id", "kind", "region", "ami_id", "verdict", "reason"]
    assert len(rows) == len(lines) - 3  # header, blank line, summary
    assert as_csv.returncode == table.returncode == 1


def test_rule_from_terraform_outputs(
    env: dict[str, str], fleets: dict[str, Fleet], tf_env: dict[str, str], tmp_path: Path
) -> None:
    """The rule applied by Terraform gives the verdicts that the same rule given as flags gives."""
    # A relative module source keeps the module local (an absolute one is linked, and breaks its paths).
    fixture = REPO_ROOT / "tests" / "fixtures" / "approval-rule-root"
    root = tmp_path / "root"
    root.mkdir()
    module = os.path.relpath(REPO_ROOT / "modules" / "approval-rule", root)
    (root / "main.tf").write_text((fixture / "main.tf").read_text().replace("../../../modules/approval-rule", module))
    ami_id = fleets["us-east-1"].images["by_id"]
    apply = ["apply", "-auto-approve", "-input=false", f"-var=approved_ami_ids={json.dumps([ami_id])}"]
    for command in (["init", "-input=false"], apply):
        check(command, root, tf_env)
    from_terraform = run_cli(env, "audit", "--region", "us-east-1", "--from-terraform", str(root), "--format", "json")
    from_flags = run_cli(env, "audit", "--region", "us-east-1", *RULE, "--ami-id", ami_id, "--format", "json")
    assert from_terraform.returncode == from_flags.returncode == 1, from_terraform.stderr
    assert from_terraform.stdout == from_flags.stdout
    by_id = find(json.loads(from_terraform.stdout), "us-east-1", "instance", fleets["us-east-1"].instances["by_id"])
    assert by_id[0]["verdict"] == "approved"


################################################################################
# Usage errors: one line, exit 2
################################################################################


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--region", "us-east-1"], "no approval rule: give --tag-key and --tag-value, or --from-terraform DIR"),
        (["--region", "us-east-1", "--tag-key", "Environment"], "no approval tag value"),
        (["--region", "us-east-1", *RULE, "--from-terraform", "."], "either as flags or with --from-terraform"),
        (["--region", "xx-fake-1", *RULE], "unknown region 'xx-fake-1'"),
        (["--region", "us-east-1", "--from-terraform", "/nonexistent"], "not a directory"),
    ],
    ids=["no-rule", "no-value", "rule-twice", "unknown-region", "no-terraform-root"],
)
def test_usage_error(args: list[str], message: str, env: dict[str, str]) -> None:
    result = run_cli(env, "audit", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("approved-amis: error: ")
    assert message in lines[0]


def test_no_credentials(env: dict[str, str]) -> None:
    bare = {k: v for k, v in env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
    result = run_cli(bare, "audit", "--region", "us-east-1", *RULE)
    assert result.returncode == 2
    assert result.stderr.startswith("approved-amis: error: no AWS credentials found")
    assert len(result.stderr.strip().splitlines()) == 1


def test_retries_back_off_for_throttling() -> None:
    from approved_amis import aws

    session = boto3.session.Session(aws_access_key_id="a", aws_secret_access_key="b", region_name="us-east-1")
    retries = aws.client(session, "ec2", "us-east-1").meta.config.retries
    assert retries["mode"] in ("adaptive", "standard") and retries["total_max_attempts"] >= 5


################################################################################
# Progress: on a terminal only
################################################################################


def test_progress_only_on_a_terminal(env: dict[str, str]) -> None:
    args = [CLI, "audit", "--region", "us-east-1", *RULE, "--format", "json"]
    piped = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    assert "scanning:" not in piped.stderr

    leader, follower = pty.openpty()
    try:
        on_tty = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=follower, text=True, check=False)
        os.close(follower)
        follower = -1
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    assert b"scanning: us-east-1" in shown
    assert json.loads(on_tty.stdout) == json.loads(piped.stdout)


################################################################################
# Region failures: the other regions are still reported
################################################################################


@pytest.fixture(scope="module")
def guarded_emulator() -> Iterator[tuple[str, dict[str, dict[str, str]], Fleet]]:
    """An emulator enforcing IAM, with an auditor allowed to describe and a user allowed nothing else."""
    with running_emulator() as url:
        fleet = seed_fleet(url, "us-east-1")
        iam = client("iam", url)
        keys = {}
        for user, actions in (("auditor", ["ec2:Describe*", "autoscaling:Describe*"]), ("nobody", ["s3:List*"])):
            iam.create_user(UserName=user)
            statement = {"Effect": "Allow", "Action": actions, "Resource": "*"}
            iam.put_user_policy(
                UserName=user,
                PolicyName="audit",
                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
            )
            key = iam.create_access_key(UserName=user)["AccessKey"]
            keys[user] = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
        enforce = urllib.request.Request(
            f"{url}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
        )
        urllib.request.urlopen(enforce, timeout=10).close()
        yield url, keys, fleet


def guarded_env(url: str, key: dict[str, str]) -> dict[str, str]:
    env = cli_env(url, AWS_MAX_ATTEMPTS="2", **key)
    env.pop("AWS_SESSION_TOKEN")
    return env


def test_one_region_failing_gives_a_partial_scan(guarded_emulator: tuple[str, dict, Fleet]) -> None:
    url, keys, fleet = guarded_emulator
    env = guarded_env(url, keys["auditor"])
    result = run_cli(env, "audit", "--region", "us-east-1", "--region", "cn-north-1", *RULE, "--format", "json")
    assert result.returncode == 3, result.stderr
    findings = json.loads(result.stdout)
    assert {f["region"] for f in findings} == {"us-east-1"}
    assert find(findings, "us-east-1", "instance", fleet.instances["untagged"])[0]["verdict"] == "unapproved"
    errors = [line for line in result.stderr.splitlines() if line.startswith("approved-amis: error:")]
    assert len(errors) == 1 and "region cn-north-1" in errors[0] and "AuthFailure" in errors[0]
    assert "partial scan, failed: cn-north-1" in result.stderr.splitlines()[-1]


def test_access_denied_everywhere_is_an_error(guarded_emulator: tuple[str, dict, Fleet]) -> None:
    url, keys, _ = guarded_emulator
    result = run_cli(guarded_env(url, keys["nobody"]), "audit", "--region", "us-east-1", *RULE, "--format", "json")
    assert result.returncode == 2
    assert json.loads(result.stdout) == []
    errors = [line for line in result.stderr.splitlines() if line.startswith("approved-amis: error:")]
    assert len(errors) == 1 and "region us-east-1" in errors[0] and "access denied (AccessDenied)" in errors[0]


################################################################################
# Allowed AMIs: AWS's own verdict beside the rule's (answers the emulator does not give, validated by Stubber)
################################################################################

ALLOWED_IMAGES = {
    # AMI -> (tagged Prod, ImageAllowed)
    "ami-0aaaaaaaaaaaaaaa1": (True, False),
    "ami-0aaaaaaaaaaaaaaa2": (False, True),
    "ami-0aaaaaaaaaaaaaaa3": (True, True),
}


def _allowed_region(state: str | None, images: dict[str, tuple[bool, bool]], instances: dict[str, str]) -> list[dict]:
    """scan_region on stubbed clients: the region's Allowed AMIs state, then one instance per entry of `instances`."""
    from approved_amis.audit import scan_region
    from approved_amis.rule import ApprovalRule

    ec2, ec2_stub = stubbed("ec2")
    autoscaling, autoscaling_stub = stubbed("autoscaling")
    if state is None:
        ec2_stub.add_client_error("get_allowed_images_settings", "UnauthorizedOperation", "not authorized", 403)
    else:
        ec2_stub.add_response("get_allowed_images_settings", {"State": state, "ManagedBy": "account"})
    ec2_stub.add_response("describe_launch_template_versions", {"LaunchTemplateVersions": []})
    autoscaling_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": []})
    reservation = {"Instances": [{"InstanceId": i, "ImageId": ami} for i, ami in instances.items()]}
    ec2_stub.add_response("describe_instances", {"Reservations": [reservation]})
    described = [
        {
            "ImageId": ami,
            "OwnerId": "111122223333",
            "State": "available",
            "Tags": [{"Key": "Environment", "Value": "Prod"}] if tagged else [],
            "ImageAllowed": allowed,
        }
        for ami, (tagged, allowed) in images.items()
    ]
    ec2_stub.add_response("describe_images", {"Images": described})
    ec2_stub.add_response("describe_spot_instance_requests", {"SpotInstanceRequests": []})
    ec2_stub.add_response("describe_spot_fleet_requests", {"SpotFleetRequestConfigs": []})
    ec2_stub.add_response("describe_fleets", {"Fleets": []})
    rows: list[dict] = []
    result = scan_region(
        "us-east-1",
        {"ec2": ec2, "autoscaling": autoscaling},
        ApprovalRule("Environment", ("Prod",)),
        "111122223333",
        lambda page: rows.extend(finding.to_dict() for finding in page),
        None,
    )
    assert result.error is None
    ec2_stub.assert_no_pending_responses()
    return rows


def test_in_audit_mode_aws_s_verdict_is_shown_and_each_disagreement_is_its_own_finding() -> None:
    instances = {f"i-0{n}{'0' * 15}": ami for n, ami in enumerate(ALLOWED_IMAGES, start=1)}
    rows = _allowed_region("audit-mode", ALLOWED_IMAGES, instances)
    jsonschema.validate(rows, {**FINDING_SCHEMA, "items": {**FINDING_SCHEMA["items"], "properties": {**FINDING_SCHEMA["items"]["properties"], "region": {"const": "us-east-1"}}}})
    ami = [(r["ami_id"], r["verdict"], r["image_allowed"]) for r in rows if r["kind"] == "ami"]
    assert ami == [
        ("ami-0aaaaaaaaaaaaaaa1", "approved", False),
        ("ami-0aaaaaaaaaaaaaaa2", "unapproved", True),
        ("ami-0aaaaaaaaaaaaaaa3", "approved", True),
    ]
    disagreements = [r for r in rows if r["kind"] == "allowed-amis"]
    assert [(r["ami_id"], r["verdict"]) for r in disagreements] == [
        ("ami-0aaaaaaaaaaaaaaa1", "unapproved"),
        ("ami-0aaaaaaaaaaaaaaa2", "approved"),
    ]
    assert disagreements[0]["reason"] == (
        "Allowed AMIs (audit-mode) does not allow this AMI, the approval rule says approved: approved by tag Environment=Prod"
    )


def test_with_allowed_amis_enabled_an_image_describe_images_hides_is_not_called_deregistered() -> None:
    hidden = "ami-0bbbbbbbbbbbbbbb1"
    rows = _allowed_region("enabled", {}, {"i-0100000000000000a": hidden})
    (row,) = rows
    assert (row["verdict"], row["kind"]) == ("unknown", "ami") and "image_allowed" not in row
    assert "Allowed AMIs is enabled in this region and hides the AMIs it does not allow" in row["reason"]


@pytest.mark.parametrize("state", ["disabled", None])
def test_without_allowed_amis_reporting_the_rule_alone_decides(state: str | None) -> None:
    instances = {"i-0100000000000000a": "ami-0aaaaaaaaaaaaaaa1"}
    rows = _allowed_region(state, {"ami-0aaaaaaaaaaaaaaa1": ALLOWED_IMAGES["ami-0aaaaaaaaaaaaaaa1"]}, instances)
    assert [(r["kind"], r["verdict"], "image_allowed" in r) for r in rows] == [("ami", "approved", False)]


################################################################################
# A misspelt --tag-key: said once, with the nearest key the AMIs carry
################################################################################


def test_a_tag_key_no_ami_carries_is_said_once_with_the_nearest_key(env: dict[str, str]) -> None:
    result = run_cli(env, "audit", "--region", "us-east-1", "--tag-key", "Enviroment", "--tag-value", "Prod", "--format", "json")
    assert result.returncode == 1, result.stderr
    notes = [line for line in result.stderr.splitlines() if "note:" in line]
    assert notes == [
        "approved-amis: note: no AMI in scope carries the tag key Enviroment in any letter case; did you mean Environment?"
    ]
    right = run_cli(env, "audit", "--region", "us-east-1", "--tag-key", "ENVIRONMENT", "--tag-value", "Prod", "--format", "json")
    assert "note:" not in right.stderr


def test_the_hint_names_the_nearest_key_or_the_keys_found() -> None:
    from approved_amis.audit import tag_key_hint

    assert tag_key_hint("Enviroment", {"Environment", "Name"}).endswith("did you mean Environment?")
    assert tag_key_hint("environment", {"Environment"}) is None
    assert tag_key_hint("Owner", {"Team", "Name"}).endswith("keys found: Name, Team")
    assert tag_key_hint("Owner", set()) is None



################################################################################
# Templates whose image is an SSM parameter: only the publishers' parameters (--ami-parameter-path)
################################################################################


def test_a_template_resolving_a_parameter_outside_the_paths_is_an_ami_parameter_finding() -> None:
    from approved_amis.audit import scan_region
    from approved_amis.rule import ApprovalRule

    ec2, ec2_stub = stubbed("ec2")
    autoscaling, autoscaling_stub = stubbed("autoscaling")
    ec2_stub.add_client_error("get_allowed_images_settings", "UnauthorizedOperation", "not authorized", 403)
    resolved = [
        {"LaunchTemplateId": "lt-0aaaaaaaaaaaaaaa1", "VersionNumber": 1, "DefaultVersion": True, "LaunchTemplateData": {"ImageId": "ami-0aaaaaaaaaaaaaaa1"}},
        {"LaunchTemplateId": "lt-0aaaaaaaaaaaaaaa2", "VersionNumber": 4, "DefaultVersion": True, "LaunchTemplateData": {"ImageId": "ami-0aaaaaaaaaaaaaaa2"}},
    ]
    ec2_stub.add_response("describe_launch_template_versions", {"LaunchTemplateVersions": resolved}, {"Versions": ["$Latest", "$Default"], "ResolveAlias": True})
    images = [
        {"ImageId": f"ami-0aaaaaaaaaaaaaaa{n}", "OwnerId": "111122223333", "State": "available", "Tags": [{"Key": "Environment", "Value": "Prod"}]}
        for n in (1, 2)
    ]
    ec2_stub.add_response("describe_images", {"Images": images})
    autoscaling_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": []})
    ec2_stub.add_response("describe_instances", {"Reservations": []})
    ec2_stub.add_response("describe_spot_instance_requests", {"SpotInstanceRequests": []})
    ec2_stub.add_response("describe_spot_fleet_requests", {"SpotFleetRequestConfigs": []})
    ec2_stub.add_response("describe_fleets", {"Fleets": []})
    written = [
        {"LaunchTemplateId": "lt-0aaaaaaaaaaaaaaa1", "VersionNumber": 1, "LaunchTemplateData": {"ImageId": "resolve:ssm:/golden-ami/web:3"}},
        {"LaunchTemplateId": "lt-0aaaaaaaaaaaaaaa2", "VersionNumber": 4, "LaunchTemplateData": {"ImageId": "resolve:ssm:/team/latest-web"}},
    ]
    ec2_stub.add_response("describe_launch_template_versions", {"LaunchTemplateVersions": written}, {"Versions": ["$Latest", "$Default"], "ResolveAlias": False})
    rows: list[dict] = []
    rule = ApprovalRule("Environment", ("Prod",), ami_parameter_paths=("/golden-ami/*",))
    scan_region("us-east-1", {"ec2": ec2, "autoscaling": autoscaling}, rule, "111122223333", lambda page: rows.extend(f.to_dict() for f in page), None)
    ec2_stub.assert_no_pending_responses()
    parameters = [(r["resource_id"], r["verdict"], r["reason"]) for r in rows if r.get("kind") == "ami-parameter"]
    assert parameters == [
        ("lt-0aaaaaaaaaaaaaaa1:1", "approved", "image resolve:ssm:/golden-ami/web:3, a publisher's parameter (ami_parameter_paths)"),
        (
            "lt-0aaaaaaaaaaaaaaa2:4",
            "unapproved",
            "image resolve:ssm:/team/latest-web: a parameter outside ami_parameter_paths (--ami-parameter-path), which "
            "anyone allowed to put it can point at another AMI after the template is checked",
        ),
    ]


def test_of_keys_differing_only_in_case_the_hint_names_the_capitalised_one() -> None:
    from approved_amis.audit import tag_key_hint

    assert tag_key_hint("Enviroment", {"environment", "Environment"}).endswith("did you mean Environment?")
