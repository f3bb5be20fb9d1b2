"""make try / make try-stop: the emulator stays up with its seeded fleet, every printed command works as
printed, and try-stop ends that emulator and nothing else."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

from harness.tfcli import REPO_ROOT


def try_cli(action: str, state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.try_cli", action, "--state", str(state)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def shell_env(printed: str) -> dict[str, str]:
    """The variables the printed `export` lines set, over a bare environment ($PWD: the repository)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "PWD": str(REPO_ROOT)}
    for line in printed.splitlines():
        if line.strip().startswith("export "):
            for assignment in shlex.split(line.strip()[len("export ") :]):
                name, value = assignment.split("=", 1)
                env[name] = value.replace("$PWD", str(REPO_ROOT)).replace("$PATH", env["PATH"])
    return env


def printed_commands(printed: str) -> list[str]:
    return [line.strip() for line in printed.splitlines() if line.strip().startswith("approved-amis ")]


def run_printed(printed: str, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(shlex.split(command), env=shell_env(printed), cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)


def test_make_try_leaves_a_seeded_emulator_and_try_stop_ends_it(tmp_path: Path) -> None:
    """One seeded emulator serves every step (seeding three accounts in two regions takes a while)."""
    state = tmp_path / "emulator.json"
    assert try_cli("stop", state).stdout.startswith("no emulator recorded")
    started = try_cli("start", state)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        printed = started.stdout
        recorded = json.loads(state.read_text())
        commands = printed_commands(printed)
        assert [c.split()[1] for c in commands] == ["audit", "audit", "retire", "audit"], printed
        assert "--organization" in commands[-1] and "make try-stop" in printed

        audit, as_csv, retire, organization = (run_printed(printed, c) for c in commands)
        # Approved uses (tagged here, own and shared AMIs) and unapproved ones (another value, another
        # letter case, untagged, public, $Latest): the exit code says unapproved AMIs are in use.
        assert audit.returncode == 1, audit.stderr
        summary = re.search(r"2 of 2 regions scanned, (\d+) AMI uses: (\d+) approved, (\d+) unapproved", audit.stdout)
        assert summary and int(summary.group(2)) > 0 and int(summary.group(3)) > 0, audit.stdout
        assert {row.split(",")[2] for row in as_csv.stdout.splitlines()[1:]} == {"ami", "floating-version"}
        # Kept: the emulator does not serve DescribeImageReferences, and retire never takes unknown as unused.
        unused = next(line for line in retire.stdout.splitlines() if "try-unused-old-build" in line)
        assert retire.returncode == 0 and "whether anything references it is unknown" in unused, retire.stdout
        assert "DescribeImageReferences" in printed
        assert organization.returncode == 1, organization.stderr
        assert "3 of 3 accounts, 6 of 6 account regions scanned" in organization.stdout

        again = try_cli("start", state)
        assert f"already runs for `make try` at {recorded['url']}" in again.stdout
        assert json.loads(state.read_text()) == recorded
    finally:
        stopped = try_cli("stop", state)
    assert f"stopped the emulator at {recorded['url']} (process {recorded['pid']})" in stopped.stdout
    assert not state.exists()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", int(recorded["url"].rsplit(":", 1)[1]))) != 0
