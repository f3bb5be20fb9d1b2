"""Requirements, providers, modules, resources, inputs and outputs tables for the README of the root module
and of each submodule, in the layout of terraform-docs' markdown tables (Required column included).

Reads the .tf files with python-hcl2 and writes Markdown tables between the markers
<!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS -->. `--check` exits 1 when a README is out of date.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path
from typing import Any

import hcl2

from harness.tfcli import REPO_ROOT

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"


def _unquote(value: Any) -> Any:
    """python-hcl2 keeps HCL quoting and ${} around expressions: give plain values back."""
    if isinstance(value, str):
        if value.startswith('"<<') and value.endswith('"'):  # heredoc: its lines between the markers
            return " ".join(" ".join(value[1:-1].splitlines()[1:-1]).split())
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return json.loads(value)
        if value.startswith("${") and value.endswith("}"):
            return value[2:-1]
        return value
    if isinstance(value, list):
        return [_unquote(item) for item in value]
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items() if k != "__is_block__"}
    return value


@functools.cache  # each table reads each file three times; python-hcl2 takes some 50 ms per file
def _parsed_text(text: str) -> dict[str, Any]:
    return hcl2.loads(text)  # type: ignore[no-any-return]


def _parsed(path: Path) -> dict[str, Any]:
    """A .tf file as python-hcl2 reads it (callers must not change it: one parse serves every caller)."""
    return _parsed_text(path.read_text())


def _blocks(path: Path, kind: str) -> list[tuple[str, dict[str, Any]]]:
    if not path.exists():
        return []
    parsed = _parsed(path)
    return [(_unquote(name), _unquote(body)) for block in parsed.get(kind, []) for name, body in block.items()]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def all_blocks(module_dir: Path, kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [block for path in sorted(module_dir.glob("*.tf")) for block in _blocks(path, kind)]


def _typed_blocks(module_dir: Path, kind: str) -> list[tuple[str, str]]:
    """(type, name) of every resource or data source, in file order."""
    found = []
    for path in sorted(module_dir.glob("*.tf")):
        for block in _parsed(path).get(kind, []):
            for type_name, labels in block.items():
                found += [(_unquote(type_name), _unquote(label)) for label in labels]
    return found


def _registry_link(type_name: str, kind: str) -> str:
    provider, _, short = type_name.partition("_")
    folder = "resources" if kind == "resource" else "data-sources"
    return f"https://registry.terraform.io/providers/hashicorp/{provider}/latest/docs/{folder}/{short}"


def render(module_dir: Path) -> str:
    """The tables terraform-docs' markdown table layout gives: requirements, providers, modules, resources,
    inputs (with Required) and outputs."""
    settings: list[dict[str, Any]] = []
    for path in sorted(module_dir.glob("*.tf")):
        settings += [_unquote(block) for block in _parsed(path).get("terraform", [])]
    providers: dict[str, str] = {}
    required_version = None
    for block in settings:
        required_version = block.get("required_version", required_version)
        for entry in block.get("required_providers", []):
            providers.update({name: spec.get("version", "n/a") for name, spec in entry.items() if isinstance(spec, dict)})

    lines = ["## Requirements", "", "| Name | Version |", "| --- | --- |"]
    if required_version:
        lines.append(f"| terraform | `{_cell(required_version)}` |")
    lines += [f"| {name} | `{_cell(version)}` |" for name, version in sorted(providers.items())]

    lines += ["", "## Providers", ""]
    if providers:
        lines += ["| Name | Version |", "| --- | --- |", *(f"| {n} | `{_cell(v)}` |" for n, v in sorted(providers.items()))]
    else:
        lines.append("No providers.")

    modules = all_blocks(module_dir, "module")
    lines += ["", "## Modules", ""]
    if modules:
        lines += ["| Name | Source | Version |", "| --- | --- | --- |"]
        lines += [f"| `{name}` | `{body['source']}` | {body.get('version', 'n/a')} |" for name, body in modules]
    else:
        lines.append("No modules.")

    lines += ["", "## Resources", ""]
    resources = [(t, n, "resource") for t, n in _typed_blocks(module_dir, "resource")]
    resources += [(t, n, "data source") for t, n in _typed_blocks(module_dir, "data")]
    if resources:
        lines += ["| Name | Type |", "| --- | --- |"]
        for type_name, name, kind in sorted(resources, key=lambda r: (r[2] != "resource", r[0], r[1])):
            lines.append(f"| [{type_name}.{name}]({_registry_link(type_name, 'resource' if kind == 'resource' else 'data')}) | {kind} |")
    else:
        lines.append("No resources.")

    lines += ["", "## Inputs", "", "| Name | Description | Type | Default | Required |", "| --- | --- | --- | --- | :---: |"]
    for name, body in _blocks(module_dir / "variables.tf", "variable"):
        required = "default" not in body
        default = "n/a" if required else f"`{_cell(json.dumps(body['default']))}`"
        lines.append(
            f"| `{name}` | {_cell(body.get('description', ''))} | `{_cell(str(body.get('type', 'any')))}` | {default} | {'yes' if required else 'no'} |"
        )
    lines += ["", "## Outputs", "", "| Name | Description |", "| --- | --- |"]
    for name, body in _blocks(module_dir / "outputs.tf", "output"):
        lines.append(f"| `{name}` | {_cell(body.get('description', ''))} |")
    return "\n".join(lines)


def module_dirs() -> list[Path]:
    return [REPO_ROOT, *sorted(p for p in (REPO_ROOT / "modules").iterdir() if (p / "variables.tf").exists())]


def updated_readme(module_dir: Path) -> tuple[Path, str]:
    """The README path and its text with the tables regenerated (a new README holds a title and tables)."""
    readme = module_dir / "README.md"
    text = readme.read_text() if readme.exists() else f"# {module_dir.name}\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return readme, f"{head}{BEGIN}\n{render(module_dir)}\n{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a README is out of date; write nothing")
    args = parser.parse_args()
    stale = []
    for module_dir in module_dirs():
        readme, text = updated_readme(module_dir)
        if (readme.read_text() if readme.exists() else None) != text:
            stale.append(str(readme.relative_to(REPO_ROOT)))
            if not args.check:
                readme.write_text(text)
    if stale:
        print(("out of date: " if args.check else "updated: ") + ", ".join(stale))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
