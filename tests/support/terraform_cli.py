"""The terraform CLI as the tests run it outside tftest: one process, output captured, a failure shown whole."""

from __future__ import annotations

import subprocess
from pathlib import Path

DEFAULT_TIMEOUT = 900


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = DEFAULT_TIMEOUT) -> subprocess.CompletedProcess[str]:
    """`terraform ARGS` in cwd; the completed process, whatever its exit code."""
    return subprocess.run(["terraform", *args], cwd=cwd, env=env, text=True, capture_output=True, timeout=timeout)


def must(result: subprocess.CompletedProcess[str]) -> str:
    """The output of a run that must have succeeded; an AssertionError with the end of its output otherwise."""
    assert result.returncode == 0, f"{' '.join(result.args)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result.stdout


def check(args: list[str], cwd: Path, env: dict[str, str], timeout: int = DEFAULT_TIMEOUT) -> str:
    """`terraform ARGS` that must succeed: its standard output."""
    return must(run(args, cwd, env, timeout))
