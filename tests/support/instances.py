"""Many plans in one: each (directory, inputs) becomes a module instance of one generated root.

A terraform process costs seconds of CPU whatever it plans (it hashes the provider and loads its schema),
so the tests plan the module under many inputs in one process. Each instance calls its own copy of the
module tree (`i<N>/`), so a diagnostic names the instance it belongs to: by the file it points at and by
the validation rule it was checked by. Inputs reach each instance through root variables of type `any`;
Terraform converts them to the module's types at the call, as it converts `-var` values, and evaluates
them during the plan walk only, so every instance's validations run in the same plan.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.tfcli import REPO_ROOT

from .planning import PlanSummary, summarize

# What a module of this repository reads: its .tf files and the submodules it calls (with their templates).
MODULE_TREE = ("modules", "examples")
OUTPUT = re.compile(r'^output\s+"([^"]+)"', re.MULTILINE)


@dataclass(frozen=True)
class Instance:
    """One module call of the generated root: the repository directory it calls and its inputs."""

    name: str  # i<N>: module name, copy folder, prefix of its root variables and outputs
    directory: Path  # absolute, inside the repository
    tf_vars: dict[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> str:
        relative = self.directory.relative_to(REPO_ROOT)
        return f"./{self.name}" if relative == Path(".") else f"./{self.name}/{relative.as_posix()}"

    def variable(self, name: str) -> str:
        return f"{self.name}__{name}"


@dataclass(frozen=True)
class GeneratedRoot:
    folder: Path
    var_file: Path  # the inputs, as root variables
    instance_at_line: dict[int, str]  # line of main.tf -> the instance whose block holds it
    inputs: list[tuple[Path, dict[str, Any]]]  # (directory, inputs) of i0, i1, ...


def instances_of(inputs: list[tuple[Path, dict[str, Any]]]) -> list[Instance]:
    return [Instance(f"i{index}", Path(directory).resolve(), dict(tf_vars)) for index, (directory, tf_vars) in enumerate(inputs)]


def copy_module_tree(destination: Path, directory: Path) -> None:
    """The repository's .tf files and module tree under destination (plus directory, when outside it)."""
    destination.mkdir(parents=True)
    for tf_file in REPO_ROOT.glob("*.tf"):
        shutil.copy(tf_file, destination / tf_file.name)
    for folder in MODULE_TREE:
        shutil.copytree(REPO_ROOT / folder, destination / folder, ignore=shutil.ignore_patterns(".terraform*", "*.md"))
    relative = directory.relative_to(REPO_ROOT)
    if relative.parts and relative.parts[0] not in MODULE_TREE:
        shutil.copytree(directory, destination / relative, ignore=shutil.ignore_patterns(".terraform*"))


def output_names(directory: Path) -> list[str]:
    return sorted(name for tf_file in directory.glob("*.tf") for name in OUTPUT.findall(tf_file.read_text()))


def instance_blocks(instance: Instance, with_outputs: bool) -> list[str]:
    """The root variables, the module call and (with_outputs) one output per module output of an instance."""
    blocks = [
        f'variable "{instance.variable(name)}" {{\n  type     = any\n  nullable = true\n}}\n' for name in instance.tf_vars
    ]
    arguments = "".join(f"  {name} = var.{instance.variable(name)}\n" for name in instance.tf_vars)
    blocks.append(f'module "{instance.name}" {{\n  source = "{instance.source}"\n{arguments}}}\n')
    if with_outputs:
        blocks += [
            f'output "{instance.name}__{output}" {{\n  value     = module.{instance.name}.{output}\n  sensitive = true\n}}\n'
            for output in output_names(instance.directory)
        ]
    return blocks


def write_root(folder: Path, instances: list[Instance], with_outputs: bool) -> GeneratedRoot:
    """Write the generated root into folder: a copy of the module tree per instance, main.tf, the inputs."""
    lines: list[str] = []
    instance_at_line: dict[int, str] = {}
    values: dict[str, Any] = {}
    for instance in instances:
        copy_module_tree(folder / instance.name, instance.directory)
        for block in instance_blocks(instance, with_outputs):
            for line in (block + "\n").splitlines():
                lines.append(line)
                instance_at_line[len(lines)] = instance.name
        values.update({instance.variable(name): value for name, value in instance.tf_vars.items()})
    (folder / "main.tf").write_text("\n".join(lines) + "\n")
    var_file = folder / "instances.tfvars.json"
    var_file.write_text(json.dumps(values, indent=1))
    return GeneratedRoot(folder, var_file, instance_at_line, [(i.directory, i.tf_vars) for i in instances])


def instance_summary(plan: dict[str, Any], instance: Instance) -> PlanSummary:
    """The plan of one instance as if its directory had been planned alone: addresses without the
    `module.<instance>.` prefix, its outputs, and its configuration as the root module's."""
    prefix = f"module.{instance.name}"
    planned = plan.get("planned_values", {})
    child = next((m for m in planned.get("root_module", {}).get("child_modules", []) if m.get("address") == prefix), {})
    outputs = {
        name.removeprefix(f"{instance.name}__"): value
        for name, value in planned.get("outputs", {}).items()
        if name.startswith(f"{instance.name}__")
    }
    return summarize({
        "planned_values": {"root_module": _strip(child, prefix), "outputs": outputs},
        "configuration": {"root_module": plan["configuration"]["root_module"]["module_calls"][instance.name]["module"]},
    })  # fmt: skip


def _strip(module: dict[str, Any], prefix: str) -> dict[str, Any]:
    """A planned module with the instance prefix taken off every address."""

    def bare(address: str) -> str:
        return address.removeprefix(prefix).removeprefix(".")

    return {
        **module,
        "address": bare(module.get("address", prefix)),
        "resources": [{**r, "address": bare(r["address"])} for r in module.get("resources", [])],
        "child_modules": [_strip(c, prefix) for c in module.get("child_modules", [])],
    }


CHECKED_AT = re.compile(r"This was checked by the validation rule at (\S+?):(\d+),")


def instance_of(diagnostic: dict[str, Any], root: GeneratedRoot) -> str | None:
    """The instance a diagnostic belongs to: the copy its validation rule or its range is in, or the
    module call of the generated root it points at (type conversions of the inputs)."""
    match = CHECKED_AT.search(diagnostic.get("detail", ""))
    if match and "/" in match.group(1):
        return match.group(1).split("/")[0]
    filename = diagnostic.get("range", {}).get("filename", "")
    if "/" in filename:
        return filename.split("/")[0]
    if filename == "main.tf":
        return root.instance_at_line.get(diagnostic["range"]["start"]["line"])
    return None


def repository_file(copied: str) -> Path:
    """The repository file that a file of an instance's copy (`i<N>/...`) stands for."""
    return REPO_ROOT.joinpath(*Path(copied).parts[1:])
