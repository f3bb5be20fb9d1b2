"""`approved-amis audit --organization` against a moto server holding an organization, over HTTP.

The emulator holds the management account and four members: two with the audit role and a fleet in
two regions, one without the role, one closed (SUSPENDED). The audit role is created by
modules/audit-role, applied with Terraform in one member and copied (same policy) to the others; then
the emulator enforces IAM, so the scan succeeds only with the permissions the module grants.

The emulator's AssumeRole does not check that the role exists; AWS answers AccessDenied for a role
that is missing (or whose trust policy does not name the caller). The caller's policy stands in for that
refusal with an explicit Deny on the missing role, which gives the same error code on the same call.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest

from support.audit_fleet import ACCOUNT_ID, Fleet, cli_env, seed_fleet
from support.aws_api import emulated_apis_path, stubbed
from support.cli import run_cli
from harness.emulator import assumed_credentials, client, running_emulator
from harness.tfcli import REPO_ROOT
from harness.yaml_files import read_yaml
from support.terraform_cli import check

REGIONS = ("us-east-1", "eu-west-1")
ROLE = "ApprovedAmisAudit"
CONTRACT = read_yaml(Path(__file__).parent / "contracts" / "audit_fleet.yaml")
RULE = ("--tag-key", "Environment", "--tag-value", "Prod")
AUDITED = ("dev", "prod")  # members with the audit role and a fleet in each region
ADMIN_ROLE = "OrganizationAccountAccessRole"  # the role Organizations creates in each member


@dataclass
class Organization:
    url: str
    accounts: dict[str, str]  # name -> ID
    fleets: dict[tuple[str, str], Fleet]  # (account ID, region) -> fleet
    caller: dict[str, str]  # the auditor's access key, as environment variables


def _apply_audit_role(url: str, credentials: dict[str, str], tf_env: dict[str, str], root: Path) -> None:
    """modules/audit-role applied in one account, as its users would apply it."""
    root.mkdir()
    module = os.path.relpath(REPO_ROOT / "modules" / "audit-role", root)
    trusted = json.dumps([f"arn:aws:iam::{ACCOUNT_ID}:user/auditor"])
    (root / "main.tf").write_text(
        f'module "audit_role" {{\n  source = "{module}"\n  trusted_principal_arns = {trusted}\n}}\n'
        'output "role_name" {\n  value = module.audit_role.role_name\n}\n'
    )
    env = dict(tf_env, AWS_ENDPOINT_URL=url, **{key.upper(): value for key, value in credentials.items()})
    for command in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        check(command, root, env)


def _enforce_iam(url: str) -> None:
    request = urllib.request.Request(
        f"{url}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
    )
    urllib.request.urlopen(request, timeout=10).close()


@pytest.fixture(scope="module")
def org(tf_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Organization]:
    with running_emulator() as url:
        organizations = client("organizations", url)
        organizations.create_organization(FeatureSet="ALL")
        accounts: dict[str, str] = {}
        for name in (*AUDITED, "legacy", "closed"):
            # dev gets the role from the module; prod is created with it; legacy never has it.
            role = ROLE if name == "prod" else "OrganizationAccountAccessRole"
            status = organizations.create_account(AccountName=name, Email=f"{name}@example.com", RoleName=role)
            accounts[name] = status["CreateAccountStatus"]["AccountId"]
        organizations.close_account(AccountId=accounts["closed"])

        fleets: dict[tuple[str, str], Fleet] = {}
        for name in AUDITED:
            credentials = assumed_credentials(url, accounts[name], ADMIN_ROLE)
            for region in REGIONS:
                fleets[accounts[name], region] = seed_fleet(url, region, credentials)

        dev = assumed_credentials(url, accounts["dev"], ADMIN_ROLE)
        _apply_audit_role(url, dev, tf_env, tmp_path_factory.mktemp("audit-role") / "root")
        policy = client("iam", url, credentials=dev).get_role_policy(RoleName=ROLE, PolicyName="approved-amis-audit")
        client("iam", url, credentials=assumed_credentials(url, accounts["prod"], ADMIN_ROLE)).put_role_policy(
            RoleName=ROLE, PolicyName="approved-amis-audit", PolicyDocument=json.dumps(policy["PolicyDocument"])
        )

        iam = client("iam", url)
        iam.create_user(UserName="auditor")
        caller_policy = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "organizations:ListAccounts", "Resource": "*"},
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::*:role/{ROLE}"},
                {
                    "Sid": "AwsRefusesAMissingRole",
                    "Effect": "Deny",
                    "Action": "sts:AssumeRole",
                    "Resource": f"arn:aws:iam::{accounts['legacy']}:role/{ROLE}",
                },
            ],
        }
        iam.put_user_policy(UserName="auditor", PolicyName="audit", PolicyDocument=json.dumps(caller_policy))
        key = iam.create_access_key(UserName="auditor")["AccessKey"]
        caller = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
        _enforce_iam(url)
        yield Organization(url, accounts, fleets, caller)


@pytest.fixture(scope="module")
def env(org: Organization) -> dict[str, str]:
    env = cli_env(org.url, AWS_MAX_ATTEMPTS="2", **org.caller)
    env.pop("AWS_SESSION_TOKEN")
    return env


def audit_org(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(env, "audit", "--organization", "--role-name", ROLE, "--regions", ",".join(REGIONS), *RULE, *args)


@pytest.fixture(scope="module")
def audit(env: dict[str, str], org: Organization) -> subprocess.CompletedProcess[str]:
    by_id = [arg for fleet in org.fleets.values() for arg in ("--ami-id", fleet.images["by_id"])]
    return audit_org(env, "--exclude-accounts", ACCOUNT_ID, *by_id, "--format", "json")


@pytest.fixture(scope="module")
def findings(audit: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return json.loads(audit.stdout)


def errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("approved-amis: error:")]


################################################################################
# Every finding, with its account
################################################################################


def expected_instances(org: Organization) -> dict[tuple[str, str, str], tuple[str, dict[str, Any]]]:
    """(account, region, instance ID) -> (AMI ID, expected verdict) for every audited instance."""
    return {
        (account, region, fleet.instances[role]): (fleet.images[role], spec)
        for (account, region), fleet in org.fleets.items()
        for role, spec in CONTRACT["instances"].items()
    }


def test_every_instance_is_reported_once_with_its_account(findings: list[dict[str, Any]], org: Organization) -> None:
    expected = expected_instances(org)
    reported = {(f["account_id"], f["region"], f["resource_id"]): f for f in findings if f["resource_type"] == "instance"}
    assert sorted(reported) == sorted(expected)
    assert len(reported) == sum(1 for f in findings if f["resource_type"] == "instance")
    for key, (ami_id, spec) in expected.items():
        finding = reported[key]
        assert finding["ami_id"] == ami_id and finding["verdict"] == spec["verdict"], finding
        for fragment in spec["reason_has"]:
            assert fragment in finding["reason"], (fragment, finding)


def test_templates_and_groups_carry_their_account(findings: list[dict[str, Any]], org: Organization) -> None:
    for (account, region), fleet in org.fleets.items():
        templates = {
            f["resource_id"]: f
            for f in findings
            if (f["account_id"], f["region"], f["resource_type"]) == (account, region, "launch-template")
        }
        assert set(templates) == {f"{fleet.templates['web']}:{v}" for v in CONTRACT["launch_template_versions"]}
        for version, spec in CONTRACT["launch_template_versions"].items():
            finding = templates[f"{fleet.templates['web']}:{version}"]
            assert (finding["ami_id"], finding["verdict"]) == (fleet.images[spec["image"]], spec["verdict"])
        for group, specs in CONTRACT["auto_scaling_groups"].items():
            found = [
                f
                for f in findings
                if (f["account_id"], f["region"], f["resource_id"]) == (account, region, fleet.groups[group])
            ]
            assert sorted(f["ami_id"] for f in found) == sorted(fleet.images[s["image"]] for s in specs)


def test_missing_role_and_closed_account(
    audit: subprocess.CompletedProcess[str], findings: list[dict[str, Any]], org: Organization
) -> None:
    legacy, closed = org.accounts["legacy"], org.accounts["closed"]
    assert audit.returncode == 3, audit.stderr
    assert {f["account_id"] for f in findings} == {org.accounts[name] for name in AUDITED}
    assert len(errors(audit)) == 1, audit.stderr
    assert errors(audit)[0].startswith(
        f"approved-amis: error: account {legacy}: cannot assume arn:aws:iam::{legacy}:role/{ROLE}: "
        "AssumeRole: access denied (AccessDenied): "
    )
    counts = {v: sum(1 for f in findings if f["verdict"] == v) for v in ("approved", "unapproved", "unknown")}
    assert audit.stderr.splitlines()[-1] == (
        f"2 of 3 accounts, 4 of 6 account regions scanned, {len(findings)} AMI uses: {counts['approved']} approved, "
        f"{counts['unapproved']} unapproved, {counts['unknown']} unknown; skipped (not active): {closed} (SUSPENDED); "
        f"partial scan, failed: {legacy}"
    )


def test_table_groups_by_account_and_csv_names_it(env: dict[str, str], org: Organization) -> None:
    """Two accounts through one worker: an account's regions wait for the worker its set-up held."""
    accounts = ",".join(org.accounts[name] for name in ("prod", "dev"))
    table = audit_org(env, "--accounts", accounts, "--max-workers", "1")
    assert table.returncode == 1, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["RESOURCE", "REGION", "AMI", "VERDICT", "REASON"]
    headings = [line for line in lines if line.startswith("account ")]
    assert sorted(headings) == sorted(f"account {org.accounts[name]}" for name in ("prod", "dev"))
    # Each account's rows stand under its heading: the heading's fleet owns every instance below it.
    current = None
    for line in lines[1:]:
        if line.startswith("account "):
            current = line.split()[1]
        elif line.startswith("instance "):
            owners = {a for (a, _), fleet in org.fleets.items() if line.split()[1] in fleet.instances.values()}
            assert owners == {current}, line
    assert lines[-1].startswith("2 of 2 accounts, 4 of 4 account regions scanned, ")

    as_csv = audit_org(env, "--accounts", accounts, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert list(rows[0])[:3] == ["account_id", "resource_type", "resource_id"]
    assert {row["account_id"] for row in rows} == {org.accounts["prod"], org.accounts["dev"]}


def test_enabled_regions(env: dict[str, str], org: Organization) -> None:
    """--regions all: every region DescribeRegions reports enabled in the account's partition (the emulator
    also lists the China and GovCloud ones)."""
    prod = org.accounts["prod"]
    result = run_cli(
        env, "audit", "--organization", "--role-name", ROLE, "--accounts", prod, "--regions", "all",
        *RULE, "--format", "json",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    enabled = [
        r["RegionName"]
        for r in client("ec2", org.url, credentials=auditor_in(org, prod)).describe_regions()["Regions"]
        if r["OptInStatus"] != "not-opted-in" and not r["RegionName"].startswith(("cn-", "us-gov-"))
    ]
    assert f"1 of 1 accounts, {len(enabled)} of {len(enabled)} account regions scanned" in result.stderr
    assert {f["region"] for f in json.loads(result.stdout)} == set(REGIONS)


def test_a_failing_region_is_listed_and_the_rest_reported(env: dict[str, str], org: Organization) -> None:
    """A region of another partition, where the account's credentials are not valid (as in a region the
    account has not enabled): its error names the account and region, the other region is reported."""
    prod = org.accounts["prod"]
    result = run_cli(
        env, "audit", "--organization", "--role-name", ROLE, "--accounts", prod, "--regions", "us-east-1,cn-north-1",
        *RULE, "--format", "json",
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert {(f["account_id"], f["region"]) for f in json.loads(result.stdout)} == {(prod, "us-east-1")}
    assert len(errors(result)) == 1
    assert errors(result)[0].startswith(f"approved-amis: error: account {prod}: region cn-north-1: ")
    assert "AuthFailure" in errors(result)[0]
    summary = result.stderr.splitlines()[-1]
    assert summary.startswith("1 of 1 accounts, 1 of 2 account regions scanned, ")
    assert summary.endswith(f"; partial scan, failed: {prod}/cn-north-1")


def auditor_in(org: Organization, account_id: str) -> dict[str, str]:
    """The auditor's session in the audit role of account_id, as the emulator enforces IAM."""
    caller = {"aws_access_key_id": org.caller["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": org.caller["AWS_SECRET_ACCESS_KEY"]}
    return assumed_credentials(org.url, account_id, ROLE, caller)


def test_credentials_are_renewed_when_they_expire(org: Organization, monkeypatch: pytest.MonkeyPatch) -> None:
    """The account session assumes the role (with the external ID and the tool's session name) on first
    use, and again once its credentials near expiry."""
    import botocore.credentials

    from approved_amis import aws

    source = boto3.session.Session(
        aws_access_key_id=org.caller["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=org.caller["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    calls: list[dict[str, Any]] = []
    source.events.register("provide-client-params.sts.AssumeRole", lambda params, **_: calls.append(dict(params)))
    os.environ["AWS_ENDPOINT_URL"] = org.url
    try:
        arn = aws.role_arn("aws", org.accounts["prod"], ROLE)
        session = aws.assumed_session(source, arn, "us-east-1", external_id="approved-amis")
        credentials = session.get_credentials()
        first = credentials.get_frozen_credentials().access_key
        # 47 minutes on: the one-hour credentials are within the 15 minutes in which botocore renews them.
        now = botocore.credentials._local_now
        monkeypatch.setattr(botocore.credentials, "_local_now", lambda: now() + timedelta(minutes=47))
        monkeypatch.setattr(credentials, "_time_fetcher", botocore.credentials._local_now)
        second = credentials.get_frozen_credentials().access_key
        assert first != second
        asked = {"RoleArn": arn, "RoleSessionName": aws.ROLE_SESSION_NAME, "ExternalId": "approved-amis"}
        assert calls == [asked, asked]
        identity = aws.client(session, "sts", "us-east-1").get_caller_identity()
        assert identity["Arn"].endswith(f":assumed-role/{ROLE}/{aws.ROLE_SESSION_NAME}")
    finally:
        del os.environ["AWS_ENDPOINT_URL"]


def test_sessions_share_one_set_of_service_models() -> None:
    """Every session of a process, the caller's and each account's, reads the models of one loader (EC2's
    costs a quarter of a second of CPU to read), and that loader's search paths do not grow with the accounts."""
    from approved_amis import aws

    caller = aws.new_session(region="us-east-1")
    loader = caller._session.get_component("data_loader")
    search_paths = list(loader.search_paths)
    sessions = [aws.assumed_session(caller, aws.role_arn("aws", f"{n}" * 12, ROLE), "us-east-1") for n in range(1, 4)]
    sessions.append(aws.new_session(region="eu-west-1"))
    assert all(session._session.get_component("data_loader") is loader for session in sessions)
    assert loader.search_paths == search_paths


def test_progress_counts_accounts_on_a_terminal_only() -> None:
    from approved_amis.classify import Verdict
    from approved_amis.organization import AccountProgress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, shown in ((Terminal(), True), (io.StringIO(), False)):
        progress = AccountProgress(stream, total=2)
        progress.add(Counter({Verdict.APPROVED: 2, Verdict.UNAPPROVED: 1}), account_done=True)
        progress.clear()
        assert ("accounts 1/2 done, 3 AMI uses, 1 unapproved" in stream.getvalue()) is shown


################################################################################
# Usage errors: one line, exit 2
################################################################################


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--organization", *RULE, "--regions", "us-east-1"], "--organization needs --role-name"),
        (["--role-name", ROLE, *RULE, "--regions", "us-east-1"], "--role-name needs --organization"),
        ([*RULE, "--regions", "us-east-1", "--max-workers", "2"], "--max-workers needs --organization"),
        (["--organization", "--role-name", "bad role", *RULE, "--regions", "us-east-1"], "not an IAM role name"),
        (["--organization", "--role-name", ROLE, "--accounts", "12345", *RULE, "--regions", "us-east-1"], "'12345' is not a 12-digit"),
        (["--organization", "--role-name", ROLE, "--accounts", "999999999999", *RULE, "--regions", "us-east-1"], "--accounts: not in this organization: 999999999999"),
        (["--organization", "--role-name", ROLE, *RULE, "--regions", "all", "--region", "eu-west-1"], "--region all scans every enabled region: give it alone"),
        (["--organization", "--role-name", ROLE, *RULE, "--regions", "us-east-1,xx-east-9"], "unknown region 'xx-east-9'"),
        (["--organization", "--role-name", ROLE, *RULE, "--regions", "us-east-1", "--max-workers", "0"], "--max-workers: give 1 to"),
    ],
    ids=["no-role", "role-alone", "workers-alone", "bad-role", "bad-account", "unknown-account", "region-twice", "unknown-region", "zero-workers"],
)  # fmt: skip
def test_usage_error(args: list[str], message: str, env: dict[str, str]) -> None:
    result = run_cli(env, "audit", *args)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("approved-amis: error: ") and message in lines[0], lines


def test_the_audit_reads_accounts_by_state_as_today_s_api_answers(
    env: dict[str, str], audit: subprocess.CompletedProcess[str], org: Organization
) -> None:
    """ListAccounts without the retired `Account.Status` (removed from each answer, which botocore's model
    still validates): the same accounts are scanned and skipped, the same findings reported."""
    without = dict(env, PYTHONPATH=emulated_apis_path(), APPROVED_AMIS_TEST_WITHOUT_RETIRED_MEMBERS="1")
    by_id = [arg for fleet in org.fleets.values() for arg in ("--ami-id", fleet.images["by_id"])]
    result = audit_org(without, "--exclude-accounts", ACCOUNT_ID, *by_id, "--format", "json")
    assert result.returncode == audit.returncode == 3, result.stderr
    def rows(stdout: str) -> list[str]:  # accounts finish in any order; each account's rows come as one block
        return sorted(json.dumps(row, sort_keys=True) for row in json.loads(stdout))

    assert rows(result.stdout) == rows(audit.stdout)
    assert result.stderr.splitlines()[-1] == audit.stderr.splitlines()[-1]
    assert f"skipped (not active): {org.accounts['closed']} (SUSPENDED)" in result.stderr


def test_accounts_are_read_by_state_and_status_only_where_state_is_absent() -> None:
    from approved_amis import aws
    from approved_amis.organization import select_accounts

    organizations, stubber = stubbed("organizations")
    accounts = [
        {"Id": f"11111111111{n}", "Name": state.lower(), "State": state}
        for n, state in enumerate(("ACTIVE", "SUSPENDED", "PENDING_CLOSURE", "CLOSED"))
    ] + [{"Id": "222222222222", "Name": "older-endpoint", "Status": "ACTIVE"}]
    stubber.add_response("list_accounts", {"Accounts": accounts})

    class Session:
        def client(self, service: str, **_: Any) -> Any:
            assert service == "organizations"
            return organizations

    listed = aws.organization_accounts(Session(), "us-east-1")  # type: ignore[arg-type]
    assert [a["State"] for a in listed] == ["ACTIVE", "SUSPENDED", "PENDING_CLOSURE", "CLOSED", "ACTIVE"]
    selection = select_accounts(listed, [], [])
    assert [a.id for a in selection.accounts] == ["111111111110", "222222222222"]
    assert [(a.id, state) for a, state in selection.skipped] == [
        ("111111111111", "SUSPENDED"),
        ("111111111112", "PENDING_CLOSURE"),
        ("111111111113", "CLOSED"),
    ]
