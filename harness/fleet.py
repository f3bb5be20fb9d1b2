"""A fleet to try the CLI on: AMIs of every verdict, instances, a launch template, an Auto Scaling group,
in two regions of the emulator's default account and of two member accounts of a small organization.

Seeded with plain boto3 calls, as an account would be used: the emulator serves them like AWS. Tags on a
public or shared AMI are the tagging account's own (EC2 User Guide, *Tag your Amazon EC2 resources*), so
the "shared" AMI is one of Amazon's public AMIs that this account tagged itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.emulator import assumed_credentials, client

ACCOUNT_ID = "123456789012"  # the emulator's default account: the management account
REGIONS = ("eu-west-1", "us-east-1")
APPROVAL = {"Key": "Environment", "Value": "Prod"}
RULE = ("--tag-key", "Environment", "--tag-value", "Prod")
AUDIT_ROLE = "approved-amis-audit"
MEMBERS = ("dev", "prod")
# Own AMIs by role: the tags each carries.
OWN_IMAGES = {
    "approved": [APPROVAL],
    "dev-build": [{"Key": "Environment", "Value": "Dev"}],
    "wrong-case": [{"Key": "Environment", "Value": "prod"}],
    "untagged": [],
    "unused-old-build": [],  # nothing runs it: `retire` lists it
}


@dataclass
class Seeded:
    """What was created, by account then region: AMI IDs by role, instance count, template, group."""

    accounts: dict[str, str] = field(default_factory=dict)  # name -> account ID
    images: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # (account, region) -> role -> AMI
    instances: dict[tuple[str, str], list[str]] = field(default_factory=dict)


def seed_region(url: str, region: str, credentials: dict[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """AMIs of every verdict in one region and an instance on each but the unused one, a launch template
    whose default version is approved and latest is not, and an Auto Scaling group on its $Latest."""
    ec2 = client("ec2", url, region, credentials)
    autoscaling = client("autoscaling", url, region, credentials)
    amazon = [image["ImageId"] for image in ec2.describe_images(Owners=["amazon"])["Images"][:2]]
    builder = ec2.run_instances(ImageId=amazon[0], MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    images: dict[str, str] = {}
    for role, tags in OWN_IMAGES.items():
        specification = [{"ResourceType": "image", "Tags": tags}] if tags else []
        images[role] = ec2.create_image(InstanceId=builder, Name=f"try-{role}", TagSpecifications=specification)["ImageId"]
    ec2.terminate_instances(InstanceIds=[builder])
    images["shared-tagged-here"] = amazon[0]
    ec2.create_tags(Resources=[amazon[0]], Tags=[APPROVAL])
    images["public-untagged"] = amazon[1]

    instances = [
        ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
        for role, image in images.items()
        if role != "unused-old-build"
    ]
    template = ec2.create_launch_template(
        LaunchTemplateName="try-web", LaunchTemplateData={"ImageId": images["approved"], "InstanceType": "t3.micro"}
    )["LaunchTemplate"]["LaunchTemplateId"]
    ec2.create_launch_template_version(LaunchTemplateId=template, LaunchTemplateData={"ImageId": images["dev-build"]})
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="try-web",
        LaunchTemplate={"LaunchTemplateId": template, "Version": "$Latest"},
        MinSize=0, MaxSize=1, DesiredCapacity=0, AvailabilityZones=[f"{region}a"],
    )  # fmt: skip
    return images, instances


def seed(url: str) -> Seeded:
    """The whole fleet: the default account (the organization's management account) and MEMBERS, each
    created with the audit role, in every region of REGIONS."""
    seeded = Seeded(accounts={"management": ACCOUNT_ID})
    organizations = client("organizations", url)
    organizations.create_organization(FeatureSet="ALL")
    for name in MEMBERS:
        status = organizations.create_account(AccountName=name, Email=f"{name}@example.com", RoleName=AUDIT_ROLE)
        seeded.accounts[name] = status["CreateAccountStatus"]["AccountId"]
    for name, account in seeded.accounts.items():
        credentials = None if account == ACCOUNT_ID else assumed_credentials(url, account, AUDIT_ROLE)
        for region in REGIONS:
            images, instances = seed_region(url, region, credentials)
            seeded.images[account, region] = images
            seeded.instances[account, region] = instances
    return seeded


def commands(url: str) -> list[str]:
    """What to type to try the CLI against the seeded emulator at url."""
    rule = " ".join(RULE)
    regions = " ".join(f"--region {region}" for region in REGIONS)
    return [
        f"export AWS_ENDPOINT_URL={url} AWS_REGION={REGIONS[0]} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing",
        "export PATH=\"$PWD/.venv/bin:$PATH\"",
        f"approved-amis audit {rule} {regions}",
        f"approved-amis audit {rule} {regions} --format csv",
        f"approved-amis retire {rule} --region {REGIONS[0]} --days 0",
        f"approved-amis audit --organization --role-name {AUDIT_ROLE} {rule} {regions}",
    ]
