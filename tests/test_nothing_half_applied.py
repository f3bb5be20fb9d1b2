"""A rejected input creates nothing: `terraform apply` with one bad input fails before any resource exists.

examples/basic is copied to a scratch folder and given unique names and one bad input through a
Terraform override file, then applied to the session emulator: the apply must fail with the input's message
and leave no role, no policy and no state behind. The same copy without a bad input is applied too (then
destroyed), to show that those checks do see what an accepted apply creates.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES
from harness.emulator import client
from harness.workspace import copy_example
from support.terraform_cli import managed_resources, run as terraform

# One bad input each, as module arguments, with the message its rejection must carry.
BAD_INPUTS = {
    "empty-tag-value": ('approval_tag_values = ["Prod", ""]', "approval_tag_values must not contain an empty value"),
    "attachments-without-policy": ("create_iam_policy = false", "Attachments need the managed policy"),
}


def override(prefix: str, bad_argument: str = "") -> str:
    """An override file: unique names for everything the example creates, and an optional bad argument."""
    return (
        f'resource "aws_iam_role" "deployer" {{\n  name = "{prefix}-deployer"\n}}\n\n'
        f'module "approved_amis" {{\n  name = "{prefix}"\n  {bad_argument}\n}}\n'
    )


def leftovers(iam: Any, prefix: str) -> list[str]:
    """Every IAM role and customer managed policy in the emulator whose name starts with prefix."""
    found = [r["RoleName"] for page in iam.get_paginator("list_roles").paginate() for r in page["Roles"]]
    found += [
        p["PolicyName"] for page in iam.get_paginator("list_policies").paginate(Scope="Local") for p in page["Policies"]
    ]
    return sorted(name for name in found if name.startswith(prefix))


def state_resources(directory: Path) -> list[str]:
    """Addresses of the managed resources in the scratch folder's state (none when there is no state)."""
    return [".".join(filter(None, (r.get("module"), r["type"], r["name"]))) for r in managed_resources(directory)]


@pytest.fixture(scope="module")
def workspace(tf_env, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/basic copied to a scratch folder and initialised once."""
    work = copy_example(EXAMPLES / "basic", tmp_path_factory.mktemp("half-applied") / "basic")
    init = terraform(["init", "-input=false"], work, tf_env)
    assert init.returncode == 0, init.stderr[-3000:]
    return work


@pytest.fixture(scope="module")
def iam(emulator) -> Any:
    return client("iam", emulator)


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_a_rejected_input_creates_nothing(case: str, workspace: Path, iam, tf_env) -> None:
    bad_argument, message = BAD_INPUTS[case]
    prefix = f"half-applied-{uuid.uuid4().hex[:8]}"
    (workspace / "names_override.tf").write_text(override(prefix, bad_argument))
    rejected = terraform(["apply", "-auto-approve", "-input=false"], workspace, tf_env)
    assert rejected.returncode != 0, rejected.stdout[-3000:]
    assert message in " ".join(rejected.stderr.split()), rejected.stderr[-3000:]
    assert leftovers(iam, prefix) == []
    assert state_resources(workspace) == []


def test_without_the_bad_input_the_same_copy_creates_what_the_check_looks_for(workspace: Path, iam, tf_env) -> None:
    """The control: the leftover checks see the role and the policy an accepted apply creates."""
    prefix = f"half-applied-{uuid.uuid4().hex[:8]}"
    (workspace / "names_override.tf").write_text(override(prefix))
    applied = terraform(["apply", "-auto-approve", "-input=false"], workspace, tf_env)
    try:
        assert applied.returncode == 0, applied.stderr[-3000:]
        assert leftovers(iam, prefix) == [prefix, f"{prefix}-deployer"]
        assert "module.approved_amis.module.iam_policy.aws_iam_policy.this" in state_resources(workspace)
    finally:
        destroyed = terraform(["destroy", "-auto-approve", "-input=false"], workspace, tf_env)
    assert destroyed.returncode == 0, destroyed.stderr[-3000:]
    assert leftovers(iam, prefix) == []
