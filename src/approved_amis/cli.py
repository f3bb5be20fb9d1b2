"""The `approved-amis` command line: one parser, subcommands registered by their modules.

Exit codes, shared by every command:
  0  clean: nothing unapproved
  1  findings: an unapproved AMI use (or an unknown one with --fail-on unknown)
  2  usage or runtime error: nothing trustworthy was produced
  3  partial scan: a region or an account failed; the others were reported
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from approved_amis import __version__, audit, check_plan, retire
from approved_amis.aws import AwsError, UsageError
from approved_amis.options import EXIT_ERROR, PROG, ArgumentParser, error
from approved_amis.rule import RuleError

# Each command module defines `register(subcommands)`: it adds its subcommand and sets `run(args) -> int`.
COMMANDS = (audit, retire, check_plan)


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=PROG,
        description="Find EC2 launches from AMIs that the approved-AMI rule does not approve.",
        epilog="exit codes: 0 clean, 1 findings, 2 usage or runtime error, 3 partial scan (a region or an account failed)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(subcommands)
    return parser


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
