"""A saved Terraform plan as JSON (`terraform show -json PLANFILE`): reading and validating it, module
addresses, the configuration tree, the resources of a state, and the .tf file and line that declare a
resource (plan JSON has none: local module directories are scanned)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

SUPPORTED_FORMAT_MAJOR = "1"
# How Terraform's text output starts: `terraform show PLANFILE` with its banner, colours or summary, and
# `terraform plan` with the data sources it reads or the resources it refreshes first.
TEXT_OUTPUT = re.compile(r"Terraform |\x1b|No changes|Plan:|\S+: (Reading|Refreshing state)\.\.\.")


class PlanError(ValueError):
    """The input is not a plan this command can read; the message says what to run instead."""


@dataclass(frozen=True)
class Waiver:
    """A `# approved-amis:ignore[KIND] REASON` comment in a resource block (or just above it): its findings
    (of KIND only, when given) are accepted, for REASON. A waiver without a reason is refused."""

    path: str
    line: int
    kind: str | None
    reason: str

    def covers(self, kind: str) -> bool:
        return self.kind is None or self.kind == kind


@dataclass(frozen=True)
class Location:
    """A .tf file (POSIX path relative to the base directory) and the 1-based line of the resource, and the
    waivers written in the resource's block."""

    path: str
    line: int
    waivers: tuple[Waiver, ...] = ()
    # Resources the block indexes by its own key (`aws_launch_template.node[each.key]`, `[count.index]`).
    keyed: frozenset[str] = frozenset()


KEYED = re.compile(r"\b([A-Za-z][A-Za-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_-]*)\s*\[\s*(?:each\.key|count\.index)\s*\]")
WAIVER = re.compile(r"(?:#|//)\s*approved-amis:ignore(?:\[([a-z-]+)\])?(?:[ \t]+(.*?))?\s*$")


################################################################################
# Reading and validating the plan JSON
################################################################################


def load_plan(path: Path | str) -> dict[str, Any]:
    """The plan document at `path` (`-` for stdin is handled by the caller), or a PlanError in one line."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise PlanError(f"{path}: no such file") from None
    except OSError as error:
        raise PlanError(f"{path}: cannot read it ({error.strerror or error})") from None
    if content.startswith(b"PK\x03\x04"):  # `terraform plan -out` writes a zip archive
        raise PlanError(f"{path} is a saved plan file, not its JSON: check `terraform show -json {path}` instead")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise PlanError(f"{path} is not text, so not plan JSON: check `terraform show -json PLANFILE`") from None
    return parse_plan(text, str(path))


def parse_plan(text: str, name: str) -> dict[str, Any]:
    """Parse and validate plan JSON text; `name` prefixes the messages."""
    hint = "give the output of `terraform show -json PLANFILE` for a plan saved with `terraform plan -out=PLANFILE`"
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        if TEXT_OUTPUT.match(text.lstrip()):
            raise PlanError(f"{name} is Terraform's text output, not JSON: {hint}") from None
        raise PlanError(f"{name} is not JSON ({error.msg} at line {error.lineno}): {hint}") from None
    if not isinstance(document, dict):
        raise PlanError(f"{name} is JSON but not a Terraform plan: {hint}")
    if "lineage" in document and "serial" in document:
        raise PlanError(f"{name} is a Terraform state file, not a plan: {hint}")
    if "format_version" not in document:
        raise PlanError(f"{name} is JSON but not a Terraform plan (no format_version): {hint}")
    version = str(document["format_version"])
    if version.split(".")[0] != SUPPORTED_FORMAT_MAJOR:
        raise PlanError(
            f"{name} has plan format_version {version}; this version of approved-amis reads 1.x "
            "(Terraform 1.0 and later): use a matching Terraform or approved-amis version"
        )
    if "resource_changes" not in document and "planned_values" not in document:
        if "values" in document:
            raise PlanError(f"{name} is the JSON of a Terraform state, not of a plan: {hint}")
        raise PlanError(f"{name} is JSON but not a Terraform plan (no resource_changes): {hint}")
    if document.get("errored"):
        raise PlanError(f"{name} is a plan that failed (errored: true): fix the plan errors first")
    return document


################################################################################
# Addresses and the configuration tree
################################################################################

# A module instance path: (call name, instance key as written in the address, e.g. '["blue"]' or '[0]').
ModulePath = tuple[tuple[str, str], ...]
ANY_KEY = "*"


def parse_module_address(address: str | None) -> ModulePath:
    """`module.a["x"].module.b` -> (("a", '["x"]'), ("b", ""))."""
    if not address:
        return ()
    path: list[tuple[str, str]] = []
    position = 0
    while position < len(address):
        match = re.compile(r"\.?module\.([A-Za-z0-9_-]+)").match(address, position)
        if not match:
            raise PlanError(f"cannot read module address {address!r}")
        position = match.end()
        key = ""
        if position < len(address) and address[position] == "[":
            end = _closing_bracket(address, position)
            key = address[position : end + 1]
            position = end + 1
        path.append((match.group(1), key))
    return tuple(path)


def _closing_bracket(text: str, start: int) -> int:
    in_string = False
    position = start + 1
    while position < len(text):
        char = text[position]
        if in_string:
            if char == "\\":
                position += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "]":
            return position
        position += 1
    raise PlanError(f"unbalanced brackets in address {text!r}")


def matches_module(path: ModulePath, pattern: ModulePath) -> bool:
    return len(path) == len(pattern) and all(
        name == p_name and (p_key == ANY_KEY or key == p_key) for (name, key), (p_name, p_key) in zip(path, pattern)
    )


class Configuration:
    """The plan's `configuration` block: module calls, sources, resources and outputs by module path."""

    def __init__(self, configuration: Mapping[str, Any]) -> None:
        self.root: Mapping[str, Any] = configuration.get("root_module") or {}
        self._resources: dict[tuple[str, ...], dict[str, Mapping[str, Any]]] = {}

    def module(self, names: Sequence[str]) -> Mapping[str, Any] | None:
        module: Mapping[str, Any] | None = self.root
        for name in names:
            call = (module or {}).get("module_calls", {}).get(name)
            if call is None:
                return None
            module = call.get("module") or {}
        return module

    def call(self, names: Sequence[str]) -> Mapping[str, Any] | None:
        """The module call block of the module at `names` (in its parent), None for the root."""
        if not names:
            return None
        parent = self.module(names[:-1])
        return (parent or {}).get("module_calls", {}).get(names[-1])

    def resource(self, names: Sequence[str], address: str) -> Mapping[str, Any] | None:
        """The configuration of `address` (no instance keys) in the module at `names`."""
        key = tuple(names)
        if key not in self._resources:
            resources = (self.module(names) or {}).get("resources", [])
            self._resources[key] = {str(r.get("address")): r for r in resources if isinstance(r, Mapping)}
        return self._resources[key].get(address)


################################################################################
# Source locations
################################################################################


class Locator:
    """Maps a resource change to the .tf file and line that declares it (local modules), or to the module
    call that brings it in (remote modules); None when neither can be found."""

    def __init__(self, config: Configuration, config_dir: Path, attributes: Mapping[str, Sequence[str]]) -> None:
        self.config = config
        self.attributes = attributes  # per resource type, the attributes whose line a finding points at
        self.config_dir = config_dir.resolve()
        self.base = _repository_root(self.config_dir) or self.config_dir
        self._files: dict[Path, list[tuple[Path, list[str]]]] = {}
        self._found: dict[tuple[Any, ...], Location | None] = {}

    def locate(self, rc: Mapping[str, Any], module: ModulePath) -> Location | None:
        """Every instance of a resource (count, for_each, module instances) shares its declaration."""
        names = tuple(name for name, _ in module)
        key = (names, rc.get("mode"), rc.get("type"), rc.get("name"))
        if key not in self._found:
            self._found[key] = self._locate(rc, names)
        return self._found[key]

    def _locate(self, rc: Mapping[str, Any], names: tuple[str, ...]) -> Location | None:
        directory = self.config_dir
        for depth, name in enumerate(names):
            call = self.config.call(names[: depth + 1]) or {}
            source = str(call.get("source") or "")
            if not source.startswith(("./", "../")):
                return self._find(directory, rf'module\s+"{re.escape(name)}"', ())
            directory = (directory / source).resolve()
        kind = "data" if rc.get("mode") == "data" else "resource"
        pattern = rf'{kind}\s+"{re.escape(str(rc.get("type")))}"\s+"{re.escape(str(rc.get("name")))}"'
        return self._find(directory, pattern, self.attributes.get(str(rc.get("type")), ()))

    def _find(self, directory: Path, block: str, attributes: Sequence[str]) -> Location | None:
        opening = re.compile(rf"^\s*{block}\s*\{{")
        for path, lines in self._tf_files(directory):
            for number, line in enumerate(lines, start=1):
                if opening.match(line):
                    line_number = _attribute_line(lines, number, attributes) or number
                    try:
                        relative = path.relative_to(self.base)
                    except ValueError:
                        relative = path
                    first, last = _block_lines(lines, number)
                    text = "\n".join(lines[number - 1 : last])
                    return Location(
                        relative.as_posix(), line_number, _waivers(relative.as_posix(), lines, first, last),
                        frozenset(KEYED.findall(text)),
                    )
        return None

    def _tf_files(self, directory: Path) -> list[tuple[Path, list[str]]]:
        if directory not in self._files:
            files = []
            if directory.is_dir():
                for path in sorted(directory.glob("*.tf")):
                    try:
                        files.append((path, path.read_text(encoding="utf-8").splitlines()))
                    except (OSError, UnicodeDecodeError):
                        continue
            self._files[directory] = files
        return self._files[directory]


def _attribute_line(lines: list[str], start: int, attributes: Sequence[str]) -> int | None:
    """The line (1-based) of the first of `attributes` set inside the block opened on line `start`."""
    if not attributes:
        return None
    pattern = re.compile(rf"^\s*({'|'.join(re.escape(a) for a in attributes)})\s*(=|\{{)")
    depth = 0
    for number in range(start, len(lines) + 1):
        text = lines[number - 1]
        if number > start and depth == 1 and pattern.match(text):
            return number
        depth += text.count("{") - text.count("}")
        if number > start and depth <= 0:
            return None
    return None


def _block_lines(lines: list[str], start: int) -> tuple[int, int]:
    """The first line of the comments directly above the block opened on line `start` (1-based), and the
    block's last line."""
    first = start
    while first > 1 and lines[first - 2].lstrip().startswith(("#", "//")):
        first -= 1
    depth = 0
    last = start
    for number in range(start, len(lines) + 1):
        depth += lines[number - 1].count("{") - lines[number - 1].count("}")
        last = number
        if depth <= 0:
            break
    return first, last


def _waivers(path: str, lines: list[str], first: int, last: int) -> tuple[Waiver, ...]:
    """The waiver comments between lines `first` and `last`: in a block, or in the comments just above it."""
    found = []
    for number in range(first, last + 1):
        match = WAIVER.search(lines[number - 1])
        if match:
            found.append(Waiver(path, number, match.group(1), (match.group(2) or "").strip()))
    return tuple(found)


def _repository_root(directory: Path) -> Path | None:
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


################################################################################
# State resources
################################################################################


def state_resources(state: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Resources of the plan's prior state (data sources read during plan), each with its module_address."""

    def walk(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        for resource in module.get("resources") or []:
            yield {**resource, "module_address": module.get("address")}
        for child in module.get("child_modules") or []:
            yield from walk(child)

    yield from walk((state.get("values") or {}).get("root_module") or {})
