"""Every resource attribute of the aws provider that holds an AMI is read by check-plan, or listed with
the reason it launches nothing: the provider's own schema decides, not a hand list."""

from __future__ import annotations

import re
from typing import Any, Iterator

import pytest

from approved_amis.check_plan.resources import RESOURCE_TYPES
from support.check_plan_support import FIXTURES
from harness.yaml_files import read_yaml

# Attribute names that hold an AMI ID (or an AMI choice, like EKS's ami_type) in the aws provider.
AMI_NAME = re.compile(r"^(ami|ami_id|ami_type|image_id|parent_image)$|(_ami_id|_image_id|image_id_override)$")
NOT_LAUNCHING = read_yaml(FIXTURES / "not-launching.yaml")


@pytest.fixture(scope="module")
def aws_resource_schemas(provider_schemas: dict[str, Any]) -> dict[str, Any]:
    """The aws provider's resource schemas, as `terraform providers schema -json` gives them."""
    (provider,) = [p for name, p in provider_schemas["provider_schemas"].items() if name.endswith("/aws")]
    return provider["resource_schemas"]


def ami_attributes(block: dict[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Paths of the attributes a configuration sets (not computed-only) whose name says they hold an AMI."""
    for name, attribute in (block.get("attributes") or {}).items():
        settable = attribute.get("optional") or attribute.get("required")
        if settable and AMI_NAME.search(name):
            yield (*path, name)
    for name, nested in (block.get("block_types") or {}).items():
        yield from ami_attributes(nested["block"], (*path, name))


def test_every_ami_attribute_is_walked_or_listed_as_launching_nothing(aws_resource_schemas: dict[str, Any]) -> None:
    listed = {(entry["type"], tuple(entry["attribute"].split("."))): entry["reason"] for entry in NOT_LAUNCHING}
    found = {
        (resource_type, path)
        for resource_type, schema in aws_resource_schemas.items()
        for path in ami_attributes(schema["block"])
    }
    walked = {(row.resource_type, path) for row in RESOURCE_TYPES.values() for path in row.ami_attributes}
    missing = sorted(".".join((t, *p)) for t, p in found - walked - set(listed))
    assert not missing, f"AMI attributes check-plan neither reads nor lists as launching nothing: {missing}"
    # Nothing listed or walked that the provider does not have (a renamed attribute would hide a launch).
    assert set(listed) <= found
    assert {(t, p) for t, p in walked if p != ("instance_configuration", "image")} <= found
    assert all(reason.strip() for reason in listed.values())
    types = {t for t, _ in found}
    print(f"{len(types)} resource types with an AMI attribute: "
          f"{len(types & set(RESOURCE_TYPES))} walked, {len(types - set(RESOURCE_TYPES))} listed as launching nothing")


def test_every_row_names_attributes_and_blocks_the_provider_has(aws_resource_schemas: dict[str, Any]) -> None:
    """Each row's template references and located attributes exist in the type's schema: a renamed block
    would hide a launch, or point a finding at the wrong line."""
    for row in RESOURCE_TYPES.values():
        schema = aws_resource_schemas[row.resource_type]["block"]
        for reference in row.templates:
            block = schema
            for name in reference.path:
                block = block["block_types"][name]["block"]
            assert {reference.id_key, reference.name_key, "version"} <= set(block["attributes"]), (row, reference)
        top_level = set(schema.get("attributes") or {}) | set(schema.get("block_types") or {})
        assert set(row.located) <= top_level, row
