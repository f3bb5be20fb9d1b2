"""The inputs/outputs tables in the READMEs match variables.tf and outputs.tf (regenerate: make docs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.readme_tables import module_dirs, render, updated_readme
from harness.tfcli import REPO_ROOT

MODULE_DIRS = module_dirs()


@pytest.mark.parametrize("module_dir", MODULE_DIRS, ids=[str(p.relative_to(REPO_ROOT)) or "root" for p in MODULE_DIRS])
def test_readme_tables_are_current(module_dir: Path) -> None:
    readme, expected = updated_readme(module_dir)
    assert readme.exists(), f"{readme.relative_to(REPO_ROOT)} is missing: run make docs"
    assert readme.read_text() == expected, f"{readme.relative_to(REPO_ROOT)} tables are out of date: run make docs"


def test_tables_list_every_variable_with_its_default() -> None:
    rule = render(REPO_ROOT / "modules" / "approval-rule")
    assert (
        "| `approval_tag_values` | Values of approval_tag_key that mark an AMI as approved (case-sensitive), at most 10"
        ' (the AWS Config rule\'s limit). | `list(string)` | `["Prod"]` | no |'
    ) in rule
    table = render(REPO_ROOT / "modules" / "iam-policy")
    assert "| `create` |" in table and "`true`" in table
    assert "| `policy_arn` | ARN of the managed policy; null when it is not created. |" in table


def test_tables_follow_the_terraform_docs_layout() -> None:
    """Requirements, providers, modules, resources, inputs with a Required column, outputs: in that order."""
    table = render(REPO_ROOT)
    headings = [line for line in table.splitlines() if line.startswith("## ")]
    assert headings == ["## Requirements", "## Providers", "## Modules", "## Resources", "## Inputs", "## Outputs"]
    assert "| Name | Description | Type | Default | Required |" in table
    assert "| aws | `>= 5.80, < 7.0` |" in table and "| terraform | `>= 1.9` |" in table
    assert "| `iam_policy` | `./modules/iam-policy` | n/a |" in table
    organization = render(REPO_ROOT / "modules" / "organization")
    assert "| [aws_organizations_policy.scp](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/organizations_policy) | resource |" in organization
    assert "| [aws_partition.current](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/data-sources/partition) | data source |" in organization


def test_a_variable_without_default_is_required(tmp_path: Path) -> None:
    (tmp_path / "variables.tf").write_text('variable "target_ids" {\n  description = "OUs."\n  type = list(string)\n}\n')
    assert "| `target_ids` | OUs. | `list(string)` | n/a | yes |" in render(tmp_path)
