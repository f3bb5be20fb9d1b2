"""make demo: apply examples/complete to a local AWS emulator and show what the guardrails do.

Starts moto server on loopback, applies the example exactly as a user would (the aws provider and
boto3 follow AWS_ENDPOINT_URL), prints what was created and the policy it renders, launches a few
workloads from approved and unapproved AMIs, evaluates the applied policy for launches and tag changes
on those AMIs, audits them with the rule read from the applied root, checks that a second plan is
empty, destroys everything and stops the emulator.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import boto3

from harness.emulator import running_emulator
from harness.iam_eval import Request, decide
from harness.tfcli import REPO_ROOT, terraform_env
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


def client(service: str, url: str) -> Any:
    return boto3.client(
        service, region_name=REGION, endpoint_url=url, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def launch_workloads(url: str) -> dict[str, str]:
    """AMIs with and without the approval tag, and an instance running each: name -> AMI ID."""
    ec2 = client("ec2", url)
    images: dict[str, str] = {}
    base = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    builder = ec2.run_instances(ImageId=base, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    for name, tags in WORKLOAD_IMAGES.items():
        tag_spec = [{"ResourceType": "image", "Tags": tags}] if tags else []
        image = ec2.create_image(InstanceId=builder, Name=name, TagSpecifications=tag_spec)["ImageId"]
        ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)
        images[name] = image
        print(f"  {name:<12} {image}  tags {tags or 'none'}")
    ec2.terminate_instances(InstanceIds=[builder])
    return images


def applied_policy(url: str, policy_arn: str) -> dict[str, Any]:
    """The default version of a managed policy, as the emulator holds it."""
    iam = client("iam", url)
    version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]["Document"]
    return json.loads(unquote(document)) if isinstance(document, str) else dict(document)


def show_prevention(policy: dict[str, Any], images: dict[str, str]) -> None:
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
    print(f"  {'request':<50} {'policy alone':<20} policy + ec2:* elsewhere")
    for label, request in requests:
        print(f"  {label:<50} {decide(request, [policy]):<20} {decide(request, [policy, ec2_everything])}")


def main() -> int:
    # The Config recorder's role attaches the AWS managed policy AWS_ConfigRole.
    with tempfile.TemporaryDirectory(prefix="approved-amis-demo-") as scratch, running_emulator(aws_managed_policies=True) as url:
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
            for part, document in outputs["scp_policy_jsons"]["value"].items():
                heading(f"SCP-ready document, {part} (deny statements only)")
                describe_policy(json.loads(document))
            heading(f"Workloads launched in {REGION}")
            images = launch_workloads(url)
            heading("Prevent: the applied policy, evaluated for these AMIs")
            show_prevention(applied_policy(url, outputs["policy_arn"]["value"]), images)
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
