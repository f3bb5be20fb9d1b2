"""The launch and publishing denials cover every action AWS's Service Authorization Reference lists.

The reference data is parliament's iam_definition.json (the SAR as parliament ships it); the actions that
authorize an image or Image Builder resource but launch or publish nothing are listed, each with its reason,
in tests/contracts/sar_coverage.yaml. A new SAR action on images fails here until it is denied or listed.
"""

from __future__ import annotations

import json
import warnings
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES
from harness.yaml_files import read_yaml

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # parliament imports the deprecated pkg_resources
    import parliament

CONTRACT = read_yaml(Path(__file__).parent / "contracts" / "sar_coverage.yaml")
SAR = {service["prefix"]: service for service in json.loads((Path(parliament.__file__).parent / "iam_definition.json").read_text())}
POLICY = "module.iam_policy.aws_iam_policy.this[0]"
# Planned together with the other test modules' inputs (conftest.py: plan_summary).
PLANNED = [(EXAMPLES / "complete", {})]


def actions_on(prefix: str, resource_types: set[str], access_levels: set[str] | None = None) -> set[str]:
    """Actions of a service whose resource types include one of resource_types (required or optional)."""
    return {
        f"{prefix}:{privilege['privilege']}"
        for privilege in SAR[prefix]["privileges"]
        if {r["resource_type"].rstrip("*") for r in privilege["resource_types"]} & resource_types
        and (access_levels is None or privilege["access_level"] in access_levels)
    }


@pytest.fixture(scope="module")
def denials(plan_summary) -> dict[str, Any]:
    document = plan_summary(EXAMPLES / "complete").policy(POLICY)
    return {s["Sid"]: s for s in document["Statement"] if s["Effect"] == "Deny"}


def test_the_reference_data_knows_the_launch_doors() -> None:
    """The data is recent enough to decide: it lists the image on fleets and root volume replacement."""
    image_actions = actions_on("ec2", {"image"})
    assert {"ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateReplaceRootVolumeTask"} <= image_actions
    assert len(image_actions) >= 25


def test_every_ec2_action_on_an_image_is_denied_or_launches_nothing(denials) -> None:
    denied = set(denials["DenyLaunchWithUnapprovedImage"]["Action"])
    listed = {f"ec2:{name}" for name in CONTRACT["ec2_image_actions_that_launch_nothing"]}
    image_actions = actions_on("ec2", {"image"})
    print("\nSAR-derived launch actions:", sorted(image_actions - listed))
    assert image_actions - listed - denied == set(), "an action on images is neither denied nor listed"
    assert denied == image_actions - listed, "denied actions the SAR does not list on images"
    assert listed <= image_actions, f"listed but no longer on images: {sorted(listed - image_actions)}"


def test_every_image_builder_action_that_writes_is_for_publishers_only(denials) -> None:
    """The publishing Deny names Image Builder by patterns: together they match every action that writes but those
    listed, and no action that only reads."""
    patterns = [a for a in denials["DenyImagePublishingByNonPublishers"]["Action"] if a.startswith("imagebuilder:")]
    listed = {f"imagebuilder:{name}" for name in CONTRACT["image_builder_actions_that_publish_nothing"]}
    levels = {p["privilege"]: p["access_level"] for p in SAR["imagebuilder"]["privileges"]}
    writing = {f"imagebuilder:{name}" for name, level in levels.items() if level not in ("Read", "List")}
    denied = {f"imagebuilder:{name}" for name in levels if any(fnmatchcase(f"imagebuilder:{name}", p) for p in patterns)}
    print("\nSAR-derived Image Builder actions denied to non-publishers:", sorted(denied))
    assert writing - listed - denied == set(), "an Image Builder action that writes is neither denied nor listed"
    assert denied <= writing, f"patterns match actions that only read: {sorted(denied - writing)}"
    assert not denied & listed and listed <= writing
    assert all(any(fnmatchcase(action, p) for action in denied) for p in patterns), "a pattern matches no action"


def test_launches_without_an_image_resource_are_denied_outright(denials) -> None:
    """Actions that start instances but whose authorization names no image cannot be conditioned on one."""
    statement = denials["DenyLaunchWithoutImageCheck"]
    for action in statement["Action"]:
        resource_types = {r["resource_type"].rstrip("*") for p in SAR["ec2"]["privileges"] if f"ec2:{p['privilege']}" == action for r in p["resource_types"]}
        assert resource_types and "image" not in resource_types, action
    assert statement["Resource"] == "*"


def test_doors_that_authorize_no_image_are_denied_by_their_statement_or_named(denials) -> None:
    """The SAR gives each listed action no image resource; each is in the Deny statement the contract names, or
    names no statement and is left open with its reason (and the threat model names the path)."""
    listed = CONTRACT["actions_that_authorize_no_image"]
    print("\nactions that authorize no image:", {a: e["statement"] for a, e in listed.items()})
    for action, entry in listed.items():
        prefix, name = action.split(":")
        privileges = [p for p in SAR[prefix]["privileges"] if p["privilege"] == name]
        assert privileges, f"{action} is not in the Service Authorization Reference"
        assert "image" not in {r["resource_type"].rstrip("*") for r in privileges[0]["resource_types"]}, action
        assert entry["reason"], action
        if entry["statement"]:
            actions = denials[entry["statement"]]["Action"]
            assert action in ([actions] if isinstance(actions, str) else actions), f"{action} not in {entry['statement']}"
    named = [a for a, e in listed.items() if not e["statement"]]
    assert named == ["autoscaling:StartInstanceRefresh", "ec2:DetachVolume", "ec2:AttachVolume"]
