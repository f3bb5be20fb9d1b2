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
import resource
import subprocess
import sys
import tempfile
import threading
import time
import statistics
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.latency_proxy import CALLER, DEFAULT_LATENCY_MS, DEFAULT_THROTTLE, LatencyProxy


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
    from harness.emulator import client as emulator_client

    # A busy machine can keep the emulator past botocore's 60 s read timeout on a large RunInstances.
    retries = {"mode": "standard", "max_attempts": 10}
    return emulator_client(service, endpoint, region, credentials, read_timeout=600, retries=retries)


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


def measure(command: list[str], env: dict[str, str], stdout: Any) -> tuple[float, float, int, float]:
    """Wall seconds, peak resident MiB of the process tree, exit code, CPU seconds of the process tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
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
    # Children count once waited for, with every descendant they waited for (c7n-org's worker processes).
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, peak / 1024, process.returncode, cpu


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


def compare(ours: dict[tuple[str, str, str], str], flagged: set[tuple[str, str, str]],
            truth: dict[tuple[str, str, str], str]) -> None:
    pairs: Counter[tuple[str, str, str]] = Counter()
    for key, kind in truth.items():
        pairs[kind, ours.get(key, "not reported"), "flagged" if key in flagged else "not flagged"] += 1
    print(f"\n{'instance AMI':<14} {'approved-amis':<14} {'c7n-org':<12} {'instances':>9}")
    for (kind, mine, theirs), count in sorted(pairs.items()):
        print(f"{kind:<14} {mine:<14} {theirs:<12} {count:>9,}")
    extra = set(ours) - set(truth)
    print(f"rows only ours reports beyond the seeded instances: {len(extra)}; c7n-org rows: {len(flagged)}")


def report_rows(path: Path) -> list[str]:
    """The report's rows, in a canonical order (accounts are written as they finish)."""
    return sorted(json.dumps(row, sort_keys=True) for row in json.loads(path.read_text()))


@dataclass
class Run:
    wall: float
    peak_mib: float
    code: int
    cpu: float
    calls: int
    member_calls: int
    throttled: int


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} (min {min(values):.1f}, max {max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--c7n-org", required=True, help="the c7n-org command of its own virtualenv")
    parser.add_argument("--accounts", type=int, default=40)
    parser.add_argument("--instances", type=int, default=15, help="instances per account and region")
    parser.add_argument("--latency-ms", type=float, default=DEFAULT_LATENCY_MS, help="added to every answer")
    parser.add_argument("--throttle", type=float, default=DEFAULT_THROTTLE, help="share of EC2 Describe calls throttled")
    parser.add_argument("--emulators", type=int, default=4, help="emulator processes behind the proxy")
    parser.add_argument("--runs", type=int, default=3, help="runs of each tool, alternating")
    args = parser.parse_args()

    from harness.emulator import running_emulator
    from harness.tfcli import emulator_credentials

    ours = str(Path(sys.executable).with_name("approved-amis"))
    with ExitStack() as stack:
        upstreams = [stack.enter_context(running_emulator()) for _ in range(args.emulators)]
        proxy = LatencyProxy(upstreams, latency_ms=0, throttle=0)
        endpoint = stack.enter_context(proxy.serving())
        work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(emulator_credentials(endpoint), AWS_EC2_METADATA_DISABLED="true")
        env.pop("AWS_PROFILE")
        started = time.perf_counter()
        ids, truth = seed(endpoint, args.accounts, args.instances)
        live = sum(1 for kind in truth.values() if kind != "terminated")
        print(
            f"seeded {args.accounts} accounts x {len(REGIONS)} regions x {args.instances} instances "
            f"({live:,} live, {len(truth) - live} terminated) in {time.perf_counter() - started:.0f}s, "
            f"{args.emulators} emulator processes behind the proxy",
            flush=True,
        )
        rule = ["--tag-key", "Environment", "--tag-value", "Prod"]
        base = [ours, "audit", "--organization", "--role-name", ROLE, "--regions", ",".join(REGIONS), *rule]
        base += ["--exclude-accounts", "123456789012", "--format", "json"]
        half = ",".join(list(ids.values())[: max(1, args.accounts // 2)])

        (work / "accounts.yml").write_text(
            "accounts:\n"
            + "".join(
                f"  - name: {name}\n    account_id: '{account}'\n    role: arn:aws:iam::{account}:role/{ROLE}\n"
                f"    regions: [{', '.join(REGIONS)}]\n"
                for name, account in ids.items()
            )
        )
        (work / "policy.yml").write_text(POLICY)

        def c7n(run: int) -> list[str]:
            # Its defaults, but a cache of its own per run: a cached listing would skip the calls measured.
            return [args.c7n_org, "run", "-c", str(work / "accounts.yml"), "-u", str(work / "policy.yml"),
                    "-s", str(work / f"c7n-out-{run}"), "--cache-path", str(mkdir(work / f"c7n-cache-{run}")),
                    *[arg for r in REGIONS for arg in ("--region", r)]]

        def measured(command: list[str], out_path: Path | None) -> Run:
            proxy.reset_counts()
            with open(out_path or os.devnull, "w") as out:
                wall, peak, code, cpu = measure(command, env, out)
            member = sum(n for (account, _), n in proxy.calls.items() if account != CALLER)
            return Run(wall, peak, code, cpu, sum(proxy.calls.values()), member, proxy.throttled)

        # The report without latency or throttling: what every run under them must equal.
        baseline = measured(base, work / "ours-baseline.json")
        proxy.latency_ms, proxy.throttle = args.latency_ms, args.throttle
        account_regions = args.accounts * len(REGIONS)
        runs: dict[str, list[Run]] = {"approved-amis audit": [], "c7n-org run": []}
        same_report = []
        for run in range(args.runs):
            # Alternating, so that a change in the machine's load weighs on both tools alike.
            order = ("ours", "c7n") if run % 2 == 0 else ("c7n", "ours")
            for tool in order:
                if tool == "ours":
                    runs["approved-amis audit"].append(measured(base, work / f"ours-{run}.json"))
                    same_report.append(report_rows(work / f"ours-{run}.json") == report_rows(work / "ours-baseline.json"))
                else:
                    runs["c7n-org run"].append(measured(c7n(run), None))
                print(f"run {run + 1} {tool}: {runs['approved-amis audit' if tool == 'ours' else 'c7n-org run'][-1]}", flush=True)
        memory = measured([*base[:-4], "--accounts", half, "--format", "json"], None)

        print(f"\nlatency {args.latency_ms:g} ms per answer, {args.throttle:.0%} of EC2 Describe calls throttled; "
              f"{args.accounts} accounts x {len(REGIONS)} regions = {account_regions} account-regions")
        print(f"{'tool':<22} {'run':>3} {'wall s':>7} {'CPU s':>6} {'peak MiB':>9} {'calls':>6} {'per acct-region':>15} "
              f"{'throttled':>9} {'exit':>5}")
        for name, measured_runs in runs.items():
            for number, r in enumerate(measured_runs, 1):
                print(f"{name:<22} {number:>3} {r.wall:>7.1f} {r.cpu:>6.1f} {r.peak_mib:>9.0f} {r.calls:>6} "
                      f"{r.calls / account_regions:>15.1f} {r.throttled:>9} {r.code:>5}")
        ours_walls = [r.wall for r in runs["approved-amis audit"]]
        c7n_walls = [r.wall for r in runs["c7n-org run"]]
        ratios = [o / c for o, c in zip(ours_walls, c7n_walls)]
        print(f"\nwall s, median of {args.runs}: approved-amis {spread(ours_walls)}, c7n-org {spread(c7n_walls)}")
        print(f"approved-amis / c7n-org per run: {', '.join(f'{r:.2f}' for r in ratios)}; "
              f"median of medians {statistics.median(ours_walls) / statistics.median(c7n_walls):.2f}")
        print(f"peak MiB of approved-amis: {statistics.median(r.peak_mib for r in runs['approved-amis audit']):.0f} "
              f"at {args.accounts} accounts, {memory.peak_mib:.0f} at {half.count(',') + 1} accounts")
        print(f"without latency or throttling: approved-amis {baseline.wall:.1f} s, {baseline.cpu:.1f} CPU s "
              f"({1000 * baseline.cpu / account_regions:.0f} ms per account-region), {baseline.calls} calls, exit {baseline.code}")
        print(f"uptime load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"report under latency and throttling identical to the one without: {all(same_report)} "
              f"({sum(same_report)} of {len(same_report)} runs)")

        compare(ours_verdicts(work / "ours-0.json"), c7n_flagged(work / "c7n-out-0", ids), truth)


def mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


if __name__ == "__main__":
    main()
