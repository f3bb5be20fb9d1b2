"""The `approved-amis` command, run by the tests in this process: `run_cli(env, *args, stdin=...)` calls the
console script's entry point, `approved_amis.cli.main`, and returns what a process would have given
(`subprocess.CompletedProcess`: args, returncode, stdout, stderr).

Why in-process: each run as a process costs an interpreter start and the import of boto3, some 0.7 s of CPU
before the command does anything, and the tests run the command well over a hundred times. The installed
console script (`CLI`) is still run as a process where the process matters: the terminal tests (progress
on a terminal in tests/test_cli_audit.py, the confirmation prompt in tests/test_cli_retire.py), the plain
run of tests/test_cli_audit.py that must equal the in-process one, the wheel installed by pipx in
tests/test_release.py, and the audit step of scripts/demo.py (tests/test_demo.py).

What a fresh process would have, each run gets:
- `os.environ` is exactly `env` during the call, changed in place (botocore and the subprocesses the CLI
  starts read the process's environment itself), and restored afterwards: the CLI reads AWS_* variables
  and deletes an empty AWS_PROFILE.
- stdout and stderr are StringIO (not terminals, as pipes are not); stdin is a StringIO of `stdin`, empty
  when none is given.
- The exit status is the one `sys.exit(main())` gives; an exception the CLI lets out is printed to stderr
  and exits 1, as the interpreter does.
- `approved_amis.aws` keeps state for the life of a process: the endpoints it has said do not answer (said
  once per process) and the STS clients shared by the threads of one run. Both are emptied before each run.
- A PYTHONPATH naming tests/support/emulated_apis means, for a process, that its sitecustomize gives every
  botocore client the emulated APIs: here the same patch is applied for the duration of the call.
- A run that takes longer than `timeout` seconds raises subprocess.TimeoutExpired, as subprocess.run did.

Runs are serialised by a lock: the environment and sys.std* belong to the whole process.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from approved_amis import aws, cli
from support.aws_api import emulate_apis_on_every_client, emulated_apis_path

# The console script installed beside this interpreter, for the tests that run it as a process.
CLI = str(Path(sys.executable).with_name("approved-amis"))
PROG = "approved-amis"

_one_at_a_time = threading.Lock()


def run_cli(
    env: dict[str, str], *args: str, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`approved-amis *args` with environment `env` and standard input `stdin`, in this process."""
    argv = [PROG, *args]
    out, err = io.StringIO(), io.StringIO()
    with _one_at_a_time, _environment(env), _emulated_apis(env), _standard_streams(io.StringIO(stdin or ""), out, err):
        aws._warned_endpoints.clear()
        aws._shared_clients.clear()
        try:
            with _deadline(timeout, argv):
                code = _exit_status(argv[1:])
        finally:
            aws._shared_clients.clear()
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def _exit_status(args: list[str]) -> int:
    """The status the console script (`sys.exit(main())`) exits with."""
    try:
        code: object = cli.main(args)
    except SystemExit as exit_:
        code = exit_.code
    except _TimedOut:
        raise
    except BaseException:  # noqa: BLE001 -- the interpreter's own handling of an uncaught exception
        traceback.print_exc()
        return 1
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


@contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def _emulated_apis(env: dict[str, str]) -> Iterator[None]:
    """What sitecustomize in support/emulated_apis does for a process whose PYTHONPATH names it."""
    if emulated_apis_path() not in env.get("PYTHONPATH", "").split(os.pathsep):
        yield
        return
    undo = emulate_apis_on_every_client()
    try:
        yield
    finally:
        undo()


@contextmanager
def _standard_streams(stdin: io.StringIO, stdout: io.StringIO, stderr: io.StringIO) -> Iterator[None]:
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
    try:
        yield
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved


class _TimedOut(BaseException):
    """Raised in the main thread by SIGALRM; a BaseException so that no `except Exception` of the CLI takes it."""


@contextmanager
def _deadline(seconds: float, argv: list[str]) -> Iterator[None]:
    """subprocess.TimeoutExpired after `seconds` (SIGALRM: from the main thread only; elsewhere, no limit)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _TimedOut

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _TimedOut:
        raise subprocess.TimeoutExpired(argv, seconds) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
