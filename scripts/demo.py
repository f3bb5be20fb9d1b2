"""make demo: apply examples/complete to a local AWS emulator and show what the guardrails do.

Starts moto server on loopback, applies the example exactly as a user would (the aws provider and
boto3 follow AWS_ENDPOINT_URL), prints what was created and the policy it renders, launches a few
workloads from approved and unapproved AMIs, evaluates the applied policy for launches and tag changes
on those AMIs, audits them with the rule read from the applied root, checks that a second plan is
empty, destroys everything and stops the emulator.

Each step prints a line when it starts and when it ends; terraform's progress is shown as it comes, and a
step that has printed nothing for QUIET_AFTER seconds says that it is still at work, so the demo is never
silent for long. The tests run it in-process (run_demo) and read the applied account between the steps.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, TextIO
from urllib.parse import unquote

from harness import emulator
from harness.emulator import running_emulator
from harness.iam_eval import Request, decide
from harness.tfcli import REPO_ROOT, must, run, terraform_env
from harness.workspace import copy_example

EXAMPLE = REPO_ROOT / "examples" / "complete"
# The example's documented input that switches off what the emulator cannot serve (Config remediation).
REGION = "eu-west-1"
EMULATOR_INPUTS = ["-var=create_ssm_remediation_configuration=false", f"-var=region={REGION}"]
CLI = Path(sys.executable).with_name("approved-amis")
# Workloads launched for the audit: name -> tags on the AMI they run.
WORKLOAD_IMAGES = {
    "golden": [{"Key": "Environment", "Value": "Prod"}],
    "wrong-case": [{"Key": "Environment", "Value": "prod"}],
    "dev-build": [{"Key": "Environment", "Value": "Dev"}],
    "untagged": [],
}
QUIET_AFTER = 2.0  # seconds without output after which a running step says it is still at work
# terraform lines worth showing while it applies or destroys: one per resource done.
PROGRESS = re.compile(r": (Creation|Destruction|Modifications) complete after \S+")


class Console:
    """The demo's output: lines stamped with the time they were written, and step start/end lines.

    A watcher thread prints `... <step>: still at work (N s)` whenever nothing was written for QUIET_AFTER
    seconds.
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.lines: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self._step: tuple[str, float] = ("starting", time.monotonic())
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    def say(self, text: str = "") -> None:
        with self._lock:
            for line in text.split("\n"):
                self.out.write(line + "\n")
                self.lines.append((time.monotonic(), line))
            self.out.flush()
            self._last = time.monotonic()

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        self.say(f"\n== {title}")
        started = time.monotonic()
        self._step = (title, started)
        try:
            yield
        finally:
            self.say(f"   done in {time.monotonic() - started:.1f} s")

    def longest_silence(self) -> float:
        """The longest time between two lines written (seconds)."""
        times = [stamp for stamp, _ in self.lines]
        return max((b - a for a, b in zip(times, times[1:])), default=0.0)

    def close(self) -> None:
        self._stop.set()
        self._watcher.join()

    def _watch(self) -> None:
        while not self._stop.wait(0.25):
            step = self._step
            if time.monotonic() - self._last >= QUIET_AFTER:
                self.say(f"   ... {step[0]}: still at work ({time.monotonic() - step[1]:.0f} s)")


def terraform(console: Console, args: list[str], workdir: Path, env: dict[str, str], progress: bool = False) -> str:
    """Run terraform, which must succeed; with progress, each resource it finishes is printed as it comes."""
    on_line = (lambda line: console.say("  " + line) if PROGRESS.search(line) else None) if progress else None
    result = run(args, workdir, env, on_line=on_line)
    if result.returncode != 0:
        console.say(result.stdout + result.stderr)
        raise SystemExit(f"terraform {args[0]} failed (exit {result.returncode})")
    return must(result)


def describe_policy(console: Console, document: dict) -> None:
    for statement in document["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        condition = json.dumps(statement.get("Condition", {}), sort_keys=True)
        console.say(f"  {statement['Effect']:<5} {', '.join(actions):<32} {statement['Sid']:<40} {condition}")


def launch_workloads(console: Console, url: str) -> dict[str, str]:
    """AMIs with and without the approval tag, and an instance running each: name -> AMI ID."""
    ec2 = emulator.client("ec2", url, REGION)
    images: dict[str, str] = {}
    base = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    builder = ec2.run_instances(ImageId=base, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    for name, tags in WORKLOAD_IMAGES.items():
        tag_spec = [{"ResourceType": "image", "Tags": tags}] if tags else []
        image = ec2.create_image(InstanceId=builder, Name=name, TagSpecifications=tag_spec)["ImageId"]
        ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)
        images[name] = image
        console.say(f"  {name:<12} {image}  tags {tags or 'none'}")
    ec2.terminate_instances(InstanceIds=[builder])
    return images


def applied_policy(url: str, policy_arn: str) -> dict[str, Any]:
    """The default version of a managed policy, as the emulator holds it."""
    iam = emulator.client("iam", url, REGION)
    version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]["Document"]
    return json.loads(unquote(document)) if isinstance(document, str) else dict(document)


def show_prevention(console: Console, policy: dict[str, Any], images: dict[str, str]) -> None:
    """Verdicts of the applied policy, alone and beside a grant of ec2:* on everything."""
    ec2_everything = {"Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}
    account = "123456789012"
    requests: list[tuple[str, Request]] = []
    for name, tags in WORKLOAD_IMAGES.items():
        context: dict[str, str | list[str]] = {f"ec2:ResourceTag/{t['Key']}": t["Value"] for t in tags}
        context.update({"ec2:ImageID": images[name], "ec2:Owner": account})
        arn = f"arn:aws:ec2:{REGION}::image/{images[name]}"
        requests.append((f"launch from {name}", Request("ec2:RunInstances", arn, context)))
    untagged = f"arn:aws:ec2:{REGION}::image/{images['untagged']}"
    for who, role in (("a deployer", "deployer"), ("the AMI publisher", "ami-publisher")):
        context = {"aws:TagKeys": ["Environment"], "aws:PrincipalArn": f"arn:aws:iam::{account}:role/{role}"}
        requests.append((f"{who} tags untagged Environment=Prod", Request("ec2:CreateTags", untagged, context)))
    console.say(f"  {'request':<50} {'policy alone':<20} policy + ec2:* elsewhere")
    for label, request in requests:
        console.say(f"  {label:<50} {decide(request, [policy]):<20} {decide(request, [policy, ec2_everything])}")


@dataclass
class DemoRun:
    """What a run of the demo printed and what its last steps returned."""

    url: str = ""
    console: Console | None = None
    second_plan: subprocess.CompletedProcess[str] | None = None
    destroy_output: str = ""
    audit_exit: int | None = None
    lines: list[tuple[float, str]] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "\n".join(line for _, line in self.lines)


# Called with (emulator URL, applied working directory, terraform environment) right after apply, and with
# the emulator URL right after destroy, before the emulator stops.
AppliedHook = Callable[[str, Path, dict[str, str]], None]
DestroyedHook = Callable[[str], None]


def run_demo(
    out: TextIO = sys.stdout, on_applied: AppliedHook | None = None, on_destroyed: DestroyedHook | None = None
) -> DemoRun:
    """The whole demo; the emulator is stopped when it returns."""
    console = Console(out)
    demo = DemoRun(console=console)
    try:
        _run(console, demo, on_applied, on_destroyed)
    finally:
        console.close()
        demo.lines = console.lines
    return demo


def _run(console: Console, demo: DemoRun, on_applied: AppliedHook | None, on_destroyed: DestroyedHook | None) -> None:
    with tempfile.TemporaryDirectory(prefix="approved-amis-demo-") as scratch:
        with console.step("Starting the AWS emulator (moto server) on loopback"):
            # The Config recorder's role attaches the AWS managed policy AWS_ConfigRole.
            started = running_emulator(aws_managed_policies=True)
            url = demo.url = started.__enter__()
            console.say(f"  AWS emulator (moto server) on {url}")
        try:
            workdir = copy_example(EXAMPLE, Path(scratch) / "complete")
            env = terraform_env(url)
            env["TF_DATA_DIR"] = str(Path(scratch) / ".terraform")
            with console.step("terraform init of examples/complete"):
                terraform(console, ["init", "-input=false", "-no-color"], workdir, env)
            try:
                _applied(console, demo, url, workdir, env, on_applied)
            finally:
                with console.step("Destroying"):
                    demo.destroy_output = terraform(
                        console, ["destroy", "-input=false", "-no-color", "-auto-approve", *EMULATOR_INPUTS], workdir, env,
                        progress=True,
                    )  # fmt: skip
                if on_destroyed is not None:
                    with console.step("Reading what destroy left"):
                        on_destroyed(url)
        finally:
            with console.step("Stopping the emulator"):
                started.__exit__(None, None, None)
                console.say("  done")


def _applied(
    console: Console, demo: DemoRun, url: str, workdir: Path, env: dict[str, str], on_applied: AppliedHook | None
) -> None:
    with console.step("Applying examples/complete"):
        terraform(console, ["apply", "-input=false", "-no-color", "-auto-approve", *EMULATOR_INPUTS], workdir, env, progress=True)
    if on_applied is not None:
        with console.step("Reading the applied account"):
            on_applied(url, workdir, env)
    with console.step("Created"):
        console.say(terraform(console, ["state", "list"], workdir, env).rstrip("\n"))
        outputs = json.loads(terraform(console, ["output", "-json"], workdir, env))
    with console.step("Approval rule"):
        console.say(json.dumps(outputs["approval_rule"]["value"], indent=2))
    with console.step(f"IAM policy {outputs['policy_arn']['value']}"):
        describe_policy(console, json.loads(outputs["policy_json"]["value"]))
    for part, document in outputs["scp_policy_jsons"]["value"].items():
        with console.step(f"SCP-ready document, {part} (deny statements only)"):
            describe_policy(console, json.loads(document))
    with console.step(f"Workloads launched in {REGION}"):
        images = launch_workloads(console, url)
    with console.step("Prevent: the applied policy, evaluated for these AMIs"):
        show_prevention(console, applied_policy(url, outputs["policy_arn"]["value"]), images)
    with console.step(f"approved-amis audit --from-terraform <applied root> --region {REGION}"):
        audit = subprocess.run(
            [str(CLI), "audit", "--from-terraform", str(workdir), "--region", REGION],
            env=env, text=True, capture_output=True,
        )  # fmt: skip
        console.say((audit.stdout + audit.stderr).rstrip("\n"))
        console.say(f"  exit code {audit.returncode} (1: unapproved AMIs in use)")
        demo.audit_exit = audit.returncode
    with console.step("Second plan"):
        result = demo.second_plan = run(
            ["plan", "-input=false", "-no-color", "-detailed-exitcode", *EMULATOR_INPUTS], workdir, env
        )
        console.say("  no changes: the applied state matches the configuration" if result.returncode == 0
                    else f"  plan exit code {result.returncode}:\n{result.stdout}{result.stderr}")  # fmt: skip


def main() -> int:
    run_demo()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
