"""`approved-amis retire`: AMIs this account owns that nothing uses any more, oldest and unapproved first;
deregistering them is opt-in, confirmed, and never touches an AMI in use or an approved one unless asked."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from approved_amis import aws, cli
from approved_amis.classify import Verdict, classify
from approved_amis.images import Image
from approved_amis.inventory import ACTIVE_INSTANCE_STATES, instance_pages
from approved_amis.output import Column, Layout, field, make_writer
from approved_amis.rule import ApprovalRule

MAX_REGION_WORKERS = 4
DEFAULT_DAYS = 90
FORMATS = ("table", "json", "csv")
# Instances that still hold their AMI: the audit's states, plus those shutting down.
HOLDING_INSTANCE_STATES = (*ACTIVE_INSTANCE_STATES, "shutting-down")

VERDICT_ORDER = {Verdict.UNAPPROVED: 0, Verdict.UNKNOWN: 1, Verdict.APPROVED: 2}

WOULD_DEREGISTER = "would deregister"
TO_DEREGISTER = "deregister"
DEREGISTERED = "deregistered"
KEEP_APPROVED = "keep (approved)"


@dataclass(frozen=True)
class Candidate:
    region: str
    image: Image
    age_days: int
    verdict: Verdict
    reason: str
    in_use: bool = False
    action: str = WOULD_DEREGISTER

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "ami_id": self.image.image_id,
            "name": self.image.name,
            "creation_date": self.image.creation_date,
            "age_days": self.age_days,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "in_use": self.in_use,
            "snapshots": [snapshot.snapshot_id for snapshot in self.image.snapshots],
            "snapshot_size_gib": self.image.snapshot_size_gib,
            "action": self.action,
        }


RETIRE_LAYOUT = Layout(
    columns=(
        Column("REGION", field("region"), 14),
        Column("AMI", field("ami_id"), 21),
        Column("NAME", field("name"), 24),
        Column("AGE", lambda row: f"{row['age_days']}d", 5),
        Column("VERDICT", field("verdict"), 10),
        Column("SNAPSHOTS", lambda row: f"{len(row['snapshots'])} ({row['snapshot_size_gib']} GiB)", 14),
        Column("ACTION", field("action"), 16),
        Column("REASON", field("reason")),
    ),
    csv_fields=(
        "region",
        "ami_id",
        "name",
        "creation_date",
        "age_days",
        "verdict",
        "reason",
        "in_use",
        "snapshot_size_gib",
        "action",
    ),
)


@dataclass
class RegionCandidates:
    region: str
    candidates: list[Candidate]
    error: str | None = None


def _created(image: Image) -> datetime | None:
    try:
        return datetime.fromisoformat(image.creation_date.replace("Z", "+00:00"))
    except ValueError:
        return None


def owned_images(ec2: Any) -> Iterator[Image]:
    paginator = ec2.get_paginator("describe_images")
    for page in paginator.paginate(Owners=["self"], IncludeDeprecated=True, IncludeDisabled=True):
        for item in page.get("Images", []):
            yield Image.from_api(item)


def used_amis(ec2: Any, autoscaling: Any, among: set[str]) -> set[str]:
    """Which of `among` an instance, any launch template version or any launch configuration references."""
    used: set[str] = set()
    for uses in instance_pages(ec2, HOLDING_INSTANCE_STATES):
        used.update(use.ami_id for use in uses if use.ami_id in among)
    for page in ec2.get_paginator("describe_launch_templates").paginate():
        for template in page.get("LaunchTemplates", []):
            versions = ec2.get_paginator("describe_launch_template_versions").paginate(
                LaunchTemplateId=template["LaunchTemplateId"], ResolveAlias=True
            )
            for version_page in versions:
                for version in version_page.get("LaunchTemplateVersions", []):
                    ami_id = version.get("LaunchTemplateData", {}).get("ImageId")
                    if ami_id in among:
                        used.add(ami_id)
    for page in autoscaling.get_paginator("describe_launch_configurations").paginate():
        used.update(c["ImageId"] for c in page.get("LaunchConfigurations", []) if c.get("ImageId") in among)
    return used


def region_candidates(
    region: str, clients: dict[str, Any], rule: ApprovalRule, account_id: str, args: argparse.Namespace
) -> RegionCandidates:
    now = datetime.now(timezone.utc)
    cutoff = now - timedelta(days=args.days)
    try:
        old = {
            image.image_id: (image, created)
            for image in owned_images(clients["ec2"])
            if (created := _created(image)) is not None and created < cutoff
        }
        used = used_amis(clients["ec2"], clients["autoscaling"], set(old))
    except (ClientError, BotoCoreError) as error:
        return RegionCandidates(region, [], aws.describe_error(error, f"region {region}"))
    candidates = []
    for ami_id, (image, created) in old.items():
        in_use = ami_id in used
        if in_use and not args.include_in_use:
            continue
        verdict = classify(ami_id, image, rule, account_id)
        eligible = verdict.verdict is not Verdict.APPROVED or args.include_approved
        action = (TO_DEREGISTER if args.deregister else WOULD_DEREGISTER) if eligible else KEEP_APPROVED
        reason = f"{verdict.reason}; in use" if in_use else verdict.reason
        candidates.append(
            Candidate(region, image, (now - created).days, verdict.verdict, reason, in_use, action)
        )
    return RegionCandidates(region, candidates)


def _confirm(count: int, regions: int, err: TextIO) -> bool:
    err.write(f"Deregister {count} AMI(s) in {regions} region(s)? Their snapshots are kept. [y/N] ")
    err.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _deregister(candidate: Candidate, clients: dict[str, Any]) -> Candidate:
    try:
        clients["ec2"].deregister_image(ImageId=candidate.image.image_id)
    except (ClientError, BotoCoreError) as error:
        message = aws.describe_error(error, f"region {candidate.region}: {candidate.image.image_id}")
        cli.error(message)
        return replace(candidate, action=f"failed: {aws.error_code(error) or type(error).__name__}")
    return replace(candidate, action=DEREGISTERED)


def run(args: argparse.Namespace) -> int:
    if args.days < 0:
        raise aws.UsageError("--days must be 0 or more")
    if args.deregister and not args.yes and not sys.stdin.isatty():
        raise aws.UsageError("--deregister needs confirmation: run it on a terminal, or add --yes")
    rule = cli.rule_from_args(args)
    session = aws.session(args.profile)
    regions = aws.check_regions(session, args.region)
    account_id = aws.account_id(session, regions[0])
    clients = {r: {s: aws.client(session, s, r) for s in ("ec2", "autoscaling")} for r in regions}
    with ThreadPoolExecutor(max_workers=min(MAX_REGION_WORKERS, len(regions))) as pool:
        results = list(pool.map(lambda r: region_candidates(r, clients[r], rule, account_id, args), regions))

    candidates = sorted(
        (c for result in results for c in result.candidates),
        key=lambda c: (VERDICT_ORDER[c.verdict], -c.age_days, c.region, c.image.image_id),
    )
    targets = [c for c in candidates if c.action == TO_DEREGISTER]
    confirmed = args.deregister and bool(targets) and (args.yes or _confirm(len(targets), len(regions), sys.stderr))
    if confirmed:
        candidates = [_deregister(c, clients[c.region]) if c.action == TO_DEREGISTER else c for c in candidates]
    elif args.deregister:
        candidates = [replace(c, action="not deregistered") if c.action == TO_DEREGISTER else c for c in candidates]

    writer = make_writer(args.format, sys.stdout, RETIRE_LAYOUT, summary_stream=sys.stderr)
    writer.write_all(candidates)
    for result in results:
        if result.error:
            cli.error(result.error)
    failed = [result.region for result in results if result.error]
    done = sum(1 for c in candidates if c.action == DEREGISTERED)
    size = sum(c.image.snapshot_size_gib for c in candidates if c.action != KEEP_APPROVED)
    summary = (
        f"{len(candidates)} AMI(s) older than {args.days} days in {len(regions) - len(failed)} of "
        f"{len(regions)} regions, {size} GiB of snapshots behind those to retire; "
    )
    if not args.deregister:
        summary += "dry run: nothing deregistered (add --deregister)"
    else:
        summary += f"{done} deregistered, their snapshots kept"
    if failed:
        summary += f"; {'partial scan, ' if len(failed) < len(regions) else ''}failed: {', '.join(failed)}"
    writer.close(summary)
    if any(c.action.startswith("failed") for c in candidates) or len(failed) == len(regions):
        return cli.EXIT_ERROR
    return cli.EXIT_PARTIAL if failed else cli.EXIT_CLEAN


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser(
        "retire",
        help="AMIs this account owns that no instance, launch template or Auto Scaling group uses",
        description="List AMIs owned by this account, older than --days, that no instance, launch template "
        "version or launch configuration uses, with their snapshots; unapproved first. Dry run unless "
        "--deregister.",
        epilog="exit codes: 0 done, 2 usage or runtime error, 3 partial scan (a region failed)",
    )
    cli.add_region_argument(parser)
    cli.add_rule_arguments(parser)
    parser.add_argument(
        "--days", type=int, default=DEFAULT_DAYS, help=f"only AMIs created more than this many days ago ({DEFAULT_DAYS})"
    )
    parser.add_argument("--deregister", action="store_true", help="deregister the listed AMIs (default: dry run)")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation before deregistering")
    parser.add_argument(
        "--include-approved", action="store_true", help="also deregister unused AMIs that the rule approves"
    )
    parser.add_argument(
        "--include-in-use",
        action="store_true",
        help="also list, and deregister, AMIs that instances, launch templates or configurations still use",
    )
    cli.add_format_argument(parser, FORMATS)
    cli.add_profile_argument(parser)
    parser.set_defaults(run=run)
