"""Plan JSON, summarised for assertions: values by address, counts by type, outputs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterator


@dataclass(frozen=True)
class PlanSummary:
    values: dict[str, dict[str, Any]]
    counts: dict[str, int]
    outputs: dict[str, Any]
    raw: dict[str, Any] = field(repr=False)

    def only(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Values of every planned resource of one type, by address."""
        return {a: v for a, v in self.values.items() if a.split(".")[-2] == resource_type}

    def one(self, resource_type: str) -> dict[str, Any]:
        """Values of the single planned resource of a type (fails when there are none or several)."""
        found = self.only(resource_type)
        assert len(found) == 1, f"expected one {resource_type}, plan has {sorted(found)}"
        return next(iter(found.values()))

    def policy(self, address_suffix: str, attribute: str = "policy") -> dict[str, Any]:
        """A JSON policy attribute of the resource whose address ends with address_suffix, decoded."""
        matches = [v for a, v in self.values.items() if a.endswith(address_suffix)]
        assert len(matches) == 1, f"expected one resource ending {address_suffix!r}, found {len(matches)}"
        return json.loads(matches[0][attribute])


def _resources(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _resources(child)


def summarize(plan: dict[str, Any]) -> PlanSummary:
    """Summarise `terraform show -json` of a saved plan (managed resources only)."""
    root = plan.get("planned_values", {}).get("root_module", {})
    values: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    for resource in _resources(root):
        if resource.get("mode") != "managed":
            continue
        values[resource["address"]] = resource.get("values", {})
        counts[resource["type"]] = counts.get(resource["type"], 0) + 1
    outputs = {name: o.get("value") for name, o in plan.get("planned_values", {}).get("outputs", {}).items()}
    return PlanSummary(values=values, counts=counts, outputs=outputs, raw=plan)


def subset_mismatches(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where `expected` is not a subset of `actual` (dicts by key, lists item by item, scalars equal)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected a mapping, got {actual!r}"]
        problems = []
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{path}.{key}: missing")
            else:
                problems += subset_mismatches(value, actual[key], f"{path}.{key}")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {expected!r}, got {actual!r}"]
        problems = []
        for index, (e, a) in enumerate(zip(expected, actual)):
            problems += subset_mismatches(e, a, f"{path}[{index}]")
        return problems
    return [] if expected == actual else [f"{path}: expected {expected!r}, got {actual!r}"]
