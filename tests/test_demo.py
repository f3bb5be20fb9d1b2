"""make demo: applies examples/complete to its own emulator, audits workloads, cleans up, leaves no process.

The demo runs once per run, in-process (`complete_example` fixture); tests/test_apply.py reads the same apply.
"""

from __future__ import annotations

import re
import socket

import pytest

from scripts.demo import QUIET_AFTER, DemoRun
from support.complete_example import Lifecycle

SILENCE_LIMIT = 5.0  # seconds: the longest the demo may print nothing


@pytest.fixture(scope="module")
def demo(complete_example: tuple[DemoRun, Lifecycle]) -> DemoRun:
    return complete_example[0]


def test_demo_runs_end_to_end_and_stops_its_emulator(demo: DemoRun) -> None:
    output = demo.output
    assert "no changes: the applied state matches the configuration" in output
    assert re.search(r"instance i-\w+ +eu-west-1 +ami-\w+ +approved +approved by tag Environment=Prod", output)
    assert re.search(r"launch from golden +allowed +allowed", output)
    for name in ("wrong-case", "dev-build", "untagged"):
        assert re.search(rf"launch from {name} +explicitly denied +explicitly denied", output), name
    assert re.search(r"a deployer tags untagged Environment=Prod +explicitly denied +explicitly denied", output)
    assert re.search(r"the AMI publisher tags untagged Environment=Prod +implicitly denied +allowed", output)
    assert "4 AMI uses: 1 approved, 3 unapproved, 0 unknown" in output
    assert "exit code 1 (1: unapproved AMIs in use)" in output
    assert "module.approved_amis.module.iam_policy.aws_iam_policy.this[0]" in output

    port = int(re.search(r"moto server\) on http://127\.0\.0\.1:(\d+)", output).group(1))
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, f"the demo's emulator still listens on {port}"


def test_each_step_prints_as_it_starts_and_ends(demo: DemoRun) -> None:
    starts = [line for _, line in demo.lines if line.startswith("== ")]
    ends = [line for _, line in demo.lines if re.fullmatch(r" +done in \d+\.\d s", line)]
    assert len(starts) >= 10 and len(ends) == len(starts), demo.output[-3000:]
    assert any(re.search(r": Creation complete after \S+", line) for _, line in demo.lines), "apply progress not shown"
    assert any(re.search(r": Destruction complete after \S+", line) for _, line in demo.lines), "destroy progress not shown"


def test_demo_is_never_silent_for_more_than_five_seconds(demo: DemoRun) -> None:
    assert QUIET_AFTER < SILENCE_LIMIT
    gaps = [(later[0] - earlier[0], earlier[1], later[1]) for earlier, later in zip(demo.lines, demo.lines[1:])]
    silence, before, after = max(gaps)
    assert silence <= SILENCE_LIMIT, f"the demo printed nothing for {silence:.1f} s, between {before!r} and {after!r}"
