"""Every resource type, data source, argument, nested block and attribute reference the modules and examples
use exists in the AWS provider 5.100 schema (installed here) and in the 6.x digest (provider 6.25.0, from
`python -m scripts.provider_schema_digest`), so `versions.tf` can honestly say `>= 5.80, < 7.0`."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import EXAMPLES, MODULES
from scripts.provider_schema_digest import from_terraform_schema, load_digest, missing_from, module_usage
from harness.tfcli import REPO_ROOT

DIRECTORIES = [REPO_ROOT, *sorted(p for p in MODULES.iterdir() if p.is_dir()), *sorted(p for p in EXAMPLES.iterdir() if any(p.glob("*.tf")))]

# Still in the 6.x schema but deprecated there, per the provider's Version 6 Upgrade Guide
# (website/docs/guides/version-6-upgrade.html.markdown): a use would warn on every plan under 6.
DEPRECATED_IN_6 = {
    ("data", "aws_region"): {"name"},
    ("resource", "aws_guardduty_detector"): {"datasources"},
    ("resource", "aws_guardduty_organization_configuration"): {"datasources"},
}


@pytest.fixture(scope="module")
def usage() -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for directory in DIRECTORIES:
        found |= module_usage(directory)
    return found


@pytest.fixture(scope="module")
def schema5(provider_schemas) -> dict[str, Any]:
    return from_terraform_schema(provider_schemas)


def coverage(usage: set[tuple[str, ...]]) -> dict[str, int]:
    roles = [entry[-2] if len(entry) > 2 else "type" for entry in usage]
    return {role: roles.count(role) for role in ("type", "argument", "block", "reference")}


def test_usage_is_collected(usage) -> None:
    """The collector sees what the modules visibly use, so an empty walk cannot pass the checks below."""
    assert ("resource", "aws_config_config_rule", "source", "argument", "source_identifier") in usage
    assert ("resource", "aws_config_config_rule", "block", "scope") in usage
    assert ("data", "aws_region", "reference", "id") in usage
    counts = coverage(usage)
    print(f"provider schema check covers {counts}")
    assert counts["type"] >= 30 and counts["argument"] >= 100, counts


def test_everything_used_exists_in_provider_6(usage) -> None:
    digest = load_digest()
    assert digest["provider_version"].startswith("6.")
    assert missing_from(digest, usage) == []


def test_everything_used_exists_in_provider_5(usage, schema5) -> None:
    assert missing_from(schema5, usage) == []


def test_nothing_used_is_deprecated_in_provider_6(usage) -> None:
    used = [e for e in usage if len(e) == 4 and e[2] in ("argument", "reference") and e[3] in DEPRECATED_IN_6.get(e[:2], ())]
    assert used == []


def test_the_check_fails_on_what_provider_6_removed(schema5) -> None:
    """Uses removed in 6 (upgrade guide: aws_instance cpu_core_count, aws_eip vpc) pass 5.100 and fail 6."""
    removed = {("resource", "aws_instance", "argument", "cpu_core_count"), ("resource", "aws_eip", "argument", "vpc")}
    assert missing_from(schema5, removed) == []
    assert len(missing_from(load_digest(), removed)) == 2
    assert missing_from(load_digest(), {("resource", "aws_instance", "argument", "region")}) == []
    assert missing_from(schema5, {("resource", "aws_instance", "argument", "region")}) != []
