"""terraform fmt and validate over the root module, every submodule and every example.

Validation runs once: a generated configuration calls every directory as a module, and one `terraform
init` and one `terraform validate` check them all. Terraform treats every input variable as unknown
while validating, in a root module or a child one, so a call checks a directory's expressions, resources
and provider blocks (the examples' are legacy provider configurations, allowed in a call without count,
for_each or depends_on) as validating it alone would. Each diagnostic belongs to the directory of the
file it points at, so each directory keeps its own test.

What only a root validate checks, and how it stays covered: root outputs carrying sensitive or ephemeral
values are errors only in a root module, and the root module and every example are planned by the other
tests as module instances whose outputs the generated root declares as the directory does
(tests/support/instances.py), so that plan fails where the directory's own would; Terraform test files
are read only from a root, so a test here keeps them absent.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES, MODULES
from harness.tfcli import REPO_ROOT

DIRECTORIES = [REPO_ROOT, *sorted(p for p in MODULES.iterdir() if p.is_dir()), *sorted(p for p in EXAMPLES.iterdir() if p.is_dir() and any(p.glob("*.tf")))]

# `terraform fmt -check` (below) keeps every file in canonical form: a variable block opens at the start
# of a line and closes at the start of one, its arguments indented by two spaces.
VARIABLE_BLOCK = re.compile(r'^variable "([^"]+)" \{(\}|\n.*?^\})', re.MULTILINE | re.DOTALL)
DEFAULT_ARGUMENT = re.compile(r"^  default\s*=", re.MULTILINE)


def call_name(directory: Path) -> str:
    return re.sub(r"\W", "_", str(directory.relative_to(REPO_ROOT))) if directory != REPO_ROOT else "root"


def required_variables(directory: Path) -> list[str]:
    """Variables without a default; a call must set them. One missed fails every test below, loudly."""
    blocks = (block for path in sorted(directory.glob("*.tf")) for block in VARIABLE_BLOCK.findall(path.read_text()))
    return [name for name, body in blocks if not DEFAULT_ARGUMENT.search(body)]


def calling_configuration(folder: Path) -> str:
    """Every directory as a module, its required variables set to a value left unknown while validating.

    The sources are relative paths: Terraform reads a `./` or `../` source in place (an absolute path
    would be fetched and copied as a package), and the calls a directory makes with `../` resolve from it.
    """
    lines = ['variable "unknown" {', "  type = any", "}"]
    for directory in DIRECTORIES:
        source = os.path.relpath(directory, folder)
        lines += ["", f'module "{call_name(directory)}" {{', f"  source = {json.dumps(source)}"]
        lines += [f"  {name} = var.unknown" for name in required_variables(directory)]
        lines += ["}"]
    return "\n".join(lines) + "\n"


@dataclass
class Validation:
    folder: Path  # the calling configuration
    diagnostics: list[dict[str, Any]]
    called: dict[str, Path]  # module key in modules.json ("root", "root.iam_policy", ...) -> its directory

    def owner(self, diagnostic: dict[str, Any]) -> Path | None:
        """The checked directory holding the file the diagnostic points at, if any."""
        filename = diagnostic.get("range", {}).get("filename")
        parent = (self.folder / filename).resolve().parent if filename else None
        return parent if parent in DIRECTORIES else None


@pytest.fixture(scope="module")
def validation(terraform, tmp_path_factory: pytest.TempPathFactory) -> Validation:
    folder = tmp_path_factory.mktemp("validate-every-directory")
    (folder / "main.tf").write_text(calling_configuration(folder))
    tf = terraform(folder)
    result = subprocess.run(["terraform", "validate", "-json"], cwd=folder, env=tf.env, capture_output=True, text=True)
    assert result.stdout.startswith("{"), result.stderr
    modules = json.loads((Path(tf.env["TF_DATA_DIR"]) / "modules" / "modules.json").read_text())["Modules"]
    called = {m["Key"]: (folder / m["Dir"]).resolve() for m in modules if m["Key"]}
    return Validation(folder, json.loads(result.stdout)["diagnostics"], called)


def test_every_example_and_module_is_checked() -> None:
    names = {str(p.relative_to(REPO_ROOT)) for p in DIRECTORIES}
    assert {"modules/iam-policy", "modules/approval-rule", "examples/basic", "examples/complete"} <= names


def test_validation_calls_every_directory(validation: Validation) -> None:
    assert {key: directory for key, directory in validation.called.items() if "." not in key} == {
        call_name(directory): directory for directory in DIRECTORIES
    }
    tests_only_a_root_validate_reads = [p for d in DIRECTORIES for p in [*d.glob("*.tftest.hcl"), *d.glob("tests/*.tftest.hcl")]]
    assert tests_only_a_root_validate_reads == []


def test_terraform_fmt(tf_env) -> None:
    result = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", "-diff"], cwd=REPO_ROOT, env=tf_env, capture_output=True, text=True
    )
    assert result.returncode == 0, f"unformatted files:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("directory", DIRECTORIES, ids=[str(p.relative_to(REPO_ROOT)) or "root" for p in DIRECTORIES])
def test_terraform_validate(directory: Path, validation: Validation) -> None:
    """No error or warning in the directory's files. It fails too on an error in a directory it calls
    (Terraform skips what depends on a failed expression) and on any diagnostic tied to no directory."""
    called = {d for key, d in validation.called.items() if key.startswith(call_name(directory) + ".")} - {directory}
    owners = [(validation.owner(d), d) for d in validation.diagnostics]
    own = [d for owner, d in owners if owner == directory]
    unplaced = [d for owner, d in owners if owner is None]
    blocking = [d for owner, d in owners if owner in called and d["severity"] == "error"]
    assert own == [], json.dumps(own, indent=2)
    assert unplaced == [], "diagnostics in no checked directory:\n" + json.dumps(unplaced, indent=2)
    assert blocking == [], "not fully validated, errors in what it calls:\n" + json.dumps(blocking, indent=2)
