"""What uses which AMI in one region: instances, launch templates, Auto Scaling groups, spot requests and
fleets. Every listing is paginated and yields page by page, so callers hold one page at a time.

Besides the AMI each one launches, a group that follows `$Latest`/`$Default` or runs on a launch
configuration is a use of its own kind: Auto Scaling launches from it without checking the caller's
ec2:RunInstances, so the group is exposed even when today's AMI is approved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from approved_amis.classify import AMI, AMI_PARAMETER, FLOATING_VERSION, LAUNCH_CONFIGURATION

ACTIVE_INSTANCE_STATES = ("pending", "running", "stopping", "stopped")
INSTANCE_PAGE_SIZE = 1000
LAUNCH_CONFIGURATIONS_PER_CALL = 50

INSTANCE = "instance"
LAUNCH_TEMPLATE = "launch-template"
AUTO_SCALING_GROUP = "auto-scaling-group"
SPOT_INSTANCE_REQUEST = "spot-instance-request"
SPOT_FLEET_REQUEST = "spot-fleet-request"
EC2_FLEET = "ec2-fleet"

FLOATING_VERSIONS = ("$Latest", "$Default")
OPEN_SPOT_REQUEST_STATES = ("open", "active")  # a request that can still launch (again, if persistent)
ACTIVE_FLEET_STATES = ("submitted", "active", "modifying")


@dataclass(frozen=True)
class Use:
    """A resource that launches (or launched) from `ami_id`; `via` says how a group reaches it."""

    resource_type: str
    resource_id: str
    ami_id: str | None
    via: str = ""
    kind: str = AMI


def instance_pages(ec2: Any, states: tuple[str, ...] = ACTIVE_INSTANCE_STATES) -> Iterator[list[Use]]:
    """Instances in the given states, one page of uses at a time.

    Pages by hand rather than with a paginator, which keeps the previous response alive while it
    fetches the next: here only the uses of one page outlive its response.
    """
    request: dict[str, Any] = {
        "Filters": [{"Name": "instance-state-name", "Values": list(states)}],
        "MaxResults": INSTANCE_PAGE_SIZE,
    }
    while True:
        response = ec2.describe_instances(**request)
        uses = [
            Use(INSTANCE, instance["InstanceId"], instance.get("ImageId"))
            for reservation in response.get("Reservations", [])
            for instance in reservation.get("Instances", [])
        ]
        token = response.get("NextToken")
        del response
        yield uses
        if not token:
            return
        request["NextToken"] = token


class LaunchTemplates:
    """AMIs of launch template versions: default and latest of every template, numbered ones on demand."""

    def __init__(self, ec2: Any) -> None:
        self._ec2 = ec2
        self._amis: dict[tuple[str, str], str | None] = {}
        self._ids_by_name: dict[str, str] = {}
        self._default: dict[str, str] = {}
        self._latest: dict[str, str] = {}

    def pages(self) -> Iterator[list[Use]]:
        """Uses by the default and latest version of every template (one use when they are the same)."""
        paginator = self._ec2.get_paginator("describe_launch_template_versions")
        for page in paginator.paginate(Versions=["$Latest", "$Default"], ResolveAlias=True):
            uses: list[Use] = []
            for version in page.get("LaunchTemplateVersions", []):
                template_id = version["LaunchTemplateId"]
                number = str(version["VersionNumber"])
                self._ids_by_name[version.get("LaunchTemplateName", "")] = template_id
                if version.get("DefaultVersion"):
                    self._default[template_id] = number
                latest = self._latest.get(template_id)
                if latest is None or int(number) > int(latest):
                    self._latest[template_id] = number
                if (template_id, number) in self._amis:
                    continue
                ami_id = version.get("LaunchTemplateData", {}).get("ImageId")
                self._amis[(template_id, number)] = ami_id
                if ami_id:
                    uses.append(Use(LAUNCH_TEMPLATE, f"{template_id}:{number}", ami_id))
            yield uses

    def resolve(self, specification: dict[str, Any]) -> tuple[str, str | None]:
        """(`lt-...:N`, AMI) for a group's launch template specification; the version defaults to $Default."""
        template_id = specification.get("LaunchTemplateId") or self._ids_by_name.get(
            specification.get("LaunchTemplateName", ""), ""
        )
        wanted = str(specification.get("Version") or "$Default")
        if not template_id:
            return f"{specification.get('LaunchTemplateName', '?')}:{wanted}", None
        number = {"$Default": self._default, "$Latest": self._latest}.get(wanted, {}).get(template_id, wanted)
        if number.startswith("$") or (template_id, number) not in self._amis:
            number = self._fetch(template_id, number)
        return f"{template_id}:{number}", self._amis.get((template_id, number))

    def _fetch(self, template_id: str, version: str) -> str:
        response = self._ec2.describe_launch_template_versions(
            LaunchTemplateId=template_id, Versions=[version], ResolveAlias=True
        )
        for item in response.get("LaunchTemplateVersions", []):
            number = str(item["VersionNumber"])
            self._amis[(template_id, number)] = item.get("LaunchTemplateData", {}).get("ImageId")
            return number
        return version


RESOLVE_SSM = "resolve:ssm:"


def parameter_pages(ec2: Any) -> Iterator[list[Use]]:
    """Default and latest launch template versions whose image is an SSM parameter (resolve:ssm:<name>), as
    written (ResolveAlias off): one use each, `via` the parameter's name, no AMI."""
    paginator = ec2.get_paginator("describe_launch_template_versions")
    for page in paginator.paginate(Versions=["$Latest", "$Default"], ResolveAlias=False):
        seen: set[str] = set()
        uses: list[Use] = []
        for version in page.get("LaunchTemplateVersions", []):
            image = str(version.get("LaunchTemplateData", {}).get("ImageId") or "")
            reference = f"{version['LaunchTemplateId']}:{version['VersionNumber']}"
            if image.startswith(RESOLVE_SSM) and reference not in seen:
                seen.add(reference)
                uses.append(Use(LAUNCH_TEMPLATE, reference, None, image.removeprefix(RESOLVE_SSM), AMI_PARAMETER))
        yield uses


def group_pages(autoscaling: Any, templates: LaunchTemplates) -> Iterator[list[Use]]:
    """Auto Scaling groups through their launch template (mixed instances policy too) or configuration."""
    paginator = autoscaling.get_paginator("describe_auto_scaling_groups")
    for page in paginator.paginate():
        groups = page.get("AutoScalingGroups", [])
        configurations = launch_configuration_amis(
            autoscaling, {g["LaunchConfigurationName"] for g in groups if g.get("LaunchConfigurationName")}
        )
        uses: list[Use] = []
        for group in groups:
            name = group["AutoScalingGroupName"]
            seen: set[tuple[str, str | None, str]] = set()
            for via, ami_id, kind in _group_sources(group, templates, configurations):
                if (via, ami_id, kind) not in seen:
                    seen.add((via, ami_id, kind))
                    uses.append(Use(AUTO_SCALING_GROUP, name, ami_id, via, kind))
        yield uses


def _group_sources(
    group: dict[str, Any], templates: LaunchTemplates, configurations: dict[str, str | None]
) -> Iterator[tuple[str, str | None, str]]:
    """(how, AMI, kind) for each way the group launches: its AMIs, and the exposures of its sources."""
    if group.get("LaunchConfigurationName"):
        name = group["LaunchConfigurationName"]
        yield f"launch configuration {name}", configurations.get(name), AMI
        yield f"launch configuration {name}", configurations.get(name), LAUNCH_CONFIGURATION
    policy = (group.get("MixedInstancesPolicy") or {}).get("LaunchTemplate") or {}
    specifications = [(group.get("LaunchTemplate"), ""), (policy.get("LaunchTemplateSpecification"), "")]
    specifications += [(o.get("LaunchTemplateSpecification"), " (override)") for o in policy.get("Overrides") or ()]
    for specification, suffix in specifications:
        if not specification:
            continue
        reference, ami_id = templates.resolve(specification)
        yield f"launch template {reference}{suffix}", ami_id, AMI
        version = str(specification.get("Version") or "$Default")
        if version in FLOATING_VERSIONS:
            template = specification.get("LaunchTemplateId") or specification.get("LaunchTemplateName")
            yield f"launch template {template} at {version}{suffix}", ami_id, FLOATING_VERSION


def spot_request_pages(ec2: Any) -> Iterator[list[Use]]:
    """Open and active spot instance requests: what they launch, or launch again when persistent."""
    paginator = ec2.get_paginator("describe_spot_instance_requests")
    filters = [{"Name": "state", "Values": list(OPEN_SPOT_REQUEST_STATES)}]
    for page in paginator.paginate(Filters=filters):
        yield [
            Use(SPOT_INSTANCE_REQUEST, request["SpotInstanceRequestId"], (request.get("LaunchSpecification") or {}).get("ImageId"))
            for request in page.get("SpotInstanceRequests", [])
        ]


def fleet_pages(ec2: Any, templates: LaunchTemplates) -> Iterator[list[Use]]:
    """Spot fleets and EC2 fleets that can still launch, by each AMI their specifications, templates and
    overrides name."""
    for page in ec2.get_paginator("describe_spot_fleet_requests").paginate():
        uses: list[Use] = []
        for request in page.get("SpotFleetRequestConfigs", []):
            if request.get("SpotFleetRequestState") not in ACTIVE_FLEET_STATES:
                continue
            config = request.get("SpotFleetRequestConfig") or {}
            identifier = request["SpotFleetRequestId"]
            for specification in config.get("LaunchSpecifications") or ():
                uses.append(Use(SPOT_FLEET_REQUEST, identifier, specification.get("ImageId"), "launch specification"))
            uses += _fleet_template_uses(SPOT_FLEET_REQUEST, identifier, config.get("LaunchTemplateConfigs"), templates)
        yield _distinct(uses)
    for page in ec2.get_paginator("describe_fleets").paginate():
        uses = []
        for fleet in page.get("Fleets", []):
            if fleet.get("FleetState") not in ACTIVE_FLEET_STATES:
                continue
            uses += _fleet_template_uses(EC2_FLEET, fleet["FleetId"], fleet.get("LaunchTemplateConfigs"), templates)
        yield _distinct(uses)


def _fleet_template_uses(
    resource_type: str, identifier: str, configs: Any, templates: LaunchTemplates
) -> list[Use]:
    uses: list[Use] = []
    for config in configs or ():
        specification = config.get("LaunchTemplateSpecification") or {}
        overrides = config.get("Overrides") or ()
        if specification:
            reference, ami_id = templates.resolve(specification)
            # An override's ImageId replaces the template's AMI for the capacity it describes.
            if not overrides or any(not o.get("ImageId") for o in overrides):
                uses.append(Use(resource_type, identifier, ami_id, f"launch template {reference}"))
        for override in overrides:
            if override.get("ImageId"):
                uses.append(Use(resource_type, identifier, override["ImageId"], "override"))
    return uses


def _distinct(uses: list[Use]) -> list[Use]:
    return list(dict.fromkeys(uses))


def launch_configuration_amis(autoscaling: Any, names: set[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = dict.fromkeys(names)
    ordered = sorted(names)
    for start in range(0, len(ordered), LAUNCH_CONFIGURATIONS_PER_CALL):
        response = autoscaling.describe_launch_configurations(
            LaunchConfigurationNames=ordered[start : start + LAUNCH_CONFIGURATIONS_PER_CALL]
        )
        for configuration in response.get("LaunchConfigurations", []):
            found[configuration["LaunchConfigurationName"]] = configuration.get("ImageId")
    return found
