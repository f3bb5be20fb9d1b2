"""Across an AWS Organization: which accounts to scan, a session per account acting as the audit role,
and the account × region fan-out, bounded, streaming each account's findings as one block.

Memory stays flat in the number of accounts: at most `workers` accounts are in flight, each account's
findings wait in a spool file (on disk beyond 1 MiB) until its last region is done, and only counts are
kept once an account is written out.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from approved_amis import aws
from approved_amis.classify import Verdict
from approved_amis.fanout import (
    DEFAULT_ORGANIZATION_WORKERS,
    MAX_ORGANIZATION_WORKERS,
    FanOut,
    failures_note,
)
from approved_amis.output import Finding, StatusLine, Writer, verdict_summary

ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
SPOOL_IN_MEMORY_BYTES = 1 << 20


class RegionOutcome(Protocol):
    counts: Counter[Verdict]
    error: str | None


# scan(region, clients, account_id, emit) -> the region's verdict counts and error
RegionScan = Callable[[str, dict[str, Any], str, Callable[[list[Finding]], None]], RegionOutcome]


@dataclass(frozen=True)
class Account:
    id: str
    name: str = ""


@dataclass(frozen=True)
class Selection:
    accounts: list[Account]
    skipped: list[tuple[Account, str]]  # not ACTIVE, with the state


def parse_account_ids(value: str, flag: str) -> list[str]:
    """`111111111111,222222222222` as a list; a UsageError naming the first ID that is not 12 digits."""
    ids = [part.strip() for part in value.split(",") if part.strip()]
    if not ids:
        raise aws.UsageError(f"{flag}: give one or more 12-digit account IDs, comma-separated")
    for account_id in ids:
        if not aws.ACCOUNT_ID.match(account_id):
            raise aws.UsageError(f"{flag}: {account_id!r} is not a 12-digit account ID")
    return list(dict.fromkeys(ids))


def select_accounts(listed: list[dict[str, str]], only: list[str], exclude: list[str]) -> Selection:
    """ACTIVE accounts of the organization, narrowed by --accounts and --exclude-accounts, in their order.
    An ID in either flag that is not in the organization is a UsageError (a typo would scan too much or
    too little in silence)."""
    known = {a["Id"] for a in listed}
    for flag, ids in (("--accounts", only), ("--exclude-accounts", exclude)):
        unknown = [account_id for account_id in ids if account_id not in known]
        if unknown:
            raise aws.UsageError(f"{flag}: not in this organization: {', '.join(unknown)}")
    chosen = [a for a in listed if (not only or a["Id"] in only) and a["Id"] not in exclude]
    return Selection(
        accounts=[Account(a["Id"], a["Name"]) for a in chosen if a["State"] == aws.ACTIVE_ACCOUNT_STATE],
        skipped=[
            (Account(a["Id"], a["Name"]), a["State"] or "state unknown")
            for a in chosen
            if a["State"] != aws.ACTIVE_ACCOUNT_STATE
        ],
    )


@dataclass(frozen=True)
class Flags:
    """The organization flags of `audit`, checked."""

    role_name: str
    external_id: str | None
    workers: int
    only: list[str]
    exclude: list[str]


FLAG_NAMES = (
    ("--role-name", "role_name"),
    ("--accounts", "accounts"),
    ("--exclude-accounts", "exclude_accounts"),
    ("--external-id", "external_id"),
    ("--max-workers", "max_workers"),
)


def check_flags(args: Any) -> Flags | None:
    """The organization flags, checked (None without --organization); a UsageError naming the first wrong one."""
    if not args.organization:
        given = [flag for flag, name in FLAG_NAMES if getattr(args, name) is not None]
        if given:
            raise aws.UsageError(f"{given[0]} needs --organization")
        return None
    if not args.role_name:
        raise aws.UsageError("--organization needs --role-name, the audit role in every member account")
    if not ROLE_NAME.match(args.role_name):
        raise aws.UsageError(f"--role-name: {args.role_name!r} is not an IAM role name (1-64 of A-Z a-z 0-9 +=,.@_-)")
    if args.external_id is not None and not EXTERNAL_ID.match(args.external_id):
        raise aws.UsageError("--external-id: 2 to 1224 characters of A-Z a-z 0-9 +=,.@:/_-")
    workers = DEFAULT_ORGANIZATION_WORKERS if args.max_workers is None else args.max_workers
    if not MAX_ORGANIZATION_WORKERS >= workers >= 1:
        raise aws.UsageError(f"--max-workers: give 1 to {MAX_ORGANIZATION_WORKERS}")
    return Flags(
        role_name=args.role_name,
        external_id=args.external_id,
        workers=workers,
        only=parse_account_ids(args.accounts, "--accounts") if args.accounts is not None else [],
        exclude=(
            parse_account_ids(args.exclude_accounts, "--exclude-accounts") if args.exclude_accounts is not None else []
        ),
    )


################################################################################
# One account: its findings spool, its results
################################################################################


@dataclass
class AccountResult:
    account: Account
    regions: list[str] = field(default_factory=list)
    failed_regions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    counts: Counter[Verdict] = field(default_factory=Counter)
    error: str | None = None  # the account as a whole failed (role not assumed, regions not listed)

    @property
    def scanned_regions(self) -> int:
        return len(self.regions) - len(self.failed_regions)


class Spool:
    """One account's findings, as JSON lines, in memory up to 1 MiB and on disk beyond."""

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES, mode="w+", encoding="utf-8")
        self._lock = threading.Lock()

    def add(self, page: list[Finding]) -> None:
        with self._lock:
            for finding in page:
                self._file.write(json.dumps(finding.to_dict()) + "\n")

    def drain(self, writer: Writer) -> None:
        """Write the account's findings as one block and free the spool."""
        with self._lock:
            self._file.seek(0)
            writer.write_all(_finding(json.loads(line)) for line in self._file)
            self._file.close()


def _finding(row: dict[str, Any]) -> Finding:
    return Finding(**{**row, "verdict": Verdict(row["verdict"])})


class AccountProgress(StatusLine):
    """`accounts 3/20 done, 1,234 AMI uses, 56 unapproved` on stderr, only when stderr is a terminal."""

    def __init__(self, stream: TextIO, total: int) -> None:
        super().__init__(stream)
        self._total = total
        self._done = 0
        self._counts: Counter[Verdict] = Counter()

    def add(self, counts: Counter[Verdict] | None = None, account_done: bool = False) -> None:
        if not self._enabled:
            return
        with self._lock:
            self._counts.update(counts or {})
            self._done += account_done
            self._show(
                lambda: f"accounts {self._done}/{self._total} done, {sum(self._counts.values()):,} AMI uses, "
                f"{self._counts.get(Verdict.UNAPPROVED, 0):,} unapproved",
                force=account_done,
            )


################################################################################
# The fan-out
################################################################################


@dataclass(frozen=True)
class Target:
    """What every account shares: the caller's session, the role to assume, where to call from."""

    source: Any  # boto3 Session of the caller
    partition: str
    role_name: str
    external_id: str | None
    home_region: str  # STS and DescribeRegions calls
    regions: list[str] | None  # None: each account's enabled regions


class OrganizationScan:
    """Accounts in flight at most `workers`; account × region scans at most `workers` at once."""

    def __init__(self, target: Target, scan: RegionScan, writer: Writer, workers: int, err: TextIO, total: int):
        self._target = target
        self._scan = scan
        self._writer = writer
        self._fan_out = FanOut(workers)
        self._slots = threading.BoundedSemaphore(workers)
        self._progress = AccountProgress(err, total)
        self.results: list[AccountResult] = []
        self._lock = threading.Lock()

    def run(self, accounts: list[Account]) -> list[AccountResult]:
        try:
            for account in accounts:
                self._slots.acquire()
                self._fan_out.submit(self._start_account, account)
        finally:
            self._fan_out.join()
            self._progress.clear()
        order = {account.id: index for index, account in enumerate(accounts)}
        return sorted(self.results, key=lambda result: order[result.account.id])

    def _start_account(self, account: Account) -> None:
        try:
            prepared = self._prepare(account)
        except BaseException:
            self._slots.release()
            raise
        result, clients = prepared
        if not clients:  # the account failed, or has no region to scan
            self._finish(result, None)
            return
        spool = Spool()
        remaining = [len(clients)]
        for region, region_clients in clients.items():
            self._fan_out.submit(self._scan_region, result, region, region_clients, spool, remaining)

    def _prepare(self, account: Account) -> tuple[AccountResult, dict[str, dict[str, Any]]]:
        """Assume the role (now, so that a refusal is the account's error), list the regions, make the
        clients: on this one thread, as boto3 sessions want."""
        result = AccountResult(account, regions=list(self._target.regions or []))
        target = self._target
        arn = aws.role_arn(target.partition, account.id, target.role_name)
        session = aws.assumed_session(target.source, arn, target.home_region, target.external_id)
        try:
            session.get_credentials().get_frozen_credentials()
        except (ClientError, BotoCoreError) as error:
            return self._failed(result, aws.describe_error(error, f"account {account.id}: cannot assume {arn}")), {}
        if target.regions is None:
            try:
                result.regions = aws.enabled_regions(session, target.home_region)
            except (ClientError, BotoCoreError) as error:
                return self._failed(result, aws.describe_error(error, f"account {account.id}: cannot list regions")), {}
        return result, {r: {s: aws.client(session, s, r) for s in ("ec2", "autoscaling")} for r in result.regions}

    @staticmethod
    def _failed(result: AccountResult, error: str) -> AccountResult:
        result.error = error
        result.failed_regions = list(result.regions)
        return result

    def _scan_region(
        self, result: AccountResult, region: str, clients: dict[str, Any], spool: Spool, remaining: list[int]
    ) -> None:
        def emit(page: list[Finding]) -> None:
            spool.add(page)
            self._progress.add(Counter(finding.verdict for finding in page))

        outcome: RegionOutcome | None = None
        try:
            outcome = self._scan(region, clients, result.account.id, emit)
        finally:
            with self._lock:
                if outcome is not None:
                    result.counts.update(outcome.counts)
                error = "unexpected error" if outcome is None else outcome.error
                if error:
                    result.failed_regions.append(region)
                    result.errors.append(f"account {result.account.id}: {error}")
                remaining[0] -= 1
                last = remaining[0] == 0
            if last:
                self._finish(result, spool)

    def _finish(self, result: AccountResult, spool: Spool | None) -> None:
        try:
            if spool is not None:
                spool.drain(self._writer)
            with self._lock:
                self.results.append(result)
            self._progress.add(account_done=True)
        finally:
            self._slots.release()


def summary(results: list[AccountResult], skipped: list[tuple[Account, str]]) -> tuple[str, list[str]]:
    """The summary line and the names of what failed (accounts, account/region pairs)."""
    counts: Counter[Verdict] = Counter()
    for result in results:
        counts.update(result.counts)
    scanned_accounts = sum(1 for r in results if r.scanned_regions)
    regions = sum(len(r.regions) for r in results)
    scanned = sum(r.scanned_regions for r in results)
    failed: list[str] = []
    for r in results:
        if r.error or (r.regions and len(r.failed_regions) == len(r.regions)):
            failed.append(r.account.id)
        else:
            failed.extend(f"{r.account.id}/{region}" for region in r.failed_regions)
    line = (
        f"{scanned_accounts} of {len(results)} accounts, {scanned} of {regions} account regions scanned, "
        f"{verdict_summary(counts)}"
    )
    if skipped:
        line += f"; skipped (not active): {', '.join(f'{a.id} ({status})' for a, status in skipped)}"
    return line + failures_note(failed, scanned=scanned > 0), failed
