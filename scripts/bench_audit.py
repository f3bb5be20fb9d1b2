"""Benchmark: `approved-amis audit` beside a bare boto3 loop over the same fleet on a fresh emulator.

Seeds 1,000, 2,000 then 5,000 instances over two regions (from 20 AMIs per region, some approved), and
at each size prints the wall time (best of --repeat interleaved runs) and the peak Python heap
(tracemalloc, service models included) of:
  audit  `approved-amis audit --format json` (output to /dev/null): instances, launch templates,
         Auto Scaling groups, DescribeImages in batches, classification, streamed output;
  bare   a paginated DescribeInstances + batched DescribeImages loop, region after region, that only
         collects the AMI IDs.
Each measurement runs in a fresh interpreter, so imports and caches are not shared between them.
From 2,000 instances on, every region's DescribeInstances pages are full (1,000 instances): the peak
must stay the same however many pages follow. The audit scans its regions concurrently, so it holds
one page per region in flight.

    .venv/bin/python -m scripts.bench_audit [--sizes 1000 2000 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor


REGIONS = ("us-east-1", "eu-west-1")
AMIS_PER_REGION = 20
# Instances per RunInstances call. One per call, as Auto Scaling launches them: the emulator pages
# DescribeInstances by reservation, so pages then hold as many instances as AWS pages do (1,000).
RUN_BATCH = 1
SEED_THREADS = 8
RULE = ["--tag-key", "Environment", "--tag-value", "Prod"]


def bare_loop(regions: list[str]) -> int:
    """What any script would do: every instance page, then DescribeImages for the distinct AMIs."""
    import boto3

    described = 0
    for region in regions:
        ec2 = boto3.client("ec2", region_name=region)
        amis: set[str] = set()
        pages = ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}],
            PaginationConfig={"PageSize": 1000},
        )
        for page in pages:
            for reservation in page["Reservations"]:
                for instance in reservation["Instances"]:
                    amis.add(instance["ImageId"])
        ordered = sorted(amis)
        for start in range(0, len(ordered), 100):
            images = ec2.describe_images(ImageIds=ordered[start : start + 100], IncludeDeprecated=True)
            described += len(images["Images"])
    return described


def audit(regions: list[str]) -> int:
    from approved_amis.cli import main

    args = ["audit", *[a for r in regions for a in ("--region", r)], *RULE, "--format", "json"]
    stdout, stderr = sys.stdout, sys.stderr
    with open(os.devnull, "w") as sink:
        sys.stdout = sys.stderr = sink
        try:
            return main(args)
        finally:
            sys.stdout, sys.stderr = stdout, stderr


def measure(kind: str, trace: bool) -> dict[str, float]:
    """Run one measurement in this process (called in a child interpreter)."""
    import boto3  # noqa: F401  (imported before timing, as in a long-running tool)

    import approved_amis.audit  # noqa: F401

    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    (audit if kind == "audit" else bare_loop)(list(REGIONS))
    wall = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    return {"wall": wall, "peak": peak}


def child(kind: str, trace: bool, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, *(["--trace"] if trace else [])],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def seed_images(endpoint: str) -> dict[str, list[str]]:
    from harness.emulator import client

    images: dict[str, list[str]] = {}
    for region in REGIONS:
        ec2 = client("ec2", endpoint, region)
        base = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        builder = ec2.run_instances(ImageId=base, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
        images[region] = []
        for number in range(AMIS_PER_REGION):
            value = "Prod" if number % 4 else "Dev"
            tags = [{"ResourceType": "image", "Tags": [{"Key": "Environment", "Value": value}]}]
            image = ec2.create_image(InstanceId=builder, Name=f"bench-{number}", TagSpecifications=tags)
            images[region].append(image["ImageId"])
        ec2.terminate_instances(InstanceIds=[builder])
    return images


def seed_instances(endpoint: str, images: dict[str, list[str]], count: int, offset: int) -> None:
    from harness.emulator import client

    per_region = count // len(REGIONS)
    jobs = [
        (region, images[region][(offset + number) % AMIS_PER_REGION])
        for region in REGIONS
        for number in range(0, per_region, RUN_BATCH)
    ]
    ec2 = {region: client("ec2", endpoint, region) for region in REGIONS}

    def launch(job: tuple[str, str]) -> None:
        region, image = job
        ec2[region].run_instances(ImageId=image, MinCount=RUN_BATCH, MaxCount=RUN_BATCH, InstanceType="t3.micro")

    with ThreadPoolExecutor(max_workers=SEED_THREADS) as pool:
        list(pool.map(launch, jobs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", choices=["audit", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.trace)))
        return

    from harness.emulator import running_emulator
    from harness.tfcli import emulator_credentials

    with running_emulator() as endpoint:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(emulator_credentials(endpoint), AWS_EC2_METADATA_DISABLED="true")
        env.pop("AWS_PROFILE")
        os.environ.update(env)
        os.environ.pop("AWS_PROFILE", None)
        images = seed_images(endpoint)
        seeded = 0
        print(f"{'instances':>9}  {'audit s':>8}  {'bare s':>8}  {'ratio':>6}  {'audit peak':>11}  {'bare peak':>10}")
        for size in sorted(args.sizes):
            started = time.perf_counter()
            seed_instances(endpoint, images, size - seeded, seeded)
            seeded = size
            seeding = time.perf_counter() - started
            # Interleaved, best of each: other load on the machine slows both alike.
            runs: dict[str, list[float]] = {"audit": [], "bare": []}
            for _ in range(args.repeat):
                for kind in runs:
                    runs[kind].append(child(kind, False, env)["wall"])
            walls = {kind: min(times) for kind, times in runs.items()}
            peaks = {kind: child(kind, True, env)["peak"] for kind in ("audit", "bare")}
            print(
                f"{size:>9,}  {walls['audit']:>8.2f}  {walls['bare']:>8.2f}  {walls['audit'] / walls['bare']:>6.2f}  "
                f"{peaks['audit'] / 2**20:>8.1f} MiB  {peaks['bare'] / 2**20:>7.1f} MiB   (seeded in {seeding:.0f}s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
