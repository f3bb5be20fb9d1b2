"""make demo: applies examples/complete to its own emulator, audits workloads, cleans up, leaves no process."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

from harness.tfcli import REPO_ROOT


def test_demo_runs_end_to_end_and_stops_its_emulator() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scripts.demo"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=900
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
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
