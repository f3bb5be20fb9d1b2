"""make demo: apply examples/complete to a local AWS emulator and show what the guardrails do.

Starts moto server on loopback, applies the example exactly as a user would (the aws provider and
boto3 follow AWS_ENDPOINT_URL), prints what was created and the policy it renders, launches a few
workloads from approved and unapproved AMIs and audits them with the rule read from the applied root,
checks that a second plan is empty, destroys everything and stops the emulator.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import boto3

from emulator import running_emulator
from tfcli import REPO_ROOT, terraform_env
from workspace import copy_example

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


def terraform(args: list[str], cwd: Path, env: dict[str, str], capture: bool = False) -> str:
    result = subprocess.run(["terraform", *args], cwd=cwd, env=env, text=True, capture_output=capture)
    if result.returncode != 0:
        if capture:
            sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"terraform {args[0]} failed (exit {result.returncode})")
    return result.stdout if capture else ""


def heading(text: str) -> None:
    print(f"\n== {text}", flush=True)


def describe_policy(document: dict) -> None:
    for statement in document["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        condition = json.dumps(statement.get("Condition", {}), sort_keys=True)
        print(f"  {statement['Effect']:<5} {', '.join(actions):<32} {statement['Sid']:<40} {condition}")


def launch_workloads(url: str) -> None:
    """AMIs with and without the approval tag, and an instance running each."""
    ec2 = boto3.client(
        "ec2", region_name=REGION, endpoint_url=url, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    base = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    builder = ec2.run_instances(ImageId=base, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    for name, tags in WORKLOAD_IMAGES.items():
        tag_spec = [{"ResourceType": "image", "Tags": tags}] if tags else []
        image = ec2.create_image(InstanceId=builder, Name=name, TagSpecifications=tag_spec)["ImageId"]
        ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)
        print(f"  {name:<12} {image}  tags {tags or 'none'}")
    ec2.terminate_instances(InstanceIds=[builder])


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="approved-amis-demo-") as scratch, running_emulator() as url:
        workdir = copy_example(EXAMPLE, Path(scratch) / "complete")
        env = terraform_env(url)
        env["TF_DATA_DIR"] = str(Path(scratch) / ".terraform")
        heading(f"AWS emulator (moto server) on {url}; applying examples/complete")
        terraform(["init", "-input=false", "-no-color"], workdir, env, capture=True)
        try:
            terraform(["apply", "-input=false", "-no-color", "-auto-approve", *EMULATOR_INPUTS], workdir, env, capture=True)
            heading("Created")
            print(terraform(["state", "list"], workdir, env, capture=True), end="")
            outputs = json.loads(terraform(["output", "-json"], workdir, env, capture=True))
            heading("Approval rule")
            print(json.dumps(outputs["approval_rule"]["value"], indent=2))
            heading(f"IAM policy {outputs['policy_arn']['value']}")
            describe_policy(json.loads(outputs["policy_json"]["value"]))
            heading("SCP-ready document (deny statements only)")
            describe_policy(json.loads(outputs["scp_policy_json"]["value"]))
            heading(f"Workloads launched in {REGION}")
            launch_workloads(url)
            heading(f"approved-amis audit --from-terraform <applied root> --region {REGION}")
            audit = subprocess.run(
                [str(CLI), "audit", "--from-terraform", str(workdir), "--region", REGION],
                env=env, text=True, capture_output=True,
            )
            print(audit.stdout + audit.stderr, end="")
            print(f"  exit code {audit.returncode} (1: unapproved AMIs in use)")
            heading("Second plan")
            result = subprocess.run(
                ["terraform", "plan", "-input=false", "-no-color", "-detailed-exitcode", *EMULATOR_INPUTS],
                cwd=workdir, env=env, text=True, capture_output=True,
            )
            print("  no changes: the applied state matches the configuration" if result.returncode == 0
                  else f"  plan exit code {result.returncode}:\n{result.stdout}{result.stderr}")
        finally:
            heading("Destroying")
            terraform(["destroy", "-input=false", "-no-color", "-auto-approve", *EMULATOR_INPUTS], workdir, env, capture=True)
            print("  done; stopping the emulator")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
