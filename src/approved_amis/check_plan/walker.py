"""The AMIs a saved Terraform plan would launch, read from `terraform show -json PLANFILE`.

Every planned create or update of a resource that launches EC2, in every module and instance, yields one
`PlannedLaunch` per AMI it would launch. Auto Scaling groups, fleets, instances, EKS node groups and Batch
compute environments that name a launch template (or configuration) are followed to it inside the plan:
by its ID or name when the plan knows them, else through the configuration's references (resource
addresses, module variables and outputs), else, for a `dynamic` block the configuration leaves out, to
every candidate template (same module instance, or reaching it through its inputs). An AMI that only
apply will know is reported without an ID, with the reason; an AMI that the service picks at launch is
`aws-managed`. Each launch carries the region its provider configuration works in, as the plan shows it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from approved_amis.check_plan.document import Locator, parse_module_address
from approved_amis.check_plan.index import PlanIndex
from approved_amis.check_plan.launches import LaunchContext, PlanLaunches, PlannedLaunch
from approved_amis.check_plan.regions import Regions
from approved_amis.check_plan.resources import RESOURCE_TYPES

CHECKED_ACTIONS = frozenset({"create", "update"})


def planned_launches(plan: Mapping[str, Any], config_dir: Path | None = None) -> PlanLaunches:
    """Every AMI the plan's creates and updates would launch; locations when config_dir holds the root."""
    index = PlanIndex(plan)
    located = {row.resource_type: row.located for row in RESOURCE_TYPES.values()}
    locator = Locator(index.config, config_dir, located) if config_dir is not None else None
    regions = Regions(index, plan)
    launch_changes = [rc for rc in index.changes if rc.get("mode") == "managed" and rc.get("type") in RESOURCE_TYPES]
    launches: list[PlannedLaunch] = []
    for rc in launch_changes:
        if not set((rc.get("change") or {}).get("actions") or []) & CHECKED_ACTIONS:
            continue
        row = RESOURCE_TYPES[str(rc["type"])]
        module = parse_module_address(rc.get("module_address"))
        region, region_source = regions.of(rc, row.region_attribute)
        location = locator.locate(rc, module) if locator else None
        launches.extend(row.handler(LaunchContext(index, row, rc, module, location, region, region_source)))
    return PlanLaunches(launches=list(dict.fromkeys(launches)), launch_resources=len(launch_changes))
