"""A small fleet on the emulator for the audit and retire tests: every kind of AMI use the CLI classifies."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any


from harness.emulator import client
from harness.tfcli import emulator_credentials

ACCOUNT_ID = "123456789012"  # the emulator's default account
APPROVAL = {"Key": "Environment", "Value": "Prod"}


@dataclass
class Fleet:
    """IDs by role: images["prod"] is the AMI tagged Environment=Prod, instances["prod"] runs it, etc."""

    region: str
    images: dict[str, str] = field(default_factory=dict)
    instances: dict[str, str] = field(default_factory=dict)
    templates: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)


def clients(endpoint: str, region: str, credentials: dict[str, str] | None = None) -> tuple[Any, Any]:
    """EC2 and Auto Scaling clients, in the emulator's default account unless `credentials` name another."""
    return client("ec2", endpoint, region, credentials), client("autoscaling", endpoint, region, credentials)


def _image(ec2: Any, builder: str, name: str, tags: list[dict[str, str]]) -> str:
    specification = [{"ResourceType": "image", "Tags": tags}] if tags else []
    return str(ec2.create_image(InstanceId=builder, Name=name, TagSpecifications=specification)["ImageId"])


def _instance(ec2: Any, image_id: str) -> str:
    return str(ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"])


def seed_fleet(endpoint: str, region: str = "us-east-1", credentials: dict[str, str] | None = None) -> Fleet:
    ec2, autoscaling = clients(endpoint, region, credentials)
    fleet = Fleet(region)
    amazon = [image["ImageId"] for image in ec2.describe_images(Owners=["amazon"])["Images"][:3]]
    builder = _instance(ec2, amazon[0])

    tags = {
        "prod": [APPROVAL],
        "wrong_case": [{"Key": "Environment", "Value": "prod"}],
        "key_case": [{"Key": "environment", "Value": "Prod"}],
        "two_keys": [{"Key": "Environment", "Value": "Dev"}, {"Key": "environment", "Value": "Prod"}],
        "other_value": [{"Key": "Environment", "Value": "Dev"}],
        "untagged": [],
        "by_id": [],
        "deregistered": [APPROVAL],
        "stopped": [],
        "terminated": [],
        "orphan_untagged": [],
        "orphan_prod": [APPROVAL],
        "template_only": [],
    }
    for role, image_tags in tags.items():
        fleet.images[role] = _image(ec2, builder, f"fleet-{role}", image_tags)
    ec2.terminate_instances(InstanceIds=[builder])

    # AMIs owned by another account: two of Amazon's public AMIs, one tagged by this account. The emulator
    # keeps each account's tags apart, as AWS does (tags set on a public or shared AMI are the tagging
    # account's own); it serves no sharing between accounts, so a public AMI stands for a shared one.
    fleet.images["shared"] = amazon[1]
    ec2.create_tags(Resources=[amazon[1]], Tags=[APPROVAL])
    fleet.images["public_untagged"] = amazon[2]

    roles = ("prod", "wrong_case", "key_case", "two_keys", "other_value", "untagged", "by_id", "deregistered")
    for role in (*roles, "shared", "public_untagged"):
        fleet.instances[role] = _instance(ec2, fleet.images[role])
    fleet.instances["stopped"] = _instance(ec2, fleet.images["stopped"])
    ec2.stop_instances(InstanceIds=[fleet.instances["stopped"]])
    fleet.instances["terminated"] = _instance(ec2, fleet.images["terminated"])
    ec2.terminate_instances(InstanceIds=[fleet.instances["terminated"]])
    ec2.deregister_image(ImageId=fleet.images["deregistered"])

    # Version 1 (default) approved; version 2 reached only by a group pinned to it; version 3 (latest)
    # with the wrong letter case.
    template = ec2.create_launch_template(
        LaunchTemplateName="fleet-web", LaunchTemplateData={"ImageId": fleet.images["prod"]}
    )["LaunchTemplate"]["LaunchTemplateId"]
    for role in ("template_only", "wrong_case"):
        ec2.create_launch_template_version(LaunchTemplateId=template, LaunchTemplateData={"ImageId": fleet.images[role]})
    fleet.templates["web"] = template

    zones = [f"{region}a"]
    autoscaling.create_launch_configuration(
        LaunchConfigurationName="fleet-legacy", ImageId=fleet.images["untagged"], InstanceType="t3.micro"
    )
    groups = {
        "legacy": {"LaunchConfigurationName": "fleet-legacy"},
        "pinned": {"LaunchTemplate": {"LaunchTemplateId": template, "Version": "2"}},
        "mixed": {
            "MixedInstancesPolicy": {
                "LaunchTemplate": {
                    "LaunchTemplateSpecification": {"LaunchTemplateName": "fleet-web", "Version": "$Default"},
                    "Overrides": [
                        {"InstanceType": "t3.micro"},
                        {
                            "InstanceType": "t3.small",
                            "LaunchTemplateSpecification": {"LaunchTemplateId": template, "Version": "$Latest"},
                        },
                    ],
                }
            }
        },
    }
    for role, source in groups.items():
        name = f"fleet-{role}"
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=name, MinSize=0, MaxSize=1, DesiredCapacity=0, AvailabilityZones=zones, **source
        )
        fleet.groups[role] = name
    return fleet


################################################################################
# The command's environment (support/cli.py runs the command)
################################################################################


def cli_env(endpoint: str, **overrides: str) -> dict[str, str]:
    """The environment of a shell pointed at the emulator, with nothing from the caller's AWS setup."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(emulator_credentials(endpoint), AWS_EC2_METADATA_DISABLED="true")
    env.update(overrides)
    return env
