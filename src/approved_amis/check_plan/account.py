"""Launch templates and configurations that a plan names but does not manage: their AMIs are read from the
account, as `audit` reads them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from approved_amis import aws
from approved_amis.check_plan.launches import ExternalTemplate, PlannedLaunch
from approved_amis.inventory import LaunchTemplates, launch_configuration_amis

Found = dict[tuple[str, ExternalTemplate], tuple[str | None, str | None, str | None]]


def launch_region(launch: PlannedLaunch, default_region: str | None) -> str:
    """The region the launch's provider works in, as the plan shows it, else `default_region`; "" if neither."""
    return launch.region or default_region or ""


def read_external(launches: list[PlannedLaunch], session: Any, default_region: str | None) -> list[PlannedLaunch]:
    """Launches through a template or configuration the plan does not manage, with the AMI the account has
    for it (the version the plan names, $Default when none), read as `audit` reads them."""
    by_region: dict[str, set[ExternalTemplate]] = defaultdict(set)
    for launch in launches:
        if launch.external is not None:
            by_region[launch_region(launch, default_region)].add(launch.external)
    found: Found = {}
    for region, externals in by_region.items():
        if not region:
            continue
        try:
            found.update(_read_region(session, region, externals))
        except (ClientError, BotoCoreError) as error:
            reason = aws.describe_error(error, f"region {region}: reading templates the plan does not manage")
            found.update({(region, external): (None, None, reason) for external in externals})
    resolved = []
    for launch in launches:
        if launch.external is not None and (launch_region(launch, default_region), launch.external) in found:
            ami_id, via, reason = found[(launch_region(launch, default_region), launch.external)]
            launch = replace(launch, ami_id=ami_id, via=via, unknown_reason=reason or launch.unknown_reason)
        resolved.append(launch)
    return resolved


def _read_region(session: Any, region: str, externals: set[ExternalTemplate]) -> Found:
    templates = LaunchTemplates(aws.client(session, "ec2", region))
    if any(e.kind == "launch template" and e.identifier is None for e in externals):
        for _ in templates.pages():  # learns the IDs of templates named by name only
            pass
    names = {e.name for e in externals if e.kind == "launch configuration" and e.name}
    configurations = launch_configuration_amis(aws.client(session, "autoscaling", region), names) if names else {}
    found: Found = {}
    for external in externals:
        absent = f"{external.describe()} is neither in this plan nor in {region}"
        if external.kind == "launch configuration":
            ami_id = configurations.get(external.name or "")
            found[(region, external)] = (ami_id, external.describe() if ami_id else None, None if ami_id else absent)
            continue
        specification = {"Version": external.version or "$Default"}
        specification.update({"LaunchTemplateId": external.identifier} if external.identifier else {})
        specification.update({"LaunchTemplateName": external.name} if external.name else {})
        try:
            reference, ami_id = templates.resolve(specification)
        except ClientError as error:
            found[(region, external)] = (None, None, f"{absent} ({aws.error_code(error)})")
            continue
        if ami_id:
            found[(region, external)] = (ami_id, f"launch template {reference}", None)
        else:
            known = reference.startswith("lt-")
            found[(region, external)] = (None, None, f"launch template {reference} sets no AMI" if known else absent)
    return found
