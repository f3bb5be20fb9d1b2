"""`approved-amis check-plan`: the AMIs a saved Terraform plan would launch, classified as `audit` does,
before anything is applied.

The package: `document` reads and validates the plan JSON; `resources` is the table of resource types
(one row each) and `services` their handlers; `walker` finds each planned launch, with `index` following
references to launch templates and `regions` reading each provider's region; `account` reads templates
the plan does not manage; `verdicts` classifies each launch.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, TextIO

from approved_amis import aws, options
from approved_amis.check_plan.account import read_external
from approved_amis.check_plan.document import PlanError, load_plan, parse_plan
from approved_amis.check_plan.launches import PlannedLaunch
from approved_amis.check_plan.verdicts import AMI_PARAMETER, PlanFinding, classify_launches
from approved_amis.check_plan.walker import planned_launches
from approved_amis.classify import AMI, AWS_MANAGED, FLOATING_VERSION, LAUNCH_CONFIGURATION, Verdict
from approved_amis.output import make_writer, plan_layout, verdict_summary

FORMATS = ("table", "json", "sarif")
PARAMETER_PATH = re.compile(r"^/[A-Za-z0-9_.*/-]+$")  # as the module validates ami_parameter_paths
KINDS = (AMI, FLOATING_VERSION, LAUNCH_CONFIGURATION, AWS_MANAGED, AMI_PARAMETER)  # kinds of finding a waiver may name


def report(findings: list[PlanFinding], fmt: str, stream: TextIO, summary: str, summary_stream: TextIO) -> None:
    writer = make_writer(fmt, stream, plan_layout(findings), summary_stream=summary_stream)
    writer.write_all(findings)
    writer.close(summary)


def exit_code(findings: Iterable[PlanFinding], failing: frozenset[Verdict]) -> int:
    """Findings fail unless waived."""
    return options.exit_code(Counter(f.verdict for f in findings if f.waiver is None), failing)


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
    for path in args.ami_parameter_path:
        if not PARAMETER_PATH.match(path) or path.startswith("/aws/"):
            raise aws.UsageError(
                f"--ami-parameter-path {path!r}: give an SSM parameter name starting with / (letters, digits, "
                "_ . - / and the wildcard *), for example /golden-ami/*, and not an Amazon /aws/ name"
            )
    if args.ami_parameter_path:
        rule = replace(rule, ami_parameter_paths=tuple(dict.fromkeys([*rule.ami_parameter_paths, *args.ami_parameter_path])))
    if args.region:
        aws.check_region_offline(args.region)
    try:
        launches, resources = collect(args.plan, args.root)
    except PlanError as problem:
        options.error(str(problem))
        return options.EXIT_ERROR
    check_waivers(launches)
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
        if args.baseline:
            findings = apply_baseline(findings, args.baseline, read_baseline(args.baseline))
        summary = verdict_summary(Counter(finding.verdict for finding in findings), noun="planned AMI uses")
        summary += waived_summary(findings, args.baseline)
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


def check_waivers(launches: list[PlannedLaunch]) -> None:
    """Every approved-amis:ignore comment gives a reason and, when it names a kind, a kind of finding."""
    seen = {waiver for launch in launches if launch.location for waiver in launch.location.waivers}
    for waiver in sorted(seen, key=lambda w: (w.path, w.line)):
        if not waiver.reason:
            raise aws.UsageError(
                f"{waiver.path}:{waiver.line}: approved-amis:ignore without a reason: write why the launch is "
                "accepted after it (# approved-amis:ignore <reason>)"
            )
        if waiver.kind is not None and waiver.kind not in KINDS:
            raise aws.UsageError(
                f"{waiver.path}:{waiver.line}: approved-amis:ignore[{waiver.kind}]: no such kind of finding "
                f"(one of {', '.join(KINDS)})"
            )


def read_baseline(path: str) -> set[tuple[Any, Any, Any]]:
    """The findings of a baseline file (the output of `check-plan --format json`), by address, kind and AMI."""
    try:
        with open(path, encoding="utf-8") as stream:
            document = json.load(stream)
    except OSError as error:
        raise aws.UsageError(f"--baseline {path}: {error.strerror or error}") from None
    except json.JSONDecodeError as error:
        raise aws.UsageError(f"--baseline {path}: not JSON ({error.msg} at line {error.lineno}): give the output "
                             "of `approved-amis check-plan --format json`") from None
    if not isinstance(document, list) or not all(isinstance(row, dict) and row.get("address") for row in document):
        raise aws.UsageError(f"--baseline {path}: not a list of findings: give the output of "
                             "`approved-amis check-plan --format json`")
    return {_baseline_key(row) for row in document}


def _baseline_key(row: dict[str, Any]) -> tuple[Any, Any, Any]:
    return row.get("address"), row.get("kind") or AMI, row.get("ami_id")


def apply_baseline(findings: list[PlanFinding], path: str, known: set[tuple[Any, Any, Any]]) -> list[PlanFinding]:
    """Findings already in the baseline are waived; new ones are not."""
    waived = []
    for finding in findings:
        if finding.verdict is not Verdict.APPROVED and finding.waiver is None and _baseline_key(finding.to_dict()) in known:
            finding = replace(finding, waiver=("external", f"known in baseline {path}"))
        waived.append(finding)
    return waived


def waived_summary(findings: list[PlanFinding], baseline: str | None) -> str:
    inline = sum(1 for f in findings if f.waiver is not None and f.waiver[0] == "inSource")
    external = sum(1 for f in findings if f.waiver is not None and f.waiver[0] == "external")
    if not inline and not external:
        return ""
    parts = [f"{inline} by approved-amis:ignore"] if inline else []
    parts += [f"{external} by --baseline {baseline}"] if external else []
    return f"; {inline + external} waived ({', '.join(parts)})"


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser(
        "check-plan",
        help="which AMIs a saved Terraform plan would launch, and whether the rule approves them",
        description="Classify the AMI of every instance, spot request, launch template, launch configuration, "
        "Auto Scaling group and fleet that a saved plan creates or updates. PLAN is the output of "
        "`terraform show -json PLANFILE` (- for standard input); several plans are checked together.",
        epilog="waivers: a comment `# approved-amis:ignore <reason>` (or `# approved-amis:ignore[KIND] <reason>`) "
        "in a resource block, or just above it, accepts its findings (of KIND only); --baseline FILE accepts "
        "the findings FILE lists. Waived findings are shown and counted, and do not fail. "
        "exit codes: 0 clean, 1 findings, 2 usage or runtime error",
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
    parser.add_argument(
        "--ami-parameter-path",
        action="append",
        default=[],
        metavar="PATH",
        help="SSM parameter name (wildcards allowed, e.g. /golden-ami/*) that a resolve:ssm: image may read, as the "
        "module's ami_parameter_paths (repeatable); with any, an image read from another parameter is an "
        "ami-parameter finding",
    )
    parser.add_argument(
        "--baseline",
        metavar="FILE",
        help="findings already known: the output of an earlier `check-plan --format json`; those it lists are "
        "waived (shown, not failing), new ones fail",
    )
    options.add_fail_on_argument(parser)
    options.add_profile_argument(parser)
    parser.set_defaults(run=run)
