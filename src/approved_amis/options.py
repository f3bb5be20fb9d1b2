"""What every command shares: exit codes, the flags for the rule, regions, format and profile, and the
one-line error. Commands import this module; only `cli` imports the commands."""

from __future__ import annotations

import argparse
import sys
from typing import Mapping, NoReturn, Sequence

from approved_amis.aws import UsageError
from approved_amis.classify import Verdict
from approved_amis.rule import ApprovalRule, RuleError

# Exit codes, shared by every command (the parser's epilog says them too).
EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_PARTIAL = 3

PROG = "approved-amis"


def add_rule_arguments(parser: argparse.ArgumentParser) -> None:
    """The approval rule as flags, or read from an applied Terraform root (--from-terraform)."""
    group = parser.add_argument_group("approval rule (flags, or --from-terraform)")
    group.add_argument("--tag-key", help="tag key that marks an AMI as approved, e.g. Environment")
    group.add_argument(
        "--tag-value", action="append", default=[], help="approved value of the tag (repeatable, case-sensitive)"
    )
    group.add_argument("--ami-id", action="append", default=[], help="AMI ID approved whatever its tags (repeatable)")
    group.add_argument(
        "--owner",
        action="append",
        default=[],
        help='AMI owner approved whatever the tags: account ID, "amazon" or "aws-marketplace" (repeatable)',
    )
    group.add_argument(
        "--from-terraform",
        metavar="DIR",
        help="read the rule from the `approval_rule` output of the Terraform root in DIR (terraform output -json)",
    )


def rule_from_args(args: argparse.Namespace) -> ApprovalRule:
    """The rule the flags describe; a RuleError when they describe none or two."""
    flags_given = bool(args.tag_key or args.tag_value or args.ami_id or args.owner)
    if args.from_terraform:
        if flags_given:
            raise RuleError("give the rule either as flags or with --from-terraform, not both")
        return ApprovalRule.from_terraform_root(args.from_terraform)
    if not args.tag_key:
        raise RuleError("no approval rule: give --tag-key and --tag-value, or --from-terraform DIR")
    return ApprovalRule(
        tag_key=args.tag_key,
        tag_values=tuple(dict.fromkeys(args.tag_value)),
        ami_ids=tuple(dict.fromkeys(args.ami_id)),
        ami_owners=tuple(dict.fromkeys(args.owner)),
    )


ALL_REGIONS = "all"


def _region_list(value: str) -> list[str]:
    """One --region value: a region, comma-separated regions, or `all`."""
    regions = [part.strip() for part in value.split(",") if part.strip()]
    if not regions:
        raise argparse.ArgumentTypeError("give a region, comma-separated regions or `all`, e.g. us-east-1,eu-west-1")
    return regions


def add_region_argument(parser: argparse.ArgumentParser) -> None:
    """--region and --regions, one flag under two names: repeat it or comma-separate (`--region a,b`)."""
    parser.add_argument(
        "--region",
        "--regions",
        dest="region",
        metavar="REGION[,...]",
        type=_region_list,
        action="extend",
        default=[],
        help="regions to scan: repeat or comma-separate (--region us-east-1,eu-west-1); `all` for every region "
        "enabled in the account (DescribeRegions); default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region",
    )


def region_choice(args: argparse.Namespace) -> list[str] | None:
    """The regions given, deduplicated in order ([] when none: the default region); None for `all`."""
    regions = list(dict.fromkeys(args.region))
    if ALL_REGIONS in regions:
        if len(regions) > 1:
            raise UsageError(f"--region {ALL_REGIONS} scans every enabled region: give it alone")
        return None
    return regions


def add_format_argument(parser: argparse.ArgumentParser, choices: Sequence[str]) -> None:
    parser.add_argument("--format", choices=list(choices), default=choices[0], help="output format")


def add_profile_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", help="AWS profile (default: AWS_PROFILE or the default credential chain)")


def add_fail_on_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fail-on",
        choices=[Verdict.UNAPPROVED.value, Verdict.UNKNOWN.value],
        default=Verdict.UNAPPROVED.value,
        help="exit 1 on unapproved uses (default), or on unapproved and unknown ones",
    )


def failing_verdicts(fail_on: str) -> frozenset[Verdict]:
    if fail_on == Verdict.UNKNOWN.value:
        return frozenset({Verdict.UNAPPROVED, Verdict.UNKNOWN})
    return frozenset({Verdict.UNAPPROVED})


def exit_code(
    counts: Mapping[Verdict, int], failing: frozenset[Verdict], scanned: int = 1, failed: int = 0
) -> int:
    """The exit code every command ends with: 2 when nothing could be scanned, 3 when a part failed, 1 on a
    failing verdict, else 0."""
    if failed and not scanned:
        return EXIT_ERROR
    if failed:
        return EXIT_PARTIAL
    return EXIT_FINDINGS if any(counts.get(verdict) for verdict in failing) else EXIT_CLEAN


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line on stderr and exit 2, as every other usage error."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix(PROG).strip()
        error(f"{command}: {message}" if command else message)
        raise SystemExit(EXIT_ERROR)


def error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)
