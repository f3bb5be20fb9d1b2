"""`approved-amis check-plan`: the AMIs a saved Terraform plan would launch, classified as `audit` does,
before anything is applied.

The package: `document` reads and validates the plan JSON; `resources` is the table of resource types
(one row each) and `services` their handlers; `walker` finds each planned launch, with `index` following
references to launch templates and `regions` reading each provider's region; `account` reads templates
the plan does not manage; `verdicts` classifies each launch.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, TextIO

from approved_amis import aws, options
from approved_amis.check_plan.account import read_external
from approved_amis.check_plan.document import PlanError, load_plan, parse_plan
from approved_amis.check_plan.launches import PlannedLaunch
from approved_amis.check_plan.verdicts import PlanFinding, classify_launches
from approved_amis.check_plan.walker import planned_launches
from approved_amis.classify import AMI, Verdict
from approved_amis.output import make_writer, plan_layout, verdict_summary

FORMATS = ("table", "json", "sarif")


def report(findings: list[PlanFinding], fmt: str, stream: TextIO, summary: str, summary_stream: TextIO) -> None:
    writer = make_writer(fmt, stream, plan_layout(findings), summary_stream=summary_stream)
    writer.write_all(findings)
    writer.close(summary)


def exit_code(findings: Iterable[PlanFinding], failing: frozenset[Verdict]) -> int:
    return options.exit_code(Counter(f.verdict for f in findings), failing)


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
