"""The longest silence of a command as a terminal shows it: run it on a pseudo-terminal, time every chunk
of output (standard output and error alike), print the longest gap between two of them (from the start to
the first, and from the last to the end, included), the number of chunks and the wall time.

    python -m scripts.silence -- approved-amis retire --tag-key Environment --tag-value Prod --region eu-west-1
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import subprocess
import sys
import time


def measure(command: list[str], trace: bool = False) -> tuple[float, int, float, int]:
    """(longest silence s, chunks, wall s, exit code) of command run on a pseudo-terminal; with trace, each
    chunk's time and first characters on standard error."""
    leader, follower = pty.openpty()
    started = time.monotonic()
    process = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower, close_fds=True)
    os.close(follower)
    last, longest, chunks = started, 0.0, 0
    while True:
        ready, _, _ = select.select([leader], [], [], 0.05)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the other end closed: the command ended
                break
            if not data:
                break
            now = time.monotonic()
            longest, last, chunks = max(longest, now - last), now, chunks + 1
            if trace:
                print(f"{now - started:7.2f} s  {data[:70]!r}", file=sys.stderr)
        elif process.poll() is not None:
            break
    code = process.wait()
    end = time.monotonic()
    os.close(leader)
    return max(longest, end - last), chunks, end - started, code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trace", action="store_true", help="print each chunk's time and start")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to measure after --")
    longest, chunks, wall, code = measure(command, args.trace)
    print(f"longest silence {longest:.1f} s, {chunks} output chunks in {wall:.1f} s, exit code {code}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
