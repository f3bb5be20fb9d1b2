"""`approved-amis check-plan`: the AMIs a saved Terraform plan would launch, classified as `audit` does,
before anything is applied."""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from approved_amis import aws, options
from approved_amis.classify import Classification, Classifier, Verdict, classify_use
from approved_amis.fanout import map_regions
from approved_amis.inventory import LaunchTemplates, launch_configuration_amis
from approved_amis.output import Finding, make_writer, plan_layout, reason_via, verdict_summary
from approved_amis.plan import (
    AMI,
    FLOATING_VERSION,
    ExternalTemplate,
    PlanError,
    PlannedLaunch,
    load_plan,
    parse_plan,
    planned_launches,
)
from approved_amis.rule import ApprovalRule

FORMATS = ("table", "json", "sarif")


@dataclass(frozen=True)
class PlanFinding(Finding):
    """A finding located by its plan address, and by the .tf file and line when the configuration shows them."""

    file: str | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        row = super().to_dict()
        if self.file is not None:
            row["file"] = self.file
            row["line"] = self.line
        return row


def read_external(launches: list[PlannedLaunch], session: Any, default_region: str | None) -> list[PlannedLaunch]:
    """Launches through a template or configuration the plan does not manage, with the AMI the account has
    for it (the version the plan names, $Default when none), read as `audit` reads them."""
    by_region: dict[str, set[ExternalTemplate]] = defaultdict(set)
    for launch in launches:
        if launch.external is not None:
            by_region[_region(launch, default_region)].add(launch.external)
    found: dict[tuple[str, ExternalTemplate], tuple[str | None, str | None, str | None]] = {}
    for region, externals in by_region.items():
        if not region:
            continue
        try:
            found.update(_read_region(session, region, externals))
        except (ClientError, BotoCoreError) as error:
            reason = aws.describe_error(error, f"region {region}: reading templates the plan does not manage")
            found.update({(region, external): (None, None, reason) for external in externals})
    resolved = []
    for launch in launches:
        if launch.external is not None and (_region(launch, default_region), launch.external) in found:
            ami_id, via, reason = found[(_region(launch, default_region), launch.external)]
            launch = replace(launch, ami_id=ami_id, via=via, unknown_reason=reason or launch.unknown_reason)
        resolved.append(launch)
    return resolved


def _read_region(
    session: Any, region: str, externals: set[ExternalTemplate]
) -> dict[tuple[str, ExternalTemplate], tuple[str | None, str | None, str | None]]:
    templates = LaunchTemplates(aws.client(session, "ec2", region))
    if any(e.kind == "launch template" and e.identifier is None for e in externals):
        for _ in templates.pages():  # learns the IDs of templates named by name only
            pass
    names = {e.name for e in externals if e.kind == "launch configuration" and e.name}
    configurations = launch_configuration_amis(aws.client(session, "autoscaling", region), names) if names else {}
    found: dict[tuple[str, ExternalTemplate], tuple[str | None, str | None, str | None]] = {}
    for external in externals:
        absent = f"{external.describe()} is neither in this plan nor in {region}"
        if external.kind == "launch configuration":
            ami_id = configurations.get(external.name or "")
            found[(region, external)] = (ami_id, external.describe() if ami_id else None, None if ami_id else absent)
            continue
        specification = {"Version": external.version or "$Default"}
        specification.update({"LaunchTemplateId": external.identifier} if external.identifier else {})
        specification.update({"LaunchTemplateName": external.name} if external.name else {})
        try:
            reference, ami_id = templates.resolve(specification)
        except ClientError as error:
            found[(region, external)] = (None, None, f"{absent} ({aws.error_code(error)})")
            continue
        if ami_id:
            found[(region, external)] = (ami_id, f"launch template {reference}", None)
        else:
            known = reference.startswith("lt-")
            found[(region, external)] = (None, None, f"launch template {reference} sets no AMI" if known else absent)
    return found


def classify_launches(
    launches: list[PlannedLaunch], rule: ApprovalRule, session: Any, default_region: str | None
) -> list[PlanFinding]:
    """One finding per planned launch; AMIs described in batches, once per region, classified as `audit` does.

    Each AMI is looked up in the region its provider configuration works in, as the plan shows it;
    `default_region` (--region, AWS_REGION) only where the plan does not show it, and the reason says so.
    """
    by_region: dict[str, set[str]] = defaultdict(set)
    for launch in launches:
        if launch.ami_id is not None and launch.kind == AMI:
            by_region[_region(launch, default_region)].add(launch.ami_id)
    classifiers: dict[str, Classifier] = {}
    if by_region:
        if "" in by_region:
            raise aws.UsageError("the plan does not show the provider's region: give --region or set AWS_REGION")
        account = aws.account_id(session, next(iter(by_region)))
        for region in by_region:
            classifiers[region] = Classifier(aws.client(session, "ec2", region), rule, account, f" (searched {region})")

        def describe(region: str) -> None:
            try:
                classifiers[region](sorted(by_region[region]))
            except (ClientError, BotoCoreError) as error:
                raise aws.AwsError(aws.describe_error(error, f"region {region}: describing AMIs")) from None

        map_regions(describe, by_region)
    return [_finding(launch, _verdict(launch, rule, classifiers, default_region), default_region) for launch in launches]


def _region(launch: PlannedLaunch, default_region: str | None) -> str:
    """The region the launch's provider works in, as the plan shows it, else `default_region`; "" if neither."""
    return launch.region or default_region or ""


def _verdict(
    launch: PlannedLaunch, rule: ApprovalRule, classifiers: dict[str, Classifier], default_region: str | None
) -> Classification:
    classifier = classifiers.get(_region(launch, default_region))
    verdicts = classifier.verdicts if classifier is not None else {}
    verdict = classify_use(launch.kind, launch.ami_id, rule, verdicts, launch.unknown_reason or "AMI not known from the plan")
    if launch.kind == FLOATING_VERSION and launch.unknown_reason:
        return Classification(verdict.verdict, launch.unknown_reason)
    return verdict


def _finding(launch: PlannedLaunch, verdict: Classification, default_region: str | None) -> PlanFinding:
    reason = reason_via(verdict.reason, launch.via)
    if launch.region is None and default_region and launch.kind == AMI and launch.ami_id is not None:
        reason += f" [region {default_region} from --region/AWS_REGION: the plan does not show its provider's region]"
    return PlanFinding(
        resource_type=launch.resource_type,
        ami_id=launch.ami_id,
        verdict=verdict.verdict,
        reason=reason,
        address=launch.address,
        file=launch.location.path if launch.location else None,
        line=launch.location.line if launch.location else None,
        kind=launch.kind,
    )


def report(findings: list[PlanFinding], fmt: str, stream: TextIO, summary: str, summary_stream: TextIO) -> None:
    writer = make_writer(fmt, stream, plan_layout(findings), summary_stream=summary_stream)
    writer.write_all(findings)
    writer.close(summary)


def exit_code(findings: Iterable[PlanFinding], failing: frozenset[Verdict]) -> int:
    return options.EXIT_FINDINGS if any(f.verdict in failing for f in findings) else options.EXIT_CLEAN


def read_plan(path: str) -> dict[str, Any]:
    if path == "-":
        return parse_plan(sys.stdin.read(), "standard input")
    return load_plan(path)


def collect(paths: list[str], root: str | None) -> tuple[list[PlannedLaunch], int]:
    """The planned launches of every plan and how many EC2 launch resources the plans hold.

    Each plan's .tf files are looked up in `root`, by default the folder that holds the plan file.
    """
    launches: list[PlannedLaunch] = []
    resources = 0
    for path in paths:
        directory = Path(root) if root else (Path.cwd() if path == "-" else Path(path).parent)
        plan = read_plan(path)  # a missing plan is named as the plan, before its folder is looked at
        if not directory.is_dir():
            raise aws.UsageError(f"--root {directory}: not a directory")
        found = planned_launches(plan, directory)
        launches += found.launches
        resources += found.launch_resources
    return launches, resources


def run(args: argparse.Namespace) -> int:
    rule = options.rule_from_args(args)
    if args.region:
        aws.check_region_offline(args.region)
    try:
        launches, resources = collect(args.plan, args.root)
    except PlanError as problem:
        options.error(str(problem))
        return options.EXIT_ERROR
    name = ", ".join("standard input" if path == "-" else path for path in args.plan)
    findings: list[PlanFinding] = []
    if resources == 0:
        summary = (
            f"{name}: no EC2 launch resources (instances, launch templates, Auto Scaling groups, fleets, "
            "service-managed compute): nothing to check"
        )
    else:
        needs_aws = any((launch.ami_id and launch.kind == AMI) or launch.external for launch in launches)
        session = aws.session(args.profile) if needs_aws else None
        default_region = args.region or (session.region_name if session is not None else None)
        launches = read_external(launches, session, default_region)
        findings = classify_launches(launches, rule, session, default_region)
        summary = verdict_summary(Counter(finding.verdict for finding in findings), noun="planned AMI uses")
        if not findings:
            summary = f"{name}: no planned create or update launches an AMI ({resources} EC2 launch resources unchanged or deleted)"
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as output:
                report(findings, args.format, output, "", sys.stderr)
        except OSError as error:
            raise aws.UsageError(f"--output {args.output}: {error.strerror or error}") from None
        report(findings, "table", sys.stdout, summary, sys.stdout)
    else:
        report(findings, args.format, sys.stdout, summary, sys.stdout if args.format == "table" else sys.stderr)
    return exit_code(findings, options.failing_verdicts(args.fail_on))


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser(
        "check-plan",
        help="which AMIs a saved Terraform plan would launch, and whether the rule approves them",
        description="Classify the AMI of every instance, spot request, launch template, launch configuration, "
        "Auto Scaling group and fleet that a saved plan creates or updates. PLAN is the output of "
        "`terraform show -json PLANFILE` (- for standard input); several plans are checked together.",
        epilog="exit codes: 0 clean, 1 findings, 2 usage or runtime error",
    )
    parser.add_argument(
        "plan", metavar="PLAN", nargs="+", help="plan JSON from `terraform show -json PLANFILE` (- for standard input)"
    )
    options.add_rule_arguments(parser)
    parser.add_argument(
        "--region",
        help="region of the AMIs when the plan's provider configuration does not show it "
        "(default: AWS_REGION / the profile's region)",
    )
    options.add_format_argument(parser, FORMATS)
    parser.add_argument(
        "--output",
        metavar="FILE",
        help="write the --format report to FILE and print the table on standard output",
    )
    parser.add_argument(
        "--root",
        metavar="DIR",
        help="the Terraform root the plan was made in, to point findings at .tf files and lines "
        "(default: the folder that holds PLAN)",
    )
    options.add_fail_on_argument(parser)
    options.add_profile_argument(parser)
    parser.set_defaults(run=run)
