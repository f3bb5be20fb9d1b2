"""The `approved-amis` command line: one parser, subcommands registered by their modules.

Exit codes, shared by every command:
  0  clean: nothing unapproved
  1  findings: an unapproved AMI use (or an unknown one with --fail-on unknown)
  2  usage or runtime error: nothing trustworthy was produced
  3  partial scan: a region failed; the others were reported
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any, Callable, Sequence

from approved_amis import __version__
from approved_amis.aws import AwsError, UsageError
from approved_amis.classify import Verdict
from approved_amis.rule import ApprovalRule, RuleError

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_PARTIAL = 3

PROG = "approved-amis"

# Modules of this package that each define `register(subcommands)`: it adds one subcommand and sets
# `run(args) -> int` as the subcommand's default.
COMMAND_MODULES: tuple[str, ...] = ("audit", "retire", "check_plan")


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
        owners=tuple(dict.fromkeys(args.owner)),
    )


def add_region_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--region",
        action="append",
        default=[],
        help="region to scan (repeatable); default: AWS_REGION / the profile's region",
    )


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


def _registrars() -> list[Callable[[Any], None]]:
    return [importlib.import_module(f"approved_amis.{name}").register for name in COMMAND_MODULES]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Find EC2 launches from AMIs that the approved-AMI rule does not approve.",
        epilog="exit codes: 0 clean, 1 findings, 2 usage or runtime error, 3 partial scan (a region failed)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in _registrars():
        register(subcommands)
    return parser


def error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        return int(args.run(args))
    except (UsageError, RuleError, AwsError) as problem:
        error(str(problem))
        return EXIT_ERROR
    except KeyboardInterrupt:
        error("interrupted")
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
