"""terraform fmt and validate over the root module, every submodule and every example."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import EXAMPLES, MODULES
from tfcli import REPO_ROOT

DIRECTORIES = [REPO_ROOT, *sorted(p for p in MODULES.iterdir() if p.is_dir()), *sorted(p for p in EXAMPLES.iterdir() if p.is_dir() and any(p.glob("*.tf")))]


def test_every_example_and_module_is_checked() -> None:
    names = {str(p.relative_to(REPO_ROOT)) for p in DIRECTORIES}
    assert {"modules/iam-policy", "modules/approval-rule", "examples/basic", "examples/complete"} <= names


def test_terraform_fmt(tf_env) -> None:
    result = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", "-diff"], cwd=REPO_ROOT, env=tf_env, capture_output=True, text=True
    )
    assert result.returncode == 0, f"unformatted files:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("directory", DIRECTORIES, ids=[str(p.relative_to(REPO_ROOT)) or "root" for p in DIRECTORIES])
def test_terraform_validate(directory: Path, terraform) -> None:
    tf = terraform(directory)
    result = subprocess.run(["terraform", "validate", "-json"], cwd=directory, env=tf.env, capture_output=True, text=True)
    report = json.loads(result.stdout)
    assert report["valid"], json.dumps(report["diagnostics"], indent=2)
    assert report["warning_count"] == 0, json.dumps(report["diagnostics"], indent=2)
