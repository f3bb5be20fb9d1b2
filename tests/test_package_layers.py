"""The CLI's layers: `cli` on top, the commands below it, and nothing below importing `cli` back."""

from __future__ import annotations

import ast
from pathlib import Path

import approved_amis
from approved_amis import cli

PACKAGE = Path(approved_amis.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every approved_amis module a file imports, by its short name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "approved_amis":
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("approved_amis."):
            names.add(node.module.split(".", 1)[1])
        elif isinstance(node, ast.Import):
            names.update(a.name.split(".", 1)[1] for a in node.names if a.name.startswith("approved_amis."))
    return names


def modules() -> dict[str, Path]:
    """Every module of the package by its short name; a subpackage by its own name (`check_plan`), its
    modules as `check_plan.walker`."""
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    found.pop("", None)
    return found


def test_no_module_below_the_cli_imports_it() -> None:
    importers = sorted(name for name, path in modules().items() if name != "cli" and "cli" in imported_modules(path))
    assert importers == []


def test_the_cli_registers_every_command_module_it_imports() -> None:
    commands = {name for name, path in modules().items() if "def register(subcommands" in path.read_text()}
    assert commands == {"audit", "retire", "check_plan"}
    assert commands <= imported_modules(PACKAGE / "cli.py")
    assert {module.__name__.rsplit(".", 1)[1] for module in cli.COMMANDS} == commands
    parser_commands = cli.build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert set(parser_commands) == {"audit", "retire", "check-plan"}
