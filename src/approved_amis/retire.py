"""`approved-amis retire`: AMIs this account owns that nothing uses any more, oldest and unapproved first;
deregistering them is opt-in, confirmed, and never touches an AMI in use, shared with another account,
protected from deregistration, or approved, unless asked (protected ones never)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field as dataclass_field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, TextIO

from approved_amis import aws, fanout, images, options
from approved_amis.classify import Classification, Classifier, Verdict
from approved_amis.images import Image, Sharing
from approved_amis.inventory import ACTIVE_INSTANCE_STATES, instance_pages
from approved_amis.output import RETIRE_LAYOUT, Heartbeat, make_writer
from approved_amis.rule import ApprovalRule

DEFAULT_DAYS = 90
FORMATS = ("table", "json", "csv")
# Instances that still hold their AMI: the audit's states, plus those shutting down.
HOLDING_INSTANCE_STATES = (*ACTIVE_INSTANCE_STATES, "shutting-down")

VERDICT_ORDER = {Verdict.UNAPPROVED: 0, Verdict.UNKNOWN: 1, Verdict.APPROVED: 2}

WOULD_DEREGISTER = "would deregister"
TO_DEREGISTER = "deregister"
DEREGISTERED = "deregistered"
KEEP_PROTECTED = "keep (protected)"
KEEP_IN_USE = "keep (in use)"
KEEP_SHARED = "keep (shared)"
KEEP_APPROVED = "keep (approved)"
KEEP_UNKNOWN = "keep (use unknown)"
KEEP_ACTIONS = (KEEP_PROTECTED, KEEP_IN_USE, KEEP_SHARED, KEEP_APPROVED, KEEP_UNKNOWN)


@dataclass(frozen=True)
class Evidence:
    """What the account can tell about an AMI beyond its own instances, templates and configurations."""

    sharing: Sharing = Sharing()
    last_launched: str = ""
    usage: str = ""
    used_elsewhere: bool = False
    recycle_bin: str = ""
    recycle_bin_detail: str = ""
    # What AWS says references the AMI in this account (DescribeImageReferences), or why it cannot say.
    references: tuple[images.Reference, ...] = ()
    references_error: str = ""


@dataclass(frozen=True)
class Candidate:
    region: str
    image: Image
    age_days: int
    verdict: Verdict
    reason: str
    in_use: bool = False
    action: str = WOULD_DEREGISTER
    kept_because: str | None = None
    evidence: Evidence = dataclass_field(default_factory=Evidence)

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
            "sharing": self.evidence.sharing.state,
            "shared_with": list(self.evidence.sharing.targets),
            "protected": self.image.protected,
            "last_launched": self.evidence.last_launched,
            "usage": self.evidence.usage,
            "recycle_bin": self.evidence.recycle_bin,
            "recycle_bin_detail": self.evidence.recycle_bin_detail,
            "referenced_by": [str(reference) for reference in self.evidence.references],
            "references_unknown": self.evidence.references_error or None,
            "snapshots": [snapshot.snapshot_id for snapshot in self.image.snapshots],
            "snapshot_size_gib": self.image.snapshot_size_gib,
            "action": self.action,
            "kept_because": self.kept_because,
        }


@dataclass
class RegionCandidates:
    region: str
    candidates: list[Candidate]
    error: str | None = None


def _created(image: Image) -> datetime | None:
    return _parse_time(image.creation_date)


def _parse_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def launched_since(last_launched: str, cutoff: datetime) -> bool:
    """Whether `last_launched` (lastLaunchedTime, or `never`, or `unknown: ...`) is at or after `cutoff`."""
    when = _parse_time(last_launched)
    return when is not None and when >= cutoff


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


################################################################################
# The decision: one pure function of what is known
################################################################################


def decide(
    image: Image,
    classification: Classification,
    in_use: bool,
    evidence: Evidence,
    args: argparse.Namespace,
) -> tuple[str, str | None]:
    """The action on an AMI and why it is kept (None when it is not). Deregistration protection always
    keeps it; use (here, or elsewhere per AWS's usage data), sharing and approval keep it unless
    --include-in-use, --include-shared, --include-approved say otherwise."""
    if image.protected:
        return KEEP_PROTECTED, (
            f"deregistration protection is {image.deregistration_protection}: never attempted "
            "(ec2:DisableImageDeregistrationProtection first, if it really must go)"
        )
    if (in_use or evidence.used_elsewhere) and not args.include_in_use:
        return KEEP_IN_USE, f"in use: {evidence.usage}" if evidence.used_elsewhere else "in use"
    if evidence.references and not args.include_in_use:
        return KEEP_IN_USE, "referenced by " + ", ".join(str(reference) for reference in evidence.references)
    if evidence.references_error and not args.include_in_use:
        return KEEP_UNKNOWN, (
            f"whether anything references it is unknown ({evidence.references_error}): kept, never taken as "
            "unused; add --include-in-use to retire it"
        )
    sharing = evidence.sharing
    if sharing.state != "private" and not args.include_shared:
        others = [target for target in sharing.targets if target != "public"]
        if sharing.state == "unknown":
            why = f"sharing unknown, kept as if shared ({sharing.error})"
        elif sharing.state == "public":
            why = "public: any account may be using it" + (f"; also shared with {', '.join(others)}" if others else "")
        else:
            why = f"shared with {', '.join(others)}: may be in use there"
        details = "; ".join(part for part in (why, evidence.usage) if part)
        return KEEP_SHARED, f"{details}; add --include-shared to retire it"
    if classification.verdict is Verdict.APPROVED and not args.include_approved:
        return KEEP_APPROVED, f"{classification.reason}; add --include-approved to retire it"
    return (TO_DEREGISTER if args.deregister else WOULD_DEREGISTER), None


################################################################################
# Evidence: sharing, last launch, usage reports, Recycle Bin
################################################################################


def gather_evidence(
    clients: dict[str, Any], old_images: list[Image], cutoff: datetime, request_reports: bool = False
) -> dict[str, Evidence]:
    """Evidence for each image. An API that is unavailable or denied is asked once per region and its
    error written on every image it leaves unknown. Unknown is never taken as unused: a shared AMI whose
    usage is unknown stays kept for its sharing, an AMI whose sharing is unknown is kept as if shared."""
    ec2 = clients["ec2"]
    sharing = {image.image_id: images.sharing(ec2, image) for image in old_images}
    references: dict[str, list[images.Reference]] = {}
    references_error = ""
    try:
        references = images.image_references(ec2, [image.image_id for image in old_images])
    except aws.AWS_ERRORS as error:
        references_error = aws.describe_error(error, "image references")

    launched: dict[str, str] = {}
    launch_error: str | None = None
    for image in old_images:
        if launch_error is None:
            try:
                launched[image.image_id] = images.last_launched(ec2, image.image_id) or "never"
                continue
            except aws.AWS_ERRORS as error:
                launch_error = aws.describe_error(error, "last launch")
        launched[image.image_id] = f"unknown: {launch_error}"

    shared_ids = [i for i, s in sharing.items() if s.state != "private"]
    usage = _usage(ec2, shared_ids, request_reports)

    rules: list[images.RetentionRule] | None = None
    rbin_error = ""
    try:
        rules = images.image_retention_rules(clients["rbin"])
    except aws.AWS_ERRORS as error:
        rbin_error = aws.describe_error(error, "Recycle Bin rules")

    evidence = {}
    for image in old_images:
        text, used = usage.get(image.image_id, ("", False))
        if launched_since(launched[image.image_id], cutoff):
            used = True
            text = "; ".join(part for part in (f"last launched {launched[image.image_id]}", text) if part)
        if rules is None:
            bin_short, bin_detail = "unknown", rbin_error
        else:
            covering = [rule for rule in rules if rule.covers(image)]
            if covering:
                rule = covering[0]
                bin_short = rule.retention
                bin_detail = f"retained {rule.retention} by rule {rule.identifier}: can be restored"
            else:
                bin_short, bin_detail = "none", "no retention rule covers it: deregistering is final"
        evidence[image.image_id] = Evidence(
            sharing=sharing[image.image_id],
            last_launched=launched[image.image_id],
            usage=text,
            used_elsewhere=used,
            recycle_bin=bin_short,
            recycle_bin_detail=bin_detail,
            references=tuple(references.get(image.image_id, ())),
            references_error=references_error,
        )
    return evidence


def _usage(ec2: Any, shared_ids: list[str], request_reports: bool) -> dict[str, tuple[str, bool]]:
    """For each shared AMI: what AWS's usage report says, and whether it shows use in another account.
    An AMI with no report, or a failed one, gets a new one requested only with --request-usage-reports:
    a dry run writes nothing to the account unless asked to."""
    if not shared_ids:
        return {}
    try:
        reports = images.usage_reports(ec2, shared_ids)
    except aws.AWS_ERRORS as error:
        unavailable = f"usage report unavailable ({aws.describe_error(error, 'usage report')})"
        return {image_id: (unavailable, False) for image_id in shared_ids}
    result: dict[str, tuple[str, bool]] = {}
    for image_id in shared_ids:
        report = reports.get(image_id)
        reading = read_usage_report(report) if report is not None else None
        if reading is not None:
            result[image_id] = reading
            continue
        failed = f"usage report {report.report_id} failed ({report.state_reason}); " if report else ""
        if not request_reports:
            result[image_id] = (f"{failed}no usage report: --request-usage-reports asks AWS for one", False)
            continue
        try:
            report_id = images.request_usage_report(ec2, image_id)
            result[image_id] = (f"{failed}usage report {report_id} requested: run again when it is ready", False)
        except aws.AWS_ERRORS as error:
            unavailable = aws.describe_error(error, "usage report")
            result[image_id] = (f"{failed}usage report unavailable ({unavailable})", False)
    return result


def read_usage_report(report: images.UsageReport) -> tuple[str, bool] | None:
    """What a usage report says, and whether it shows the AMI in use in another account; None when the
    report failed and a new one is needed."""
    if report.state == "error":
        return None
    if report.state != "available":
        return f"usage report {report.report_id} {report.state} since {report.creation_time}", False
    users: dict[str, list[str]] = {}
    for entry in report.entries:
        if entry.usage_count > 0:
            users.setdefault(entry.account_id, []).append(f"{entry.usage_count} {entry.resource_type}")
    if not users:
        return f"no other account uses it per usage report of {report.creation_time}", False
    who = ", ".join(f"account {account} ({', '.join(kinds)})" for account, kinds in sorted(users.items()))
    return f"used by {who} per usage report of {report.creation_time}", True


def region_candidates(
    region: str,
    clients: dict[str, Any],
    rule: ApprovalRule,
    account_id: str,
    args: argparse.Namespace,
    progress: Heartbeat | None = None,
) -> RegionCandidates:
    now = datetime.now(timezone.utc)
    cutoff = now - timedelta(days=args.days)
    step = progress.step if progress is not None else (lambda region, doing: None)
    step(region, "listing AMIs and their uses")
    try:
        old = {
            image.image_id: (image, created)
            for image in owned_images(clients["ec2"])
            if (created := _created(image)) is not None and created < cutoff
        }
        used = used_amis(clients["ec2"], clients["autoscaling"], set(old))
    except aws.AWS_ERRORS as error:
        return RegionCandidates(region, [], aws.describe_error(error, f"region {region}"))
    listed = {ami_id: pair for ami_id, pair in old.items() if ami_id not in used or args.include_in_use}
    step(region, f"weighing {len(listed)} AMI(s)")
    evidence = (
        gather_evidence(clients, [image for image, _ in listed.values()], cutoff, args.request_usage_reports)
        if listed
        else {}
    )
    verdicts = Classifier(clients["ec2"], rule, account_id).described(image for image, _ in listed.values())
    candidates = []
    for ami_id, (image, created) in listed.items():
        in_use = ami_id in used
        classification = verdicts[ami_id]
        action, kept_because = decide(image, classification, in_use, evidence[ami_id], args)
        reason = f"{classification.reason}; in use" if in_use else classification.reason
        candidates.append(
            Candidate(
                region,
                image,
                (now - created).days,
                classification.verdict,
                reason,
                in_use or evidence[ami_id].used_elsewhere or bool(evidence[ami_id].references),
                action,
                kept_because,
                evidence[ami_id],
            )
        )
    return RegionCandidates(region, candidates)


def _confirm(count: int, regions: int, err: TextIO) -> bool:
    err.write(f"Deregister {count} AMI(s) in {regions} region(s)? Their snapshots are kept. [y/N] ")
    err.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def recycle_bin_notes(targets: list[Candidate]) -> list[str]:
    """One line per region, said before deregistering: whether the step can be undone from the Recycle Bin."""
    notes = []
    for region in sorted({c.region for c in targets}):
        here = [c for c in targets if c.region == region]
        final = [c for c in here if c.evidence.recycle_bin == "none"]
        unknown = [c for c in here if c.evidence.recycle_bin == "unknown"]
        if unknown:
            notes.append(
                f"{region}: Recycle Bin coverage unknown for {len(unknown)} of {len(here)} AMI(s) to deregister "
                f"({unknown[0].evidence.recycle_bin_detail}): assume it cannot be undone"
            )
        elif final:
            notes.append(
                f"{region}: no Recycle Bin retention rule covers {len(final)} of {len(here)} AMI(s) to deregister: "
                "deregistering them cannot be undone"
            )
        else:
            notes.append(f"{region}: a Recycle Bin retention rule covers all {len(here)} AMI(s) to deregister")
    return notes


def _deregister(candidate: Candidate, clients: dict[str, Any]) -> Candidate:
    try:
        clients["ec2"].deregister_image(ImageId=candidate.image.image_id)
    except aws.AWS_ERRORS as error:
        message = aws.describe_error(error, f"region {candidate.region}: {candidate.image.image_id}")
        options.error(message)
        return replace(
            candidate,
            action=f"failed: {aws.error_code(error) or type(error).__name__}",
            kept_because=f"deregistration failed: {message}",
        )
    return replace(candidate, action=DEREGISTERED)


def run(args: argparse.Namespace) -> int:
    if args.days < 0:
        raise aws.UsageError("--days must be 0 or more")
    if args.deregister and not args.yes and not sys.stdin.isatty():
        raise aws.UsageError("--deregister needs confirmation: run it on a terminal, or add --yes")
    rule = options.rule_from_args(args)
    # From the first call on: resolving regions and the account is already a wait on a slow endpoint.
    with Heartbeat(sys.stderr, "retire", None) as heartbeat:
        session = aws.session(args.profile)
        chosen = options.region_choice(args)
        regions = aws.enabled_regions_here(session) if chosen is None else aws.check_regions(session, chosen)
        account_id = aws.account_id(session, regions[0])
        clients = {r: {s: aws.client(session, s, r) for s in ("ec2", "autoscaling", "rbin")} for r in regions}
        heartbeat.expect(len(regions))
        results = fanout.map_regions(
            lambda r: heartbeat.tick(region_candidates(r, clients[r], rule, account_id, args, heartbeat)), regions
        )

    candidates = sorted(
        (c for result in results for c in result.candidates),
        key=lambda c: (VERDICT_ORDER[c.verdict], -c.age_days, c.region, c.image.image_id),
    )
    targets = [c for c in candidates if c.action == TO_DEREGISTER]
    if targets:
        for note in recycle_bin_notes(targets):
            print(f"{options.PROG}: {note}", file=sys.stderr)
    confirmed = args.deregister and bool(targets) and (args.yes or _confirm(len(targets), len(regions), sys.stderr))
    if confirmed:
        candidates = [_deregister(c, clients[c.region]) if c.action == TO_DEREGISTER else c for c in candidates]
    elif args.deregister:
        candidates = [replace(c, action="not deregistered") if c.action == TO_DEREGISTER else c for c in candidates]

    writer = make_writer(args.format, sys.stdout, RETIRE_LAYOUT, summary_stream=sys.stderr)
    writer.write_all(candidates)
    for result in results:
        if result.error:
            options.error(result.error)
    failed = [result.region for result in results if result.error]
    done = sum(1 for c in candidates if c.action == DEREGISTERED)
    not_done = sum(1 for c in candidates if c.action.startswith("failed"))
    kept = sum(1 for c in candidates if c.action in KEEP_ACTIONS)
    size = sum(c.image.snapshot_size_gib for c in candidates if c.action not in KEEP_ACTIONS)
    summary = (
        f"{len(candidates)} AMI(s) older than {args.days} days in {len(regions) - len(failed)} of "
        f"{len(regions)} regions, {kept} kept, {size} GiB of snapshots behind those to retire; "
    )
    if not args.deregister:
        summary += "dry run: nothing deregistered (add --deregister)"
    else:
        summary += f"{done} deregistered, their snapshots kept"
    if not_done:
        summary += f"; {not_done} failed to deregister"
    summary += fanout.failures_note(failed, scanned=len(failed) < len(regions))
    writer.close(summary)
    if not_done and len(failed) < len(regions):
        return options.EXIT_PARTIAL
    return options.exit_code({}, frozenset(), scanned=len(regions) - len(failed), failed=len(failed))


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser(
        "retire",
        help="AMIs this account owns that no instance, launch template or Auto Scaling group uses",
        description="List AMIs owned by this account, older than --days, that no instance, launch template "
        "version or launch configuration uses, with their snapshots, sharing and Recycle Bin coverage; "
        "unapproved first. Dry run unless --deregister. Shared, public, in-use and approved AMIs are kept "
        "unless asked; AMIs with deregistration protection always.",
        epilog="exit codes: 0 done, 2 usage or runtime error, 3 partial: a region failed, or an AMI failed to "
        "deregister",
    )
    options.add_region_argument(parser)
    options.add_rule_arguments(parser)
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
    parser.add_argument(
        "--include-shared",
        action="store_true",
        help="also deregister unused AMIs shared with other accounts, organizations or OUs, or public "
        "(their consumers lose them)",
    )
    parser.add_argument(
        "--request-usage-reports",
        action="store_true",
        help="ask AWS for an AMI usage report (CreateImageUsageReport) for each shared AMI that has none; "
        "the report is kept 30 days and read by the next run",
    )
    options.add_format_argument(parser, FORMATS)
    options.add_profile_argument(parser)
    parser.set_defaults(run=run)
