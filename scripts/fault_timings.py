"""How long the CLI takes to give up on faults, measured: `python -m scripts.fault_timings`.

- audit against an endpoint that refuses connections, and against one that never accepts them;
- retire against the emulator, which answers the APIs it does not serve (lastLaunchedTime, usage reports,
  Recycle Bin, DescribeImageReferences) with HTTP 500: not retried.

Each figure is the wall time of the installed command (interpreter start-up included, and shown net of the
start-up of `approved-amis --version`), its exit code, and the longest wait between two lines it wrote to
stderr (or from its start to the first line).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


from harness.emulator import client, running_emulator
from harness.tfcli import emulator_credentials

CLI = str(Path(sys.executable).with_name("approved-amis"))
RULE = ["--tag-key", "Environment", "--tag-value", "Prod"]


@contextmanager
def refusing_port() -> Iterator[int]:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


@contextmanager
def silent_port() -> Iterator[int]:
    """A listening port whose accept queue is full: new connections are dropped until they time out."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(0)
        waiting = []
        for _ in range(20):
            probe = socket.socket()
            probe.settimeout(0.5)
            try:
                probe.connect(held.getsockname())
            except OSError:
                probe.close()
                break
            waiting.append(probe)
        try:
            yield held.getsockname()[1]
        finally:
            for probe in waiting:
                probe.close()


def timed(args: list[str], endpoint: str) -> tuple[float, int, float]:
    """(seconds, exit code, longest stderr silence in seconds) of one run of the CLI."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= emulator_credentials(endpoint)
    started = last = time.monotonic()
    longest = 0.0
    process = subprocess.Popen([CLI, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    for _ in process.stderr:
        now = time.monotonic()
        longest, last = max(longest, now - last), now
    code = process.wait()
    ended = time.monotonic()
    return ended - started, code, max(longest, ended - last)


def seed(url: str) -> None:
    """Two unused AMIs of this account for retire to weigh."""
    ec2 = client("ec2", url)
    amazon = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    builder = ec2.run_instances(ImageId=amazon, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    for name in ("old-web", "old-batch"):
        ec2.create_image(InstanceId=builder, Name=name)
    ec2.terminate_instances(InstanceIds=[builder])


def main() -> None:
    # The start-up alone (interpreter, imports): on a loaded machine it dominates; the net column removes it.
    rows = [("approved-amis --version (start-up only)", *timed(["--version"], "http://127.0.0.1:9"))]
    audit = ["audit", "--region", "us-east-1", *RULE]
    with refusing_port() as port:
        rows.append(("audit, endpoint refuses connections", *timed(audit, f"http://127.0.0.1:{port}")))
    with silent_port() as port:
        rows.append(("audit, endpoint never accepts", *timed(audit, f"http://127.0.0.1:{port}")))
    with running_emulator() as url:
        seed(url)
        retire = ["retire", "--region", "us-east-1", *RULE, "--days", "0"]
        rows.append(("retire --days 0, emulator (unserved APIs)", *timed(retire, url)))
    start_up = rows[0][1]
    print(f"{'case':44}  {'seconds':>7}  {'net of start-up':>15}  {'exit':>4}  {'longest silence':>15}")
    for name, seconds, code, silence in rows:
        print(f"{name:44}  {seconds:7.2f}  {seconds - start_up:15.2f}  {code:4}  {silence:14.2f}s")


if __name__ == "__main__":
    main()
