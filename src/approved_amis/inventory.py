"""What uses which AMI in one region: instances, launch templates, Auto Scaling groups. Every listing is
paginated and yields page by page, so callers hold one page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

ACTIVE_INSTANCE_STATES = ("pending", "running", "stopping", "stopped")
INSTANCE_PAGE_SIZE = 1000
LAUNCH_CONFIGURATIONS_PER_CALL = 50

INSTANCE = "instance"
LAUNCH_TEMPLATE = "launch-template"
AUTO_SCALING_GROUP = "auto-scaling-group"


@dataclass(frozen=True)
class Use:
    """A resource that launches (or launched) from `ami_id`; `via` says how a group reaches it."""

    resource_type: str
    resource_id: str
    ami_id: str | None
    via: str = ""


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
            seen: set[tuple[str, str | None]] = set()
            for via, ami_id in _group_sources(group, templates, configurations):
                if (via, ami_id) not in seen:
                    seen.add((via, ami_id))
                    uses.append(Use(AUTO_SCALING_GROUP, name, ami_id, via))
        yield uses


def _group_sources(
    group: dict[str, Any], templates: LaunchTemplates, configurations: dict[str, str | None]
) -> Iterator[tuple[str, str | None]]:
    if group.get("LaunchConfigurationName"):
        name = group["LaunchConfigurationName"]
        yield f"launch configuration {name}", configurations.get(name)
    if group.get("LaunchTemplate"):
        reference, ami_id = templates.resolve(group["LaunchTemplate"])
        yield f"launch template {reference}", ami_id
    policy = (group.get("MixedInstancesPolicy") or {}).get("LaunchTemplate") or {}
    if policy.get("LaunchTemplateSpecification"):
        reference, ami_id = templates.resolve(policy["LaunchTemplateSpecification"])
        yield f"launch template {reference}", ami_id
    for override in policy.get("Overrides") or ():
        if override.get("LaunchTemplateSpecification"):
            reference, ami_id = templates.resolve(override["LaunchTemplateSpecification"])
            yield f"launch template {reference} (override)", ami_id


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
