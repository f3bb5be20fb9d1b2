"""Spot requests and fleets are audited by the AMI they launch, read from the emulator page by page."""

from __future__ import annotations

from approved_amis.inventory import (
    EC2_FLEET,
    SPOT_FLEET_REQUEST,
    SPOT_INSTANCE_REQUEST,
    LaunchTemplates,
    fleet_pages,
    spot_request_pages,
)
from support.check_plan_support import client

REGION = "ap-northeast-1"  # a region no other test seeds


def test_spot_requests_and_fleets_are_found_by_the_ami_they_launch(emulator: str) -> None:
    ec2 = client(emulator, "ec2", REGION)

    def image(name: str) -> str:
        return ec2.register_image(Name=name, RootDeviceName="/dev/xvda")["ImageId"]

    spot_ami, fleet_spec_ami, template_ami, override_ami = (image(n) for n in ("spot", "spec", "template", "override"))
    request = ec2.request_spot_instances(
        InstanceCount=1, LaunchSpecification={"ImageId": spot_ami, "InstanceType": "t3.micro"}
    )["SpotInstanceRequests"][0]["SpotInstanceRequestId"]
    template = ec2.create_launch_template(LaunchTemplateName="fleet", LaunchTemplateData={"ImageId": template_ami})
    template_id = template["LaunchTemplate"]["LaunchTemplateId"]
    spot_fleet = ec2.request_spot_fleet(SpotFleetRequestConfig={
        "IamFleetRole": "arn:aws:iam::123456789012:role/fleet",
        "TargetCapacity": 1,
        "SpotPrice": "0.1",
        "AllocationStrategy": "lowestPrice",
        "LaunchSpecifications": [{"ImageId": fleet_spec_ami, "InstanceType": "t3.micro", "WeightedCapacity": 1.0}],
    })["SpotFleetRequestId"]
    fleet = ec2.create_fleet(
        LaunchTemplateConfigs=[{
            "LaunchTemplateSpecification": {"LaunchTemplateId": template_id, "Version": "$Default"},
            "Overrides": [{"InstanceType": "t3.micro"}, {"InstanceType": "t3.small", "ImageId": override_ami}],
        }],
        TargetCapacitySpecification={"TotalTargetCapacity": 1, "DefaultTargetCapacityType": "spot"},
        Type="maintain",
    )["FleetId"]

    requests = [use for page in spot_request_pages(ec2) for use in page]
    # The fleets' spot capacity shows as spot requests of their own, with the fleets' AMIs.
    assert {(u.resource_type, u.resource_id, u.ami_id) for u in requests if u.resource_id == request} == {
        (SPOT_INSTANCE_REQUEST, request, spot_ami)
    }
    assert {u.ami_id for u in requests if u.resource_id != request} <= {fleet_spec_ami, template_ami, override_ami}
    fleets = {(u.resource_type, u.resource_id, u.ami_id) for page in fleet_pages(ec2, LaunchTemplates(ec2)) for u in page}
    assert fleets == {
        (SPOT_FLEET_REQUEST, spot_fleet, fleet_spec_ami),
        (EC2_FLEET, fleet, template_ami),  # the override without an ImageId launches the template's AMI
        (EC2_FLEET, fleet, override_ami),
    }
