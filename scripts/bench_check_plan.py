"""Benchmark `approved-amis check-plan` on a large plan: wall time, peak memory, DescribeImages calls.

Starts an emulator, registers the AMIs (approved, untagged, wrongly tagged), writes the JSON of a plan
with INSTANCES planned instances over AMIS distinct AMIs (in the root and in count / for_each module
instances), then runs check-plan in a fresh interpreter that counts DescribeImages calls. The call count
must equal ceil(distinct AMIs / batch size): each AMI is described once, in full batches.

    .venv/bin/python -m scripts.bench_check_plan [--instances 2000] [--amis 300]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import emulator
from harness.emulator import running_emulator
from harness.tfcli import REPO_ROOT, emulator_credentials

REGION = "us-east-1"
MODULES = ("", "module.web", 'module.workers["batch"]', 'module.workers["stream"]')


def seed(url: str, count: int) -> list[str]:
    """Register `count` AMIs: half approved, a quarter untagged, a quarter tagged in the wrong case."""
    ec2 = emulator.client("ec2", url, REGION)
    ids = []
    for index in range(count):
        image_id = ec2.register_image(Name=f"bench-{index}", RootDeviceName="/dev/xvda")["ImageId"]
        value = ("Prod", "Prod", None, "prod")[index % 4]
        if value:
            ec2.create_tags(Resources=[image_id], Tags=[{"Key": "Environment", "Value": value}])
        ids.append(image_id)
    return ids


def synthetic_plan(ami_ids: list[str], instances: int) -> dict[str, Any]:
    """A `terraform show -json` plan document: `instances` aws_instance creates spread over MODULES."""
    changes = []
    per_module = math.ceil(instances / len(MODULES))
    for number in range(instances):
        module = MODULES[number // per_module]
        index = number % per_module
        change: dict[str, Any] = {
            "address": f"{module + '.' if module else ''}aws_instance.app[{index}]",
            "mode": "managed",
            "type": "aws_instance",
            "name": "app",
            "index": index,
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "change": {
                "actions": ["create"],
                "before": None,
                "after": {"ami": ami_ids[number % len(ami_ids)], "instance_type": "t3.micro", "launch_template": []},
                "after_unknown": {"id": True, "arn": True, "launch_template": []},
            },
        }
        if module:
            change["module_address"] = module
        changes.append(change)
    resource = {
        "address": "aws_instance.app",
        "mode": "managed",
        "type": "aws_instance",
        "name": "app",
        "provider_config_key": "aws",
        "expressions": {"ami": {"references": ["var.ami_id"]}},
        "count_expression": {"constant_value": per_module},
    }
    child = {"resources": [resource]}
    return {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "planned_values": {"root_module": {}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {"aws": {"name": "aws", "expressions": {"region": {"constant_value": REGION}}}},
            "root_module": {
                "resources": [resource],
                "module_calls": {
                    "web": {"source": "./modules/app", "module": child},
                    "workers": {"source": "./modules/app", "module": child},
                },
            },
        },
        "applyable": True,
        "complete": True,
        "errored": False,
    }


CHILD = """
import json, resource, sys, time
from approved_amis import aws, cli
calls = {"DescribeImages": 0}
make_client = aws.client
def counting_client(session, service, region):
    client = make_client(session, service, region)
    def count(**_):
        calls["DescribeImages"] += 1
    client.meta.events.register("before-call.ec2.DescribeImages", count)
    return client
aws.client = counting_client
baseline_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
code = cli.main(sys.argv[1:])
wall = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
figures = {"exit": code, "wall_s": wall, "peak_rss_mib": peak_kib / 1024, "baseline_rss_mib": baseline_kib / 1024}
print(json.dumps({**figures, "calls": calls}), file=sys.stderr)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--amis", type=int, default=300)
    args = parser.parse_args()

    from approved_amis.images import DESCRIBE_IMAGES_BATCH_SIZE

    with running_emulator() as url, tempfile.TemporaryDirectory(prefix="bench-check-plan-") as scratch:
        started = time.perf_counter()
        ami_ids = seed(url, args.amis)
        print(f"seeded {len(ami_ids)} AMIs in {time.perf_counter() - started:.1f}s")
        plan_path = Path(scratch) / "plan.json"
        plan_path.write_text(json.dumps(synthetic_plan(ami_ids, args.instances)))
        print(f"plan: {args.instances} planned instances, {len(ami_ids)} distinct AMIs, "
              f"{plan_path.stat().st_size / 1e6:.1f} MB of JSON")

        env = dict(os.environ, **emulator_credentials(url), PYTHONPATH=str(REPO_ROOT / "src"))
        command = [sys.executable, "-c", CHILD, "check-plan", str(plan_path), "--tag-key", "Environment",
                   "--tag-value", "Prod", "--format", "json"]
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        if not result.stderr.strip():
            raise SystemExit(f"check-plan printed nothing on stderr (exit {result.returncode})")
        figures = json.loads(result.stderr.strip().splitlines()[-1])
        findings = json.loads(result.stdout)

    expected_calls = math.ceil(len(ami_ids) / DESCRIBE_IMAGES_BATCH_SIZE)
    calls = figures["calls"]["DescribeImages"]
    verdicts: dict[str, int] = {}
    for finding in findings:
        verdicts[finding["verdict"]] = verdicts.get(finding["verdict"], 0) + 1
    print(f"findings: {len(findings)} ({', '.join(f'{n} {v}' for v, n in sorted(verdicts.items()))}); exit {figures['exit']}")
    print(f"wall time: {figures['wall_s']:.2f}s (check-plan in-process, from argument parsing to the last line)")
    print(f"peak memory: {figures['peak_rss_mib']:.1f} MiB RSS, of which {figures['baseline_rss_mib']:.1f} MiB "
          "before the run (interpreter, boto3 and the CLI imported)")
    print(f"DescribeImages calls: {calls}; ceil({len(ami_ids)} distinct / batch {DESCRIBE_IMAGES_BATCH_SIZE}) = {expected_calls}")
    if calls != expected_calls or len(findings) != args.instances:
        print("FAIL: each AMI must be described once, in full batches, and every instance reported", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
