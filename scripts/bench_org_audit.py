"""Benchmark: `approved-amis audit --organization` beside `c7n-org run` of the equivalent Custodian
policy, on the same organization in a fresh emulator.

Seeds an organization of --accounts member accounts (each with the audit role), --instances instances
in each of two regions per account, from four AMIs per account and region: tagged Environment=Prod
(approved), Environment=prod (wrong letter case), untagged, and one deregistered after launch; plus a
terminated instance per account and region. Then runs, each as its own process:
  ours     approved-amis audit --organization --role-name ApprovedAmisAudit --format json
  c7n-org  c7n-org run with a policy flagging EC2 instances whose image is not tagged Environment=Prod
and prints wall time and peak memory (resident set of the process and all its children, sampled every
20 ms), ours also over the first quarter of the accounts to show memory flat in the number of accounts,
and the verdicts compared row by row per (account, region, instance).

    make bench-org        (builds .venv-c7n, then runs this script)
    .venv/bin/python -m scripts.bench_org_audit --c7n-org .venv-c7n/bin/c7n-org [--accounts 20] [--instances 250]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any


REGIONS = ("us-east-1", "eu-west-1")
ROLE = "ApprovedAmisAudit"
KINDS = ("approved", "wrong_case", "untagged", "deregistered")
TAGS = {"approved": "Prod", "wrong_case": "prod", "deregistered": "Prod"}
SEED_THREADS = 8
POLICY = """policies:
  - name: unapproved-ami-instances
    resource: aws.ec2
    filters:
      - not:
          - type: image
            key: "tag:Environment"
            value: Prod
"""


def client(endpoint: str, service: str, region: str, credentials: dict[str, str] | None = None) -> Any:
    import boto3

    keys = credentials or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    return boto3.client(service, region_name=region, endpoint_url=endpoint, **keys)


def seed(endpoint: str, accounts: int, instances: int) -> tuple[dict[str, str], dict[tuple[str, str, str], str]]:
    """The organization: account name -> ID, and (account, region, instance) -> kind of its AMI."""
    organizations = client(endpoint, "organizations", "us-east-1")
    organizations.create_organization(FeatureSet="ALL")
    ids: dict[str, str] = {}
    for number in range(accounts):
        name = f"member-{number:02d}"
        status = organizations.create_account(AccountName=name, Email=f"{name}@example.com", RoleName=ROLE)
        ids[name] = status["CreateAccountStatus"]["AccountId"]
    sts = client(endpoint, "sts", "us-east-1")
    truth: dict[tuple[str, str, str], str] = {}
    lock = threading.Lock()

    def seed_region(job: tuple[str, str]) -> None:
        account, region = job
        role = f"arn:aws:iam::{account}:role/{ROLE}"
        answer = sts.assume_role(RoleArn=role, RoleSessionName="seed")["Credentials"]
        credentials = {
            "aws_access_key_id": answer["AccessKeyId"],
            "aws_secret_access_key": answer["SecretAccessKey"],
            "aws_session_token": answer["SessionToken"],
        }
        ec2 = client(endpoint, "ec2", region, credentials)
        base = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        builder = ec2.run_instances(ImageId=base, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
        images = {}
        for kind in KINDS:
            tags = [{"ResourceType": "image", "Tags": [{"Key": "Environment", "Value": TAGS[kind]}]}] if kind in TAGS else []
            images[kind] = ec2.create_image(InstanceId=builder, Name=f"bench-{kind}", TagSpecifications=tags)["ImageId"]
        ec2.terminate_instances(InstanceIds=[builder])
        found: dict[tuple[str, str, str], str] = {}
        for number, kind in enumerate(KINDS):
            # One launch per kind: its instances are one reservation, as an Auto Scaling group's would not be,
            # but seeding 10,000 instances one call each would dominate the benchmark's run time.
            count = len(range(number, instances, len(KINDS)))
            launched = ec2.run_instances(ImageId=images[kind], MinCount=count, MaxCount=count, InstanceType="t3.micro")
            found.update({(account, region, i["InstanceId"]): kind for i in launched["Instances"]})
        gone = ec2.run_instances(ImageId=images["untagged"], MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
        ec2.terminate_instances(InstanceIds=[gone])
        found[account, region, gone] = "terminated"
        ec2.deregister_image(ImageId=images["deregistered"])
        with lock:
            truth.update(found)

    with ThreadPoolExecutor(max_workers=SEED_THREADS) as pool:
        list(pool.map(seed_region, [(account, region) for account in ids.values() for region in REGIONS]))
    return ids, truth


################################################################################
# Measuring a process tree
################################################################################


def _tree_rss_kib(root: int) -> int:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status") as status:
                total += next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
        except OSError:
            continue
    return total


def measure(command: list[str], env: dict[str, str], stdout: Any) -> tuple[float, float, int]:
    """Wall seconds, peak resident MiB of the process tree, exit code."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=stdout, stderr=subprocess.PIPE, text=True)
    peak = 0
    stderr: list[str] = []
    reader = threading.Thread(target=lambda: stderr.append(process.stderr.read()), daemon=True)
    reader.start()
    while process.poll() is None:
        peak = max(peak, _tree_rss_kib(process.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - start
    reader.join()
    if process.returncode not in (0, 1, 3):
        sys.stderr.write("".join(stderr)[-3000:])
    return wall, peak / 1024, process.returncode


################################################################################
# Verdicts
################################################################################


def ours_verdicts(path: Path) -> dict[tuple[str, str, str], str]:
    rows = json.loads(path.read_text())
    return {(r["account_id"], r["region"], r["resource_id"]): r["verdict"] for r in rows if r["resource_type"] == "instance"}


def c7n_flagged(output: Path, names: dict[str, str]) -> set[tuple[str, str, str]]:
    flagged = set()
    for resources in output.glob("*/*/unapproved-ami-instances/resources.json"):
        account = names[resources.parts[-4]]
        region = resources.parts[-3]
        flagged.update((account, region, item["InstanceId"]) for item in json.loads(resources.read_text()))
    return flagged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--c7n-org", required=True, help="the c7n-org command of its own virtualenv")
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--instances", type=int, default=250, help="instances per account and region")
    args = parser.parse_args()

    from harness.emulator import running_emulator
    from harness.tfcli import emulator_credentials

    ours = str(Path(sys.executable).with_name("approved-amis"))
    with running_emulator() as endpoint, tempfile.TemporaryDirectory() as work_dir:
        work = Path(work_dir)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(emulator_credentials(endpoint), AWS_EC2_METADATA_DISABLED="true")
        env.pop("AWS_PROFILE")
        started = time.perf_counter()
        ids, truth = seed(endpoint, args.accounts, args.instances)
        live = sum(1 for kind in truth.values() if kind != "terminated")
        print(
            f"seeded {args.accounts} accounts x {len(REGIONS)} regions x {args.instances} instances "
            f"({live:,} live, {len(truth) - live} terminated) in {time.perf_counter() - started:.0f}s",
            flush=True,
        )
        rule = ["--tag-key", "Environment", "--tag-value", "Prod"]
        base = [ours, "audit", "--organization", "--role-name", ROLE, "--regions", ",".join(REGIONS), *rule]
        base += ["--exclude-accounts", "123456789012", "--format", "json"]
        quarter = ",".join(list(ids.values())[: max(1, args.accounts // 4)])

        (work / "accounts.yml").write_text(
            "accounts:\n"
            + "".join(
                f"  - name: {name}\n    account_id: '{account}'\n    role: arn:aws:iam::{account}:role/{ROLE}\n"
                f"    regions: [{', '.join(REGIONS)}]\n"
                for name, account in ids.items()
            )
        )
        (work / "policy.yml").write_text(POLICY)
        c7n = [args.c7n_org, "run", "-c", str(work / "accounts.yml"), "-u", str(work / "policy.yml")]
        c7n += ["-s", str(work / "c7n-out"), *[arg for r in REGIONS for arg in ("--region", r)]]

        results = {}
        with open(work / "ours.json", "w") as out:
            results["approved-amis audit"] = measure(base, env, out)
        with open(os.devnull, "w") as out:
            results[f"approved-amis audit, {quarter.count(',') + 1} accounts"] = measure(
                [*base[:-4], "--accounts", quarter, "--format", "json"], env, out
            )
            results["c7n-org run"] = measure(c7n, env, out)

        print(f"\n{'tool':<34} {'wall s':>7} {'peak MiB':>9} {'exit':>5}")
        for name, (wall, peak, code) in results.items():
            print(f"{name:<34} {wall:>7.1f} {peak:>9.0f} {code:>5}")

        verdicts = ours_verdicts(work / "ours.json")
        flagged = c7n_flagged(work / "c7n-out", ids)
        pairs: Counter[tuple[str, str, str]] = Counter()
        for key, kind in truth.items():
            pairs[kind, verdicts.get(key, "not reported"), "flagged" if key in flagged else "not flagged"] += 1
        print(f"\n{'instance AMI':<14} {'approved-amis':<14} {'c7n-org':<12} {'instances':>9}")
        for (kind, mine, theirs), count in sorted(pairs.items()):
            print(f"{kind:<14} {mine:<14} {theirs:<12} {count:>9,}")
        extra = set(verdicts) - set(truth)
        print(f"\nrows only ours reports beyond the seeded instances: {len(extra)}; c7n-org rows: {len(flagged)}")


if __name__ == "__main__":
    main()
