"""make bench: wall time of `terraform plan` for the examples beside the provider-only floor.

Two floors, both holding only the aws provider:
- "declared": the provider block alone. Terraform starts the provider for its schema but, with
  nothing to read or plan, never configures it (no credential or STS call);
- "configured": the same plus one `aws_partition` data source, which makes Terraform configure the
  provider as every real plan must. This is the floor the ratio is taken against.
Runs are interleaved (floors, examples, floors, ...) so load on the machine hits all alike; medians
are reported, with each configuration's ratio to both floors, and the resources each plan holds
(examples/complete turns every layer on: IAM, Config rules and recorder, alerts, remediation).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from harness.emulator import running_emulator
from harness.tfcli import REPO_ROOT, terraform_env
from harness.workspace import copy_example

FLOOR_CONFIG = """\
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80, < 7.0"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}
"""
CONFIGURED_FLOOR_CONFIG = FLOOR_CONFIG + """
data "aws_partition" "current" {}
"""
DECLARED = "floor: provider declared"
CONFIGURED = "floor: provider configured"


def timed_plan(directory: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        ["terraform", "plan", "-input=false", "-no-color", "-out", str(directory / "bench.tfplan")],
        cwd=directory, env=env, capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"terraform plan failed in {directory.name}:\n{result.stdout}{result.stderr}")
    return elapsed


def planned_resources(directory: Path, env: dict[str, str]) -> int:
    """Managed resources in the last plan written by timed_plan."""
    result = subprocess.run(
        ["terraform", "show", "-json", "bench.tfplan"], cwd=directory, env=env, capture_output=True, text=True, check=True
    )
    changes = json.loads(result.stdout).get("resource_changes", [])
    return sum(1 for change in changes if change["mode"] == "managed" and change["change"]["actions"] != ["no-op"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="plans per configuration (default 7)")
    parser.add_argument("examples", nargs="*", default=["complete"], help="example names (default: complete)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="approved-amis-bench-") as scratch, running_emulator() as url:
        env = terraform_env(url)
        configs: dict[str, Path] = {}
        for name, text in ((DECLARED, FLOOR_CONFIG), (CONFIGURED, CONFIGURED_FLOOR_CONFIG)):
            configs[name] = Path(scratch) / name.split()[-1]
            configs[name].mkdir()
            (configs[name] / "main.tf").write_text(text)
        for name in args.examples:
            configs[f"examples/{name}"] = copy_example(REPO_ROOT / "examples" / name, Path(scratch) / name)
        envs = {name: dict(env, TF_DATA_DIR=str(path / ".terraform")) for name, path in configs.items()}
        for name, path in configs.items():
            subprocess.run(["terraform", "init", "-input=false"], cwd=path, env=envs[name], check=True, capture_output=True)
            timed_plan(path, envs[name])  # warm-up: page cache, provider binary

        times: dict[str, list[float]] = {name: [] for name in configs}
        for _ in range(args.runs):
            for name, path in configs.items():
                times[name].append(timed_plan(path, envs[name]))
        resources = {name: planned_resources(path, envs[name]) for name, path in configs.items()}

    declared = statistics.median(times[DECLARED])
    configured = statistics.median(times[CONFIGURED])
    print(f"terraform plan wall time, median of {args.runs} interleaved runs")
    print(f"{'configuration':<28} {'resources':>9} {'median s':>9} {'min s':>7} {'max s':>7} {'x configured':>13} {'x declared':>11}")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(
            f"{name:<28} {resources[name]:>9} {median:>9.2f} {min(samples):>7.2f} {max(samples):>7.2f}"
            f" {median / configured:>13.2f} {median / declared:>11.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
