"""The region each launch works in, from the plan itself: the resource's own region argument (provider 6),
else its provider configuration's."""

from __future__ import annotations

import re
from typing import Any, Mapping

from approved_amis.check_plan.document import state_resources
from approved_amis.check_plan.index import PlanIndex
from approved_amis.check_plan.values import references

_ARN_REGION = re.compile(r"^arn:aws[a-z-]*:[^:]+:([a-z]{2}(?:-[a-z]+)+-\d+):")
_ZONE_REGION = re.compile(r"^([a-z]{2}(?:-[a-z]+)+-\d+)[a-z]$")


class Regions:
    """The region each provider configuration (aliases included) works in, from the plan itself: the
    provider's `region` when it is a constant or a root variable, else the regions shown by what that
    configuration reads and plans (ARNs, availability zones, `aws_region`) when they all agree."""

    def __init__(self, index: PlanIndex, plan: Mapping[str, Any]) -> None:
        self.index = index
        self.evidence: dict[str, dict[str, str]] = {}
        planned = state_resources({"values": plan.get("planned_values") or {}})
        for resource in [*index.data_sources, *planned]:
            key = index.provider_key(resource)
            for region in _regions_in(resource):
                self.evidence.setdefault(key, {}).setdefault(region, str(resource.get("address")))

    def of(self, rc: Mapping[str, Any], region_attribute: str) -> tuple[str | None, str | None]:
        """(region, what in the plan shows it) of a resource change; (None, None) when the plan does not."""
        after = (rc.get("change") or {}).get("after") or {}
        if isinstance(after.get(region_attribute), str) and after[region_attribute]:
            return after[region_attribute], f"the {region_attribute} argument of {rc.get('address')}"
        key = self.index.provider_key(rc)
        label = f'provider "{key}"' if key else "the provider"
        expression = ((self.index.providers.get(key) or {}).get("expressions") or {}).get("region") or {}
        if isinstance(expression.get("constant_value"), str):
            return str(expression["constant_value"]), f"{label} region"
        found = references(expression)
        if ":" not in key and len(found) == 1 and found[0].startswith("var."):
            value = (self.index.variables.get(found[0][4:]) or {}).get("value")
            if isinstance(value, str):
                return value, f"{label} region = {found[0]}"
        seen = self.evidence.get(key) or {}
        if len(seen) == 1:
            ((region, address),) = seen.items()
            return region, f"{label} reads or plans {address} in {region}"
        return None, None


def _regions_in(resource: Mapping[str, Any]) -> set[str]:
    """Regions that a planned or read resource's own values show."""
    values = resource.get("values") or {}
    if not isinstance(values, Mapping):
        return set()
    found: set[str] = set()
    if resource.get("type") == "aws_region":
        found |= {str(values[k]) for k in ("name", "region", "id") if isinstance(values.get(k), str) and values[k]}
    zones: list[Any] = [values.get("availability_zone")]
    zones += values.get("availability_zones") if isinstance(values.get("availability_zones"), list) else []
    if resource.get("type") == "aws_availability_zones" and isinstance(values.get("names"), list):
        zones += values["names"]
    found |= {m.group(1) for z in zones if isinstance(z, str) and (m := _ZONE_REGION.match(z))}
    arn = values.get("arn")
    if isinstance(arn, str) and (match := _ARN_REGION.match(arn)):
        found.add(match.group(1))
    return found
