"""`approved-amis audit`: which instances, launch templates and Auto Scaling groups use AMIs the rule does
not approve, region by region (concurrently, bounded), one page at a time."""

from __future__ import annotations

import argparse
import difflib
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from approved_amis import aws, options, organization
from approved_amis.classify import (
    ALLOWED_AMIS,
    AMI,
    AMI_PARAMETER,
    Classification,
    Classifier,
    Verdict,
    classify_parameter,
    classify_use,
)
from approved_amis.fanout import DEFAULT_ORGANIZATION_WORKERS, MAX_ORGANIZATION_WORKERS, MAX_REGION_WORKERS, failures_note, map_regions
from approved_amis.images import ALLOWED_AMIS_ENABLED, ALLOWED_AMIS_REPORTED, Image, allowed_images_state
from approved_amis.inventory import (
    LaunchTemplates,
    Use,
    fleet_pages,
    group_pages,
    instance_pages,
    parameter_pages,
    spot_request_pages,
)
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
    tag_keys: set[str] = field(default_factory=set)  # every tag key on the AMIs described


def tag_key_hint(tag_key: str, seen: set[str]) -> str | None:
    """One line when no AMI in scope carries the rule's tag key in any letter case (a misspelt --tag-key
    leaves every AMI unapproved), naming the nearest key found; None when some AMI carries it."""
    if not seen or any(key.lower() == tag_key.lower() for key in seen):
        return None
    by_lower: dict[str, str] = {}
    for key in sorted(seen):  # of keys that differ only in case, the first in sort order (capitals first)
        by_lower.setdefault(key.lower(), key)
    close = difflib.get_close_matches(tag_key.lower(), list(by_lower), n=1, cutoff=0.6)
    suggestion = f"; did you mean {by_lower[close[0]]}?" if close else f"; keys found: {', '.join(sorted(seen)[:5])}"
    return f"no AMI in scope carries the tag key {tag_key} in any letter case{suggestion}"


class RegionProgress(StatusLine):
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
    allowed: AllowedAmis | None = None,
) -> Iterator[Finding]:
    """A finding per use; where the region's Allowed AMIs reports, AWS's verdict beside it, and a finding of
    kind `allowed-amis` for each use whose AMI AWS judges otherwise than the rule."""
    for use in uses:
        if use.kind == AMI_PARAMETER:
            verdict = classify_parameter(use.via, rule)
            yield Finding(use.resource_type, None, verdict.verdict, verdict.reason, use.resource_id, region, account_id=account, kind=use.kind)
            continue
        verdict = classify_use(use.kind, use.ami_id, rule, verdicts, NO_AMI)
        image = allowed.images.get(use.ami_id) if allowed is not None and use.ami_id and use.kind == AMI else None
        image_allowed = image.image_allowed if image is not None else None
        finding = Finding(
            resource_type=use.resource_type,
            resource_id=use.resource_id,
            region=region,
            ami_id=use.ami_id,
            verdict=verdict.verdict,
            reason=reason_via(verdict.reason, use.via),
            account_id=account,
            kind=use.kind,
            image_allowed=image_allowed,
        )
        yield finding
        if allowed is not None and image_allowed is not None and verdict.verdict is not Verdict.UNKNOWN:
            if image_allowed != (verdict.verdict is Verdict.APPROVED):
                yield replace(
                    finding,
                    kind=ALLOWED_AMIS,
                    verdict=Verdict.APPROVED if image_allowed else Verdict.UNAPPROVED,
                    reason=reason_via(
                        f"Allowed AMIs ({allowed.state}) {'allows' if image_allowed else 'does not allow'} this AMI, "
                        f"the approval rule says {verdict.verdict.value}: {verdict.reason}",
                        use.via,
                    ),
                )


@dataclass(frozen=True)
class AllowedAmis:
    """The region's Allowed AMIs state, where it reports ImageAllowed, and the images described so far."""

    state: str
    images: dict[str, Image | None]


def allowed_amis_state(ec2: Any) -> str | None:
    """The region's Allowed AMIs state; None when it cannot be read (an older partition, the emulator, a
    role without ec2:GetAllowedImagesSettings): the audit goes on by the rule alone."""
    try:
        return allowed_images_state(ec2)
    except aws.AWS_ERRORS:
        return None


# With Allowed AMIs enabled, DescribeImages leaves out the images it does not allow.
HIDDEN_NOTE = (
    "; Allowed AMIs is enabled in this region and hides the AMIs it does not allow from DescribeImages "
    "(EC2 API Reference, EnableAllowedImagesSettings): not allowed, unless it is deregistered"
)


def scan_region(
    region: str,
    clients: dict[str, Any],
    rule: ApprovalRule,
    account_id: str,
    emit: Callable[[list[Finding]], None],
    progress: RegionProgress | None,
    name_account: bool = False,
) -> RegionResult:
    """Classify every AMI use in one region of `account_id` and hand each page of findings to `emit`
    (findings carry the account ID when `name_account`)."""
    result = RegionResult(region)
    state = allowed_amis_state(clients["ec2"])
    classifier = Classifier(clients["ec2"], rule, account_id, HIDDEN_NOTE if state == ALLOWED_AMIS_ENABLED else "")
    allowed = AllowedAmis(state, classifier.images) if state in ALLOWED_AMIS_REPORTED else None
    templates = LaunchTemplates(clients["ec2"])
    sources = (
        templates.pages(),
        group_pages(clients["autoscaling"], templates),
        instance_pages(clients["ec2"]),
        spot_request_pages(clients["ec2"]),
        fleet_pages(clients["ec2"], templates),
        *([parameter_pages(clients["ec2"])] if rule.ami_parameter_paths else []),
    )
    for pages in sources:
        try:
            for uses in pages:
                verdicts = classifier(use.ami_id for use in uses if use.ami_id)
                page = list(findings(uses, verdicts, region, rule, account_id if name_account else None, allowed))
                result.counts.update(finding.verdict for finding in page)
                emit(page)
                if progress is not None:
                    progress.add(region, len(uses))
        except (ClientError, BotoCoreError) as error:
            result.error = aws.describe_error(error, f"region {region}")
            break
    result.tag_keys = {key for image in classifier.images.values() if image is not None for key in image.tags}
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
    progress = RegionProgress(err)
    results = map_regions(
        lambda r: scan_region(r, clients[r], rule, account_id, writer.write_all, progress), regions, MAX_REGION_WORKERS
    )
    progress.clear()
    hint = tag_key_hint(rule.tag_key, {key for result in results for key in result.tag_keys})
    if hint:
        print(f"{options.PROG}: note: {hint}", file=err)

    counts: Counter[Verdict] = Counter()
    for result in results:
        counts.update(result.counts)
        if result.error:
            options.error(result.error)
    failed = [result.region for result in results if result.error]
    summary = f"{len(regions) - len(failed)} of {len(regions)} regions scanned, {verdict_summary(counts)}"
    summary += failures_note(failed, scanned=len(failed) < len(regions))
    writer.close(summary)
    return options.exit_code(counts, failing, scanned=len(regions) - len(failed), failed=len(failed))


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
    counts: Counter[Verdict] = Counter()
    for result in results:
        counts.update(result.counts)
    scanned = sum(r.scanned_regions for r in results)
    return options.exit_code(counts, failing, scanned=scanned, failed=len(failed) or int(not scanned))


def _regions(args: argparse.Namespace, session: Any) -> list[str] | None:
    """--region, checked against known regions (the default region when none is given); None for `all`."""
    regions = options.region_choice(args)
    return None if regions is None else aws.check_regions(session, regions)


def run(args: argparse.Namespace) -> int:
    rule = options.rule_from_args(args)
    if args.ami_parameter_path:
        paths = tuple(dict.fromkeys([*rule.ami_parameter_paths, *args.ami_parameter_path]))
        rule = replace(rule, ami_parameter_paths=paths)
    flags = organization.check_flags(args)
    failing = options.failing_verdicts(args.fail_on)
    session = aws.session(args.profile)
    regions = _regions(args, session)
    if flags is None:
        if regions is None:
            regions = aws.enabled_regions_here(session)
        writer = make_writer(args.format, sys.stdout, AUDIT_LAYOUT, summary_stream=sys.stderr)
        return run_audit(rule, regions, writer, session, failing, sys.stderr)

    home = regions[0] if regions else aws.default_region(session)
    if not home:
        raise aws.UsageError(
            "--region all: set AWS_REGION (or the profile's region), the region for the STS and Organizations calls"
        )
    _, partition = aws.caller_partition(session, home)
    selection = organization.select_accounts(aws.organization_accounts(session, home), flags.only, flags.exclude)
    if not selection.accounts:
        skipped = "; skipped (not active): " + ", ".join(f"{a.id} ({state})" for a, state in selection.skipped)
        raise aws.UsageError(
            "no active account to scan: check --accounts and --exclude-accounts" + (skipped if selection.skipped else "")
        )
    target = organization.Target(session, partition, flags.role_name, flags.external_id, home, regions)
    writer = make_writer(args.format, sys.stdout, ORGANIZATION_AUDIT_LAYOUT, summary_stream=sys.stderr)
    return run_organization_audit(rule, target, selection, writer, flags.workers, failing, sys.stderr)


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
    options.add_rule_arguments(parser)
    parser.add_argument(
        "--ami-parameter-path",
        action="append",
        default=[],
        metavar="NAME",
        help="SSM parameter name (wildcards allowed, e.g. /golden-ami/*) a launch template may give as its image "
        "(resolve:ssm:NAME), as the module's ami_parameter_paths (repeatable); with any, a template resolving "
        "another parameter is an ami-parameter finding",
    )
    options.add_format_argument(parser, FORMATS)
    options.add_fail_on_argument(parser)
    options.add_profile_argument(parser)
    add_organization_arguments(parser)
    parser.set_defaults(run=run)
