"""The organization audit under AWS's faults, as the loopback proxy of harness/latency_proxy.py makes them:
every answer late, EC2 Describe calls throttled as EC2 throttles them. The report must equal the one
made without faults; and the proxy must make the faults it claims (a benchmark on a proxy that failed to
throttle would measure nothing)."""

from __future__ import annotations

import json
import time
from typing import Iterator

import pytest
from botocore.exceptions import ClientError

from harness.emulator import assumed_credentials, client, running_emulator
from harness.latency_proxy import CALLER, LatencyProxy
from support.audit_fleet import cli_env, seed_fleet
from support.cli import run_cli

REGIONS = ("us-east-1", "eu-west-1")
ROLE = "ApprovedAmisAudit"
MEMBERS = ("dev", "prod")


@pytest.fixture(scope="module")
def proxied() -> Iterator[tuple[LatencyProxy, str, dict[str, str]]]:
    """Two emulators behind one proxy, an organization of two members seeded through it: (the proxy, its
    URL, member name -> account ID)."""
    with running_emulator() as first, running_emulator() as second:
        proxy = LatencyProxy([first, second], latency_ms=0, throttle=0)
        with proxy.serving() as url:
            organizations = client("organizations", url)
            organizations.create_organization(FeatureSet="ALL")
            accounts = {}
            for name in MEMBERS:
                status = organizations.create_account(AccountName=name, Email=f"{name}@example.com", RoleName=ROLE)
                accounts[name] = status["CreateAccountStatus"]["AccountId"]
            for account in accounts.values():
                credentials = assumed_credentials(url, account, ROLE)
                for region in REGIONS:
                    seed_fleet(url, region, credentials)
            yield proxy, url, accounts


def _audit(url: str) -> tuple[int, list[str]]:
    args = ["audit", "--organization", "--role-name", ROLE, "--regions", ",".join(REGIONS)]
    args += ["--tag-key", "Environment", "--tag-value", "Prod", "--exclude-accounts", "123456789012", "--format", "json"]
    result = run_cli(cli_env(url), *args)
    rows = sorted(json.dumps(row, sort_keys=True) for row in json.loads(result.stdout or "[]"))
    return result.returncode, rows


def test_report_under_latency_and_throttling_equals_the_report_without(proxied: tuple[LatencyProxy, str, dict[str, str]]) -> None:
    proxy, url, accounts = proxied
    proxy.latency_ms, proxy.throttle = 0, 0
    code, rows = _audit(url)
    assert code == 1 and rows
    assert {json.loads(row)["account_id"] for row in rows} == set(accounts.values())

    proxy.latency_ms, proxy.throttle = 20, 0.3
    proxy.reset_counts()
    try:
        assert _audit(url) == (code, rows)
        assert proxy.throttled > 0
        member_calls = {account for account, _ in proxy.calls if account != CALLER}
        assert member_calls == set(accounts.values())
    finally:
        proxy.latency_ms, proxy.throttle = 0, 0


def test_throttled_answer_is_ec2s(proxied: tuple[LatencyProxy, str, dict[str, str]]) -> None:
    """HTTP 503 with RequestLimitExceeded, which botocore reads as a throttling error and retries."""
    proxy, url, accounts = proxied
    ec2 = client("ec2", url, credentials=assumed_credentials(url, accounts["dev"], ROLE), retries={"mode": "standard", "max_attempts": 1})
    proxy.throttle = 1.0
    try:
        with pytest.raises(ClientError) as caught:
            ec2.describe_instances()
        assert caught.value.response["Error"]["Code"] == "RequestLimitExceeded"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        ec2.create_key_pair(KeyName="not-a-describe-call")  # answered: only Describe calls are throttled
    finally:
        proxy.throttle = 0


def test_every_answer_is_held(proxied: tuple[LatencyProxy, str, dict[str, str]]) -> None:
    proxy, url, _ = proxied
    sts = client("sts", url)
    sts.get_caller_identity()
    proxy.latency_ms = 300
    try:
        started = time.perf_counter()
        sts.get_caller_identity()
        assert time.perf_counter() - started >= 0.3
    finally:
        proxy.latency_ms = 0


def test_each_account_lives_in_one_emulator(proxied: tuple[LatencyProxy, str, dict[str, str]]) -> None:
    """Calls with a member's assumed credentials reach the emulator that holds the member, named as the
    member: what was seeded there is found again whichever credentials of the account ask."""
    proxy, url, accounts = proxied
    for account in accounts.values():
        ec2 = client("ec2", url, credentials=assumed_credentials(url, account, ROLE))
        assert ec2.describe_instances()["Reservations"]
