"""Inputs and outputs tables for the README of the root module and of each submodule.

Reads variables.tf and outputs.tf with python-hcl2 and writes Markdown tables between the markers
<!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS -->. `--check` exits 1 when a README is out of date.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import hcl2

from tfcli import REPO_ROOT

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


def _blocks(path: Path, kind: str) -> list[tuple[str, dict[str, Any]]]:
    if not path.exists():
        return []
    with path.open() as handle:
        parsed = hcl2.load(handle)
    return [(_unquote(name), _unquote(body)) for block in parsed.get(kind, []) for name, body in block.items()]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(module_dir: Path) -> str:
    lines = ["## Inputs", "", "| Name | Description | Type | Default |", "| --- | --- | --- | --- |"]
    for name, body in _blocks(module_dir / "variables.tf", "variable"):
        default = json.dumps(body["default"]) if "default" in body else "required"
        lines.append(
            f"| `{name}` | {_cell(body.get('description', ''))} | `{_cell(str(body.get('type', 'any')))}` | `{_cell(default)}` |"
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
