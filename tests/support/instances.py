"""Many plans in one: each (directory, inputs) becomes a module instance of one generated root.

A terraform process costs seconds of CPU whatever it plans (it hashes the provider and loads its schema),
so the tests plan the module under many inputs in one process. Each instance calls its own copy of the
module tree (`i<N>/`), so a diagnostic names the instance it belongs to: by the file it points at and by
the validation rule it was checked by. Inputs reach each instance through root variables of type `any`;
Terraform converts them to the module's types at the call, as it converts `-var` values, and evaluates
them during the plan walk only, so every instance's validations run in the same plan.

An example is an instance too: a module called without count or for_each may hold provider blocks. Each
instance's outputs become root outputs declared sensitive as its directory declares them, so the check
Terraform makes of root outputs alone (a sensitive value in an output not declared sensitive) holds for
every instance. instance_plan cuts one instance's part out of the plan's JSON as `terraform show -json`
prints the directory planned alone: the examples' plans that checkov scans are these.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from harness.tfcli import REPO_ROOT

from .planning import PlanSummary, summarize

# What a module of this repository reads: its .tf files and the submodules it calls (with their templates).
MODULE_TREE = ("modules", "examples")
# An output block in terraform fmt layout (its closing brace at the start of a line), and its sensitive flag.
OUTPUT = re.compile(r'^output\s+"([^"]+)"\s*\{(.*?)^\}', re.MULTILINE | re.DOTALL)
SENSITIVE = re.compile(r"^\s+sensitive\s*=\s*true\s*$", re.MULTILINE)


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


def outputs_of(directory: Path) -> dict[str, bool]:
    """The outputs a directory declares, each with whether it is declared sensitive."""
    found = (match for tf_file in directory.glob("*.tf") for match in OUTPUT.finditer(tf_file.read_text()))
    return {match.group(1): bool(SENSITIVE.search(match.group(2))) for match in sorted(found, key=lambda m: m.group(1))}


def instance_blocks(instance: Instance, with_outputs: bool) -> list[str]:
    """The root variables, the module call and (with_outputs) one output per module output of an instance,
    sensitive where the directory declares it so: a root output that carries a sensitive value without
    saying so is an error, in the generated root as in the directory planned alone."""
    blocks = [
        f'variable "{instance.variable(name)}" {{\n  type     = any\n  nullable = true\n}}\n' for name in instance.tf_vars
    ]
    arguments = "".join(f"  {name} = var.{instance.variable(name)}\n" for name in instance.tf_vars)
    blocks.append(f'module "{instance.name}" {{\n  source = "{instance.source}"\n{arguments}}}\n')
    if with_outputs:
        blocks += [
            f'output "{instance.name}__{name}" {{\n  value = module.{instance.name}.{name}\n'
            + ("  sensitive = true\n" if sensitive else "")
            + "}\n"
            for name, sensitive in outputs_of(instance.directory).items()
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


# The parts of `terraform show -json` of a plan, in its order; those it leaves out when empty (omitempty).
PLAN_KEYS = (
    "format_version", "terraform_version", "variables", "planned_values", "resource_drift", "resource_changes",
    "output_changes", "prior_state", "configuration", "relevant_attributes", "checks",
    "timestamp", "applyable", "complete", "errored",
)  # fmt: skip
OMITTED_WHEN_EMPTY = {"variables", "resource_drift", "resource_changes", "output_changes", "relevant_attributes"}


def instance_summary(plan: dict[str, Any], instance: Instance) -> PlanSummary:
    """The summary of one instance's plan, as if its directory had been planned alone (instance_plan)."""
    return summarize(instance_plan(plan, instance))


def instance_plan(plan: dict[str, Any], instance: Instance) -> dict[str, Any]:
    """One instance's part of the generated root's `terraform show -json`: the document that command prints
    for the instance's directory planned alone with the same inputs.

    Every address loses its `module.<instance>` prefix (resources, modules, changes, checks, relevant
    attributes; the instance's module becomes the root module, which has no address), the instance's
    module configuration is the root module's, its provider blocks are the root's provider configurations
    (`aws`, `aws.secondary`, as resources name them), its outputs (declared in the generated root as its
    directory declares them) lose their `<instance>__` prefix, and its variables are its inputs and the
    defaults of the others; what other instances planned is left out.
    Compared with the examples planned alone, the documents are equal but for the timestamp and the order
    of lists Terraform itself does not keep (child modules, checks, relevant attributes), and checkov finds
    the same resources and results in both (tests/test_lint.py scans these).
    """
    prefix = f"module.{instance.name}"
    own = f"{instance.name}__"  # the generated root's outputs of this instance
    module = plan["configuration"]["root_module"]["module_calls"][instance.name]["module"]

    def owned(address: str) -> bool:
        return address == prefix or address.startswith(prefix + ".")

    def bare(address: str) -> str:
        return address.removeprefix(prefix).removeprefix(".")

    def bare_key(key: str) -> str:
        """A provider configuration key (`module.i4:aws.secondary`) as the directory alone has it."""
        module_address, _, provider = key.rpartition(":")
        return f"{bare(module_address)}:{provider}" if bare(module_address) else provider

    def module_values(values: dict[str, Any]) -> dict[str, Any]:
        """planned_values, or the values of prior_state: the instance's module as the root module, its outputs."""
        child = next((m for m in values.get("root_module", {}).get("child_modules", []) if m["address"] == prefix), {})
        return {"outputs": own_outputs(values.get("outputs", {})), "root_module": moved_module(child)}

    def moved_module(values: dict[str, Any]) -> dict[str, Any]:
        return _rewritten(
            values,
            resources=lambda resources: [_rewritten(r, address=bare) for r in resources],
            address=bare,
            child_modules=lambda children: [moved_module(c) for c in children],
        )

    def own_outputs(found: dict[str, Any]) -> dict[str, Any]:
        """The instance's outputs (or their changes), by the names its directory gives them."""
        return {name.removeprefix(own): output for name, output in found.items() if name.startswith(own)}

    def moved_check(check: dict[str, Any]) -> dict[str, Any]:
        def address(found: dict[str, Any]) -> dict[str, Any]:
            return _rewritten(found, module=bare, to_display=bare)

        return _rewritten(check, address=address, instances=lambda found: [_rewritten(i, address=address) for i in found])

    def provider_keys(config: Any) -> Any:
        """A module's configuration with every provider_config_key as the directory alone has it."""
        if isinstance(config, dict):
            return {k: bare_key(v) if k == "provider_config_key" else provider_keys(v) for k, v in config.items()}
        return [provider_keys(item) for item in config] if isinstance(config, list) else config

    def variables(_: Any) -> dict[str, Any]:
        return {
            name: {"value": instance.tf_vars[name] if name in instance.tf_vars else variable["default"]}
            for name, variable in sorted(module.get("variables", {}).items())
            if name in instance.tf_vars or "default" in variable
        }

    def changes(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        moved = {"address": bare, "module_address": bare, "previous_address": bare}
        return [_rewritten(c, **moved) for c in found if owned(c.get("module_address", ""))]

    def configuration(found: dict[str, Any]) -> dict[str, Any]:
        providers = {
            bare_key(key): _rewritten(provider, module_address=bare)
            for key, provider in found.get("provider_config", {}).items()
            if owned(provider.get("module_address", ""))
        }
        return {"provider_config": providers, "root_module": provider_keys(module)}

    part: dict[str, Callable[[Any], Any]] = {
        "variables": variables,
        "planned_values": module_values,
        "resource_drift": changes,
        "resource_changes": changes,
        "output_changes": own_outputs,
        "prior_state": lambda found: {**found, "values": module_values(found.get("values", {}))},
        "configuration": configuration,
        "relevant_attributes": lambda found: [_rewritten(r, resource=bare) for r in found if owned(r["resource"])],
        "checks": lambda found: [moved_check(c) for c in found if owned(c["address"].get("module", ""))],
    }
    unknown = set(plan) - set(PLAN_KEYS)
    assert not unknown, f"the plan has parts instance_plan does not know: {sorted(unknown)}"
    derived: dict[str, Any] = {}
    for key in PLAN_KEYS:
        if key not in plan and key != "variables":  # the generated root's variables are the inputs only
            continue
        value = part[key](plan.get(key)) if key in part else plan[key]
        if value or key not in OMITTED_WHEN_EMPTY:
            derived[key] = value
    left = re.findall(rf'"{re.escape(prefix)}[.:"]', json.dumps(derived))
    assert not left, f"{len(left)} addresses of the generated root left in the plan of {instance.name}: a field instance_plan does not rewrite"
    return derived


def _rewritten(item: dict[str, Any], **rewrite: Any) -> dict[str, Any]:
    """item with the values of the keys named rewritten by their functions, in place; a key whose value
    becomes empty is left out, as Terraform leaves out the root module's address."""
    result = {}
    for key, value in item.items():
        value = rewrite[key](value) if key in rewrite else value
        if key not in rewrite or value != "":
            result[key] = value
    return result


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
