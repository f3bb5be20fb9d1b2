"""make try / make try-stop: an AWS emulator left running with a seeded fleet, to try the CLI on.

`start` launches moto server on loopback in a session of its own, seeds it (harness/fleet.py: AMIs of
every verdict, instances, a launch template, an Auto Scaling group, in two regions of three accounts of
an organization), records its process ID and URL in .cache/try/emulator.json, and prints the commands
to run. `stop` ends that process, and only it: the recorded process ID must still run moto server.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

from moto.utilities.utils import load_resource

from harness import fleet
from harness.emulator import start_detached
from harness.tfcli import CACHE_DIR

DEFAULT_STATE = CACHE_DIR / "try" / "emulator.json"


def _running(pid: int) -> bool:
    """Whether pid is a live moto server (and not a process that reused the number)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"moto.server" in command


def _recorded(path: Path) -> dict[str, object] | None:
    if not path.is_file():
        return None
    state = json.loads(path.read_text())
    return state if _running(int(state["pid"])) else None


def start(path: Path) -> int:
    state = _recorded(path)
    if state is not None:
        print(f"an emulator already runs for `make try` at {state['url']} (process {state['pid']}); `make try-stop` ends it")
        print("\n".join(f"  {line}" for line in fleet.commands(str(state["url"]))))
        return 0
    began = time.monotonic()
    print("starting the AWS emulator (moto server) on loopback ...", flush=True)
    # Amazon's public AMIs: moto's short default list alone. Without MOTO_AMIS_PATH moto also loads its
    # list of the latest AMIs of the region in every account and region at first use, a minute of CPU.
    amis = path.with_name("amis.json")
    amis.write_text(json.dumps(load_resource("ec2/resources/amis.json")))
    pid, url = start_detached(path.with_name("moto.log"), environment={"MOTO_AMIS_PATH": str(amis)})
    path.write_text(json.dumps({"pid": pid, "url": url}))
    print(f"seeding accounts {', '.join(fleet.MEMBERS)} and the management account in {', '.join(fleet.REGIONS)} ...", flush=True)
    try:
        seeded = fleet.seed(url)
    except BaseException:
        stop(path)
        raise
    instances = sum(len(found) for found in seeded.instances.values())
    images = sum(len(found) for found in seeded.images.values())
    print(f"emulator at {url} (process {pid}): {len(seeded.accounts)} accounts, {images} AMIs, "
          f"{instances} instances, seeded in {time.monotonic() - began:.0f} s")
    print("try the CLI (approved AMIs carry Environment=Prod):")
    print("\n".join(f"  {line}" for line in fleet.commands(url)))
    print("retire keeps try-unused-old-build here, as it keeps any AMI whose references it cannot read: the")
    print("emulator does not serve DescribeImageReferences; against AWS it would list it to deregister.")
    print("then: make try-stop")
    return 0


def stop(path: Path) -> int:
    if not path.is_file():
        print("no emulator recorded for `make try`")
        return 0
    state = json.loads(path.read_text())
    pid = int(state["pid"])
    if _running(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _running(pid):
            os.kill(pid, signal.SIGKILL)
        print(f"stopped the emulator at {state['url']} (process {pid})")
    else:
        print(f"the emulator at {state['url']} no longer runs")
    path.unlink()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE, help=f"where the emulator is recorded ({DEFAULT_STATE})")
    args = parser.parse_args(argv)
    args.state.parent.mkdir(parents=True, exist_ok=True)
    return start(args.state) if args.action == "start" else stop(args.state)


if __name__ == "__main__":
    sys.exit(main())
