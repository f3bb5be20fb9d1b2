"""`approved-amis audit`: which instances, launch templates and Auto Scaling groups use AMIs the rule does
not approve, region by region (concurrently, bounded), one page at a time."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from approved_amis import aws, options, organization
from approved_amis.classify import Classification, Classifier, Verdict, classify_use
from approved_amis.fanout import (
    DEFAULT_ORGANIZATION_WORKERS,
    MAX_ORGANIZATION_WORKERS,
    MAX_REGION_WORKERS,
    failures_note,
    map_regions,
)
from approved_amis.inventory import LaunchTemplates, Use, fleet_pages, group_pages, instance_pages, spot_request_pages
from approved_amis.output import (
    AUDIT_LAYOUT,
    ORGANIZATION_AUDIT_LAYOUT,
    Finding,
    StatusLine,
    Writer,
    make_writer,
    reason_via,
    verdict_summary,
)
from approved_amis.rule import ApprovalRule

FORMATS = ("table", "json", "csv")
NO_AMI = "no AMI in the launch template version or configuration"


@dataclass
class RegionResult:
    region: str
    counts: Counter[Verdict] = field(default_factory=Counter)
    error: str | None = None


class Progress(StatusLine):
    """A one-line count of scanned resources per region on stderr, only when stderr is a terminal."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._counts: dict[str, int] = {}

    def add(self, region: str, count: int) -> None:
        if not self._enabled:
            return
        with self._lock:
            self._counts[region] = self._counts.get(region, 0) + count
            self._show(lambda: f"scanning: {', '.join(f'{r} {n:,}' for r, n in self._counts.items())} resources")


def findings(
    uses: list[Use],
    verdicts: dict[str, Classification],
    region: str,
    rule: ApprovalRule,
    account: str | None = None,
) -> Iterator[Finding]:
    for use in uses:
        verdict = classify_use(use.kind, use.ami_id, rule, verdicts, NO_AMI)
        reason = reason_via(verdict.reason, use.via)
        yield Finding(
            resource_type=use.resource_type,
            resource_id=use.resource_id,
            region=region,
            ami_id=use.ami_id,
            verdict=verdict.verdict,
            reason=reason,
            account_id=account,
            kind=use.kind,
        )


def scan_region(
    region: str,
    clients: dict[str, Any],
    rule: ApprovalRule,
    account_id: str,
    emit: Callable[[list[Finding]], None],
    progress: Progress | None,
    name_account: bool = False,
) -> RegionResult:
    """Classify every AMI use in one region of `account_id` and hand each page of findings to `emit`
    (findings carry the account ID when `name_account`)."""
    result = RegionResult(region)
    classifier = Classifier(clients["ec2"], rule, account_id)
    templates = LaunchTemplates(clients["ec2"])
    sources = (
        templates.pages(),
        group_pages(clients["autoscaling"], templates),
        instance_pages(clients["ec2"]),
        spot_request_pages(clients["ec2"]),
        fleet_pages(clients["ec2"], templates),
    )
    for pages in sources:
        try:
            for uses in pages:
                verdicts = classifier(use.ami_id for use in uses if use.ami_id)
                page = list(findings(uses, verdicts, region, rule, account_id if name_account else None))
                result.counts.update(finding.verdict for finding in page)
                emit(page)
                if progress is not None:
                    progress.add(region, len(uses))
        except (ClientError, BotoCoreError) as error:
            result.error = aws.describe_error(error, f"region {region}")
            break
    return result


def run_audit(
    rule: ApprovalRule,
    regions: list[str],
    writer: Writer,
    session: Any,
    failing: frozenset[Verdict],
    err: TextIO,
) -> int:
    """Scan the regions, stream findings to `writer`, print region errors to `err`; the exit code."""
    account_id = aws.account_id(session, regions[0])
    clients = {r: {s: aws.client(session, s, r) for s in ("ec2", "autoscaling")} for r in regions}
    progress = Progress(err)
    results = map_regions(
        lambda r: scan_region(r, clients[r], rule, account_id, writer.write_all, progress), regions, MAX_REGION_WORKERS
    )
    progress.clear()

    counts: Counter[Verdict] = Counter()
    for result in results:
        counts.update(result.counts)
        if result.error:
            options.error(result.error)
    failed = [result.region for result in results if result.error]
    summary = f"{len(regions) - len(failed)} of {len(regions)} regions scanned, {verdict_summary(counts)}"
    summary += failures_note(failed, scanned=len(failed) < len(regions))
    writer.close(summary)
    if len(failed) == len(regions):
        return options.EXIT_ERROR
    if failed:
        return options.EXIT_PARTIAL
    return options.EXIT_FINDINGS if any(counts.get(v) for v in failing) else options.EXIT_CLEAN


def run_organization_audit(
    rule: ApprovalRule,
    target: organization.Target,
    selection: organization.Selection,
    writer: Writer,
    workers: int,
    failing: frozenset[Verdict],
    err: TextIO,
) -> int:
    """Scan every selected account's regions through its audit role, stream each account's findings as
    one block, print each account or region failure to `err`; the exit code."""

    def scan(
        region: str, clients: dict[str, Any], account_id: str, emit: Callable[[list[Finding]], None]
    ) -> RegionResult:
        return scan_region(region, clients, rule, account_id, emit, None, name_account=True)

    total = len(selection.accounts)
    results = organization.OrganizationScan(target, scan, writer, workers, err, total).run(selection.accounts)
    for result in results:
        for line in ([result.error] if result.error else []) + result.errors:
            options.error(line)
    summary, failed = organization.summary(results, selection.skipped)
    writer.close(summary)
    if not results or all(r.scanned_regions == 0 for r in results):
        return options.EXIT_ERROR
    if failed:
        return options.EXIT_PARTIAL
    counts: Counter[Verdict] = Counter()
    for result in results:
        counts.update(result.counts)
    return options.EXIT_FINDINGS if any(counts.get(v) for v in failing) else options.EXIT_CLEAN


def _regions(args: argparse.Namespace, session: Any) -> list[str] | None:
    """--region (repeatable) or --regions (a list, or None for `all`), checked against known regions."""
    if args.regions is not None and args.region:
        raise aws.UsageError("give the regions either with --region or with --regions, not both")
    if args.regions is None:
        return aws.check_regions(session, args.region)
    regions = organization.parse_regions(args.regions)
    return None if regions is None else aws.check_regions(session, regions)


def run(args: argparse.Namespace) -> int:
    rule = options.rule_from_args(args)
    organization_flags = [
        flag
        for flag, value in (
            ("--role-name", args.role_name),
            ("--accounts", args.accounts),
            ("--exclude-accounts", args.exclude_accounts),
            ("--external-id", args.external_id),
            ("--max-workers", args.max_workers),
        )
        if value is not None
    ]
    if not args.organization:
        if organization_flags:
            raise aws.UsageError(f"{organization_flags[0]} needs --organization")
        session = aws.session(args.profile)
        regions = _regions(args, session)
        if regions is None:
            home = session.region_name
            if not home:
                raise aws.UsageError("--regions all: set AWS_REGION, the region to ask for the enabled ones")
            try:
                regions = aws.enabled_regions(session, home)
            except (ClientError, BotoCoreError) as error:
                raise aws.AwsError(aws.describe_error(error, "cannot list the account's regions")) from None
        writer = make_writer(args.format, sys.stdout, AUDIT_LAYOUT, summary_stream=sys.stderr)
        return run_audit(rule, regions, writer, session, options.failing_verdicts(args.fail_on), sys.stderr)

    if not args.role_name:
        raise aws.UsageError("--organization needs --role-name, the audit role in every member account")
    if not organization.ROLE_NAME.match(args.role_name):
        raise aws.UsageError(f"--role-name: {args.role_name!r} is not an IAM role name (1-64 of A-Z a-z 0-9 +=,.@_-)")
    if args.external_id is not None and not organization.EXTERNAL_ID.match(args.external_id):
        raise aws.UsageError("--external-id: 2 to 1224 characters of A-Z a-z 0-9 +=,.@:/_-")
    workers = DEFAULT_ORGANIZATION_WORKERS if args.max_workers is None else args.max_workers
    if not MAX_ORGANIZATION_WORKERS >= workers >= 1:
        raise aws.UsageError(f"--max-workers: give 1 to {MAX_ORGANIZATION_WORKERS}")
    only = organization.parse_account_ids(args.accounts, "--accounts") if args.accounts is not None else []
    exclude = (
        organization.parse_account_ids(args.exclude_accounts, "--exclude-accounts")
        if args.exclude_accounts is not None
        else []
    )
    session = aws.session(args.profile)
    regions = _regions(args, session)
    home = regions[0] if regions else session.region_name
    if not home:
        raise aws.UsageError("--regions all: set AWS_REGION, the region for the STS and Organizations calls")
    _, partition = aws.caller_partition(session, home)
    selection = organization.select_accounts(aws.organization_accounts(session, home), only, exclude)
    if not selection.accounts:
        raise aws.UsageError("no active account to scan: check --accounts and --exclude-accounts")
    target = organization.Target(session, partition, args.role_name, args.external_id, home, regions)
    writer = make_writer(args.format, sys.stdout, ORGANIZATION_AUDIT_LAYOUT, summary_stream=sys.stderr)
    failing = options.failing_verdicts(args.fail_on)
    return run_organization_audit(rule, target, selection, writer, workers, failing, sys.stderr)


def add_organization_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("organization (every member account, through a role in each)")
    group.add_argument(
        "--organization",
        action="store_true",
        help="scan the ACTIVE accounts of the caller's AWS Organization (organizations:ListAccounts)",
    )
    group.add_argument(
        "--role-name", metavar="ROLE", help="role to assume in each account: arn:<partition>:iam::<account>:role/ROLE"
    )
    group.add_argument("--accounts", metavar="IDS", help="only these accounts (comma-separated 12-digit IDs)")
    group.add_argument("--exclude-accounts", metavar="IDS", help="all accounts but these (comma-separated)")
    group.add_argument("--external-id", metavar="ID", help="external ID the role's trust policy requires")
    group.add_argument(
        "--max-workers",
        type=int,
        metavar="N",
        help=f"account x region scans at once (default {DEFAULT_ORGANIZATION_WORKERS}, at most "
        f"{MAX_ORGANIZATION_WORKERS}); accounts in flight at most N",
    )


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser(
        "audit",
        help="which instances, launch templates and Auto Scaling groups use unapproved AMIs",
        description="Classify the AMI of every instance (pending, running, stopping, stopped), launch "
        "template (default and latest version) and Auto Scaling group in the given regions, in one account "
        "or (--organization) in every account of an AWS Organization.",
        epilog="exit codes: 0 clean, 1 findings, 2 usage or runtime error, 3 partial scan (a region or "
        "account failed)",
    )
    options.add_region_argument(parser)
    parser.add_argument(
        "--regions",
        metavar="all|REGION,...",
        help="`all` (the account's enabled regions, DescribeRegions) or comma-separated regions",
    )
    options.add_rule_arguments(parser)
    options.add_format_argument(parser, FORMATS)
    options.add_fail_on_argument(parser)
    options.add_profile_argument(parser)
    add_organization_arguments(parser)
    parser.set_defaults(run=run)
