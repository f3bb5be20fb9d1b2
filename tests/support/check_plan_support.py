"""Seeded AMIs and real Terraform plans for the check-plan tests."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from harness import emulator
from harness.tfcli import REPO_ROOT, emulator_credentials, terraform_env
from support.cli import run_cli
from support.terraform_cli import check as terraform

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "check-plan"
REGION = "us-east-1"
WEST = "us-west-2"


@dataclass(frozen=True)
class SeededAmis:
    approved: str
    wrong_case: str
    untagged: str
    deregistered: str
    template: str
    looked_up: str
    looked_up_name: str
    dev: str  # tagged Environment=Dev
    west: str  # tagged Environment=Prod, registered in us-west-2 only
    secret: str  # tagged Environment=Prod, passed to the versions root as a sensitive value
    two_versions_template: str  # default version 1 launches `dev`, latest version 2 `approved`

    def tf_vars(self) -> dict[str, str]:
        """The fleet fixture's variables, as TF_VAR_ environment entries."""
        values = {
            "approved_ami": self.approved,
            "wrong_case_ami": self.wrong_case,
            "untagged_ami": self.untagged,
            "deregistered_ami": self.deregistered,
            "template_ami": self.template,
            "looked_up_ami_name": self.looked_up_name,
            "dev_ami": self.dev,
            "west_ami": self.west,
            "golden_ami": self.approved,
            "secret_ami": self.secret,
            "two_versions_template": self.two_versions_template,
        }
        return {f"TF_VAR_{name}": value for name, value in values.items()}


def client(endpoint_url: str, service: str, region: str = REGION) -> Any:
    return emulator.client(service, endpoint_url, region)


def seed_amis(endpoint_url: str) -> SeededAmis:
    """Register the fixture's AMIs in the emulator (tagged, wrongly tagged, untagged, deregistered), and
    the launch templates and configuration that the plan names but does not manage."""
    ec2 = client(endpoint_url, "ec2")

    def register(name: str, tags: dict[str, str], region_client: Any = ec2) -> str:
        image_id = region_client.register_image(Name=name, RootDeviceName="/dev/xvda")["ImageId"]
        if tags:
            region_client.create_tags(Resources=[image_id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        return image_id

    deregistered = register("check-plan-deregistered", {"Environment": "Prod"})
    ec2.deregister_image(ImageId=deregistered)
    approved = register("check-plan-approved", {"Environment": "Prod"})
    # Templates and a configuration that the fleet's groups and data sources name but the plan does not manage.
    for template in ("managed-elsewhere", "read-by-data-source"):
        ec2.create_launch_template(LaunchTemplateName=template, LaunchTemplateData={"ImageId": approved})
    client(endpoint_url, "autoscaling").create_launch_configuration(
        LaunchConfigurationName="legacy-elsewhere", ImageId=approved, InstanceType="t3.micro"
    )
    dev = register("check-plan-dev", {"Environment": "Dev"})
    # A template whose default version is not its latest: a launch without a version takes the default.
    two_versions = "two-versions"
    ec2.create_launch_template(LaunchTemplateName=two_versions, LaunchTemplateData={"ImageId": dev})
    ec2.create_launch_template_version(LaunchTemplateName=two_versions, LaunchTemplateData={"ImageId": approved})
    return SeededAmis(
        approved=approved,
        wrong_case=register("check-plan-wrong-case", {"Environment": "prod"}),
        untagged=register("check-plan-untagged", {}),
        deregistered=deregistered,
        template=register("check-plan-template", {"Environment": "Staging"}),
        looked_up=register("check-plan-looked-up", {"Environment": "Prod"}),
        looked_up_name="check-plan-looked-up",
        dev=dev,
        west=register("check-plan-west", {"Environment": "Prod"}, client(endpoint_url, "ec2", WEST)),
        secret=register("check-plan-secret", {"Environment": "Prod"}),
        two_versions_template=two_versions,
    )


@dataclass(frozen=True)
class VerdictAmis:
    """AMIs for the verdicts root: two of Amazon's public AMIs (one tagged by this account), and two of this
    account's own with the approval key in another letter case."""

    amazon: str
    amazon_name: str
    public_tagged_here: str
    key_case: str
    two_keys: str

    def tf_vars(self) -> dict[str, str]:
        values = {
            "amazon_ami_name": self.amazon_name,
            "public_tagged_here_ami": self.public_tagged_here,
            "key_case_ami": self.key_case,
            "two_keys_ami": self.two_keys,
        }
        return {f"TF_VAR_{name}": value for name, value in values.items()}


def seed_verdict_amis(endpoint_url: str) -> VerdictAmis:
    ec2 = client(endpoint_url, "ec2")
    public = ec2.describe_images(Owners=["amazon"])["Images"]
    names = [image["Name"] for image in public]
    # A name no other public AMI carries, so that the root's lookup by name finds this one image.
    amazon, tagged = [image for image in public if names.count(image["Name"]) == 1][:2]
    ec2.create_tags(Resources=[tagged["ImageId"]], Tags=[{"Key": "Environment", "Value": "Prod"}])

    def register(name: str, tags: list[dict[str, str]]) -> str:
        image_id = ec2.register_image(Name=name, RootDeviceName="/dev/xvda")["ImageId"]
        ec2.create_tags(Resources=[image_id], Tags=tags)
        return image_id

    return VerdictAmis(
        amazon=amazon["ImageId"],
        amazon_name=amazon["Name"],
        public_tagged_here=tagged["ImageId"],
        key_case=register("verdicts-key-case", [{"Key": "environment", "Value": "Prod"}]),
        two_keys=register(
            "verdicts-two-keys", [{"Key": "Environment", "Value": "Dev"}, {"Key": "environment", "Value": "Prod"}]
        ),
    )


def copy_root(name: str, destination: Path) -> Path:
    """A copy of a fixture root (with its local modules) in a scratch folder, so no state lands in the tree."""
    target = destination / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    return target


def env_for(endpoint_url: str, data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = terraform_env(endpoint_url)
    env["TF_DATA_DIR"] = str(data_dir)
    env.update(extra or {})
    return env


def plan_json(root: Path, env: dict[str, str], plan_file: Path, *extra_args: str, initialised: bool = False) -> Path:
    """init (unless initialised), plan -out and show -json of a root; returns the path of the plan JSON written
    beside plan_file, where the text the plan printed for people is written too (.txt)."""
    if not initialised:
        terraform(["init", "-input=false", "-no-color"], root, env)
    text = terraform(["plan", "-input=false", "-no-color", f"-out={plan_file}", *extra_args], root, env)
    plan_file.with_suffix(".txt").write_text(text)
    output = plan_file.with_suffix(".json")
    output.write_text(terraform(["show", "-json", str(plan_file)], root, env))
    json.loads(output.read_text())
    return output


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


def approved_amis(
    endpoint_url: str, *args: str, stdin: str | None = None, extra_env: dict[str, str] | None = None
) -> Run:
    """The `approved-amis` command against the emulator (in this process: support/cli.py)."""
    env = {**os.environ, **emulator_credentials(endpoint_url), **(extra_env or {})}
    result = run_cli(env, *args, stdin=stdin)
    return Run(result.returncode, result.stdout, result.stderr)
