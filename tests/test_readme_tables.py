"""The inputs/outputs tables in the READMEs match variables.tf and outputs.tf (regenerate: make docs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from readme_tables import module_dirs, render, updated_readme
from tfcli import REPO_ROOT

MODULE_DIRS = module_dirs()


@pytest.mark.parametrize("module_dir", MODULE_DIRS, ids=[str(p.relative_to(REPO_ROOT)) or "root" for p in MODULE_DIRS])
def test_readme_tables_are_current(module_dir: Path) -> None:
    readme, expected = updated_readme(module_dir)
    assert readme.exists(), f"{readme.relative_to(REPO_ROOT)} is missing: run make docs"
    assert readme.read_text() == expected, f"{readme.relative_to(REPO_ROOT)} tables are out of date: run make docs"


def test_tables_list_every_variable_with_its_default() -> None:
    table = render(REPO_ROOT / "modules" / "iam-policy")
    assert '| `approval_tag_values` | Values of approval_tag_key that mark an AMI as approved (case-sensitive). | `list(string)` | `["Prod"]` |' in table
    assert "| `create` |" in table and "`true`" in table
    assert "| `policy_arn` | ARN of the managed policy; null when it is not created. |" in table
