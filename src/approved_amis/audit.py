"""`approved-amis audit`: which instances, launch templates and Auto Scaling groups use AMIs the rule does
not approve, region by region (concurrently, bounded), one page at a time."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from approved_amis import aws, cli
from approved_amis.classify import AMI, Classification, Verdict, classify, classify_exposure
from approved_amis.images import describe_images
from approved_amis.inventory import LaunchTemplates, Use, fleet_pages, group_pages, instance_pages, spot_request_pages
from approved_amis.output import AUDIT_LAYOUT, Finding, Writer, make_writer, verdict_summary
from approved_amis.rule import ApprovalRule

MAX_REGION_WORKERS = 4
FORMATS = ("table", "json", "csv")


class Classifier:
    """Verdicts per AMI for one region, each AMI described once (in batches) and remembered."""

    def __init__(self, ec2: Any, rule: ApprovalRule, account_id: str) -> None:
        self._ec2 = ec2
        self._rule = rule
        self._account_id = account_id
        self._verdicts: dict[str, Classification] = {}

    def __call__(self, ami_ids: Iterable[str]) -> dict[str, Classification]:
        new = [ami_id for ami_id in dict.fromkeys(ami_ids) if ami_id not in self._verdicts]
        if new:
            for ami_id, image in describe_images(self._ec2, new).items():
                self._verdicts[ami_id] = classify(ami_id, image, self._rule, self._account_id)
        return self._verdicts


@dataclass
class RegionResult:
    region: str
    counts: Counter[Verdict] = field(default_factory=Counter)
    error: str | None = None


class Progress:
    """A one-line count of scanned resources per region on stderr, only when stderr is a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._enabled = stream.isatty()
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._shown = 0.0

    def add(self, region: str, count: int) -> None:
        if not self._enabled:
            return
        with self._lock:
            self._counts[region] = self._counts.get(region, 0) + count
            if time.monotonic() - self._shown > 0.2:
                self._shown = time.monotonic()
                status = ", ".join(f"{r} {n:,}" for r, n in self._counts.items())
                self._stream.write(f"\rscanning: {status} resources\033[K")
                self._stream.flush()

    def clear(self) -> None:
        if self._enabled:
            self._stream.write("\r\033[K")
            self._stream.flush()


def findings(
    uses: list[Use], verdicts: dict[str, Classification], region: str, rule: ApprovalRule | None = None
) -> Iterator[Finding]:
    for use in uses:
        if use.kind != AMI and rule is not None:
            verdict = classify_exposure(use.kind, use.ami_id, rule)
        elif use.ami_id is None:
            verdict = Classification(Verdict.UNKNOWN, "no AMI in the launch template version or configuration")
        else:
            verdict = verdicts[use.ami_id]
        reason = f"via {use.via}: {verdict.reason}" if use.via else verdict.reason
        yield Finding(
            resource_type=use.resource_type,
            resource_id=use.resource_id,
            region=region,
            ami_id=use.ami_id,
            verdict=verdict.verdict,
            reason=reason,
            kind=use.kind,
        )


def scan_region(
    region: str,
    clients: dict[str, Any],
    rule: ApprovalRule,
    account_id: str,
    emit: Callable[[list[Finding]], None],
    progress: Progress,
) -> RegionResult:
    """Classify every AMI use in one region and hand each page of findings to `emit`."""
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
                page = list(findings(uses, verdicts, region, rule))
                result.counts.update(finding.verdict for finding in page)
                emit(page)
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
    with ThreadPoolExecutor(max_workers=min(MAX_REGION_WORKERS, len(regions))) as pool:
        futures = [
            pool.submit(scan_region, r, clients[r], rule, account_id, writer.write_all, progress) for r in regions
        ]
        results = [future.result() for future in futures]
    progress.clear()

    counts: Counter[Verdict] = Counter()
    for result in results:
        counts.update(result.counts)
        if result.error:
            cli.error(result.error)
    failed = [result.region for result in results if result.error]
    summary = f"{len(regions) - len(failed)} of {len(regions)} regions scanned, {verdict_summary(counts)}"
    if failed:
        summary += f"; {'partial scan, ' if len(failed) < len(regions) else ''}failed: {', '.join(failed)}"
    writer.close(summary)
    if len(failed) == len(regions):
        return cli.EXIT_ERROR
    if failed:
        return cli.EXIT_PARTIAL
    return cli.EXIT_FINDINGS if any(counts.get(v) for v in failing) else cli.EXIT_CLEAN


def run(args: argparse.Namespace) -> int:
    rule = cli.rule_from_args(args)
    session = aws.session(args.profile)
    regions = aws.check_regions(session, args.region)
    writer = make_writer(args.format, sys.stdout, AUDIT_LAYOUT, summary_stream=sys.stderr)
    return run_audit(rule, regions, writer, session, cli.failing_verdicts(args.fail_on), sys.stderr)


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser(
        "audit",
        help="which instances, launch templates and Auto Scaling groups use unapproved AMIs",
        description="Classify the AMI of every instance (pending, running, stopping, stopped), launch "
        "template (default and latest version) and Auto Scaling group in the given regions.",
        epilog="exit codes: 0 clean, 1 findings, 2 usage or runtime error, 3 partial scan (a region failed)",
    )
    cli.add_region_argument(parser)
    cli.add_rule_arguments(parser)
    cli.add_format_argument(parser, FORMATS)
    cli.add_fail_on_argument(parser)
    cli.add_profile_argument(parser)
    parser.set_defaults(run=run)
