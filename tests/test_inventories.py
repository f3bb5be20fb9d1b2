"""Each example's plan holds what its inventory (tests/inventories/<example>.yaml) says, as a subset."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import EXAMPLES
from support.planning import subset_mismatches
from harness.yaml_files import read_yaml

INVENTORIES = sorted((Path(__file__).parent / "inventories").glob("*.yaml"))
# Planned together with the other test modules' inputs (conftest.py: plan_summary).
PLANNED = [(EXAMPLES / inventory.stem, {}) for inventory in INVENTORIES]


@pytest.mark.parametrize("inventory", INVENTORIES, ids=[p.stem for p in INVENTORIES])
def test_example_plan_matches_inventory(inventory: Path, plan_summary) -> None:
    expected = read_yaml(inventory)
    plan = plan_summary(EXAMPLES / inventory.stem)
    problems: list[str] = []
    for resource_type, count in expected.get("counts", {}).items():
        actual = plan.counts.get(resource_type, 0)
        if actual != count:
            problems.append(f"counts.{resource_type}: expected {count}, planned {actual}")
    for address, values in expected.get("values", {}).items():
        if address not in plan.values:
            problems.append(f"{address}: not in the plan")
        else:
            problems += [f"{address}{p}" for p in subset_mismatches(values, plan.values[address])]
    for name, value in expected.get("outputs", {}).items():
        problems += [f"output {name}{p}" for p in subset_mismatches(value, plan.outputs.get(name))]
    assert not problems, f"{inventory.name}:\n  " + "\n  ".join(problems)
