"""What a plan holds, indexed for the launch handlers: its resource changes, the data sources it read, its
configuration; and the launch templates (or configurations) a reference leads to, followed through
resource addresses, module variables and module outputs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from approved_amis.check_plan.document import (
    ANY_KEY,
    Configuration,
    ModulePath,
    matches_module,
    parse_module_address,
    state_resources,
)
from approved_amis.check_plan.values import (
    SSM_PREFIX,
    index_text,
    sensitive_strings,
    ssm_parameter,
    is_unknown,
    most_specific,
    references,
    split_index,
    ssm_reason,
)

MAX_DEPTH = 16  # module variables and outputs followed at most this deep


@dataclass(frozen=True)
class Versions:
    """What the plan shows of a launch template's versions once it is applied.

    `state` is `created` (the plan creates the template: version 1 is its only version), `updated` (the
    plan adds a version, which becomes the latest; the default moves only with `update_default_version`),
    or `current` (a template the plan leaves as it is, or reads through a data source: the image shown is
    the latest version's, as the provider reads it).
    """

    state: str
    template_id: str | None
    latest: int | None
    default: int | None
    previous_latest: int | None = None  # updated: the latest version before apply
    previous_image: str | None = None  # updated: the image of that version
    becomes_default: bool = False  # updated: the new version becomes the default


@dataclass(frozen=True)
class Template:
    """A launch template or configuration a launch leads to, planned or read: its AMI, or why it is unknown.
    `image_id` is the latest version's; `versions` (launch templates) says which versions exist."""

    address: str
    resource_type: str
    image_id: str | None
    unknown_reason: str | None
    versions: Versions | None = None
    index: str = ""  # the instance key of a planned template (`["a"]`, `[0]`)
    module: ModulePath = ()
    parameter: str | None = None  # the SSM parameter its image is read from (resolve:ssm:)


class PlanIndex:
    def __init__(self, plan: Mapping[str, Any]) -> None:
        self.changes: list[Mapping[str, Any]] = [
            rc for rc in plan.get("resource_changes") or [] if isinstance(rc, Mapping)
        ]
        self.data_sources = list(state_resources(plan.get("prior_state") or {}))
        self.config = Configuration(plan.get("configuration") or {})
        self.providers: Mapping[str, Any] = (plan.get("configuration") or {}).get("provider_config") or {}
        self.variables: Mapping[str, Any] = plan.get("variables") or {}
        self.sensitive = _sensitive_values(plan, self.changes, self.data_sources)

    # -- configuration -------------------------------------------------------------------------------

    def expressions(self, rc: Mapping[str, Any], module: ModulePath) -> Mapping[str, Any]:
        """The configuration expressions of a resource change or read (empty for a remote module's)."""
        prefix = "data." if rc.get("mode") == "data" else ""
        resource = self.config.resource([name for name, _ in module], f"{prefix}{rc.get('type')}.{rc.get('name')}")
        return (resource or {}).get("expressions") or {}

    def provider_key(self, resource: Mapping[str, Any]) -> str:
        """The provider configuration key (`aws`, `aws.west`, `module.x:aws`) of a resource change or read."""
        module = parse_module_address(resource.get("module_address"))
        prefix = "data." if resource.get("mode") == "data" else ""
        address = f"{prefix}{resource.get('type')}.{resource.get('name')}"
        configured = self.config.resource([name for name, _ in module], address)
        return str((configured or {}).get("provider_config_key") or "")

    def unknown_reason(self, attribute: str, unknown: Any, expression: Any, module: ModulePath) -> str:
        """`ami is known only after apply (from aws_ami_copy.golden.id)`, module variables followed to their source."""
        found = self._origins(most_specific(references(expression)), module, depth=0)
        source = f" (from {', '.join(dict.fromkeys(found))})" if found else ""
        if is_unknown(unknown):
            return f"{attribute} is known only after apply{source}"
        return f"{attribute} is not set{source}"

    def _origins(self, found: list[str], module: ModulePath, depth: int) -> list[str]:
        origins: list[str] = []
        for reference in found:
            if reference.startswith("var.") and module and depth < MAX_DEPTH:
                call = self.config.call([name for name, _ in module]) or {}
                expression = (call.get("expressions") or {}).get(reference.split(".")[1])
                parent = most_specific(references(expression))
                origins += self._origins(parent, module[:-1], depth + 1) if parent else [reference]
            else:
                prefix = "".join(f"module.{name}." for name, _ in module)
                origins.append(prefix + reference)
        return origins

    # -- templates -----------------------------------------------------------------------------------

    def template_of(self, rc: Mapping[str, Any]) -> Template:
        """A planned (or read) launch template or configuration and the AMI it names."""
        change = rc.get("change") or {}
        after = change.get("after") or {}
        unknown = change.get("after_unknown") or {}
        image = after.get("image_id")
        address = str(rc["address"])
        module = parse_module_address(rc.get("module_address"))
        extra = {"versions": _planned_versions(rc), "index": index_text(rc.get("index")), "module": module}
        if isinstance(image, str) and image:
            if image.startswith(SSM_PREFIX):
                return Template(address, str(rc["type"]), None, ssm_reason(image), **extra, parameter=ssm_parameter(image))
            return Template(address, str(rc["type"]), image, None, **extra)
        expression = self.expressions(rc, module).get("image_id")
        if is_unknown(unknown.get("image_id")) or rc.get("mode") == "data":
            reason = self.unknown_reason("image_id", True, expression, module)
            return Template(address, str(rc["type"]), None, reason, **{**extra, "versions": None})
        return Template(address, str(rc["type"]), None, None, **extra)

    def version_origins(self, expression: Any, module: ModulePath) -> list[str]:
        """What a version expression comes from, module variables followed to their source."""
        return self._origins(most_specific(references(expression)), module, depth=0)

    def resolve(
        self, resource_type: str, identifier: str | None, name: str | None, found: list[str], module: ModulePath,
        key: str | None = None,
    ) -> list[Template]:
        """The templates (or launch configurations) a reference names: by known ID or name, else by references.
        `key`: the launching resource's instance key, when its reference indexes the template by `each.key` or
        `count.index` (the plan drops such an index from the reference)."""
        candidates = [rc for rc in self.changes if rc.get("type") == resource_type]
        if identifier or name:
            for rc in candidates:
                after = (rc.get("change") or {}).get("after") or {}
                if (identifier and after.get("id") == identifier) or (name and after.get("name") == name):
                    return [self.template_of(rc)]
            for data in self.data_sources:
                if data.get("type") == resource_type:
                    values = data.get("values") or {}
                    if (identifier and values.get("id") == identifier) or (name and values.get("name") == name):
                        return [_read_template(data, resource_type)]
        seen: dict[str, Template] = {}
        for target in self._follow(found, module, resource_type, depth=0, key=key_of(found, key)):
            seen.setdefault(target.address, target)
        return list(seen.values())

    def candidates(self, module: ModulePath, key: str | None = None, keyed: frozenset[str] = frozenset()) -> list[Template]:
        """Templates a link the plan does not show can lead to: those planned in the same module instance,
        and those reachable from the inputs of every module call above it. With `key` (the launching
        resource's instance key), a template of the same module instance under the same key is taken alone
        when the resource's source indexes that template by its own key (`keyed`: `[each.key]`,
        `[count.index]`, as the .tf file shows it)."""
        found: dict[str, Template] = {}
        for rc in self.changes:
            if (
                rc.get("type") == "aws_launch_template"
                and (rc.get("change") or {}).get("actions") != ["delete"]
                and matches_module(parse_module_address(rc.get("module_address")), module)
            ):
                found.setdefault(str(rc["address"]), self.template_of(rc))
        same_key = [t for t in found.values() if key and t.index == key and _resource_name(t.address) in keyed]
        if same_key:
            return same_key
        for depth in range(len(module), 0, -1):
            names = [name for name, _ in module[:depth]]
            call = self.config.call(names) or {}
            inputs = [r for e in (call.get("expressions") or {}).values() for r in references(e)]
            hint = key_of(inputs, module[depth - 1][1])
            for target in self._follow(inputs, module[: depth - 1], "aws_launch_template", depth=0, key=hint):
                found.setdefault(target.address, target)
        return list(found.values())

    def _follow(
        self, found: list[str], module: ModulePath, resource_type: str, depth: int, key: str | None = None
    ) -> Iterator[Template]:
        if depth > MAX_DEPTH:
            return
        names = [name for name, _ in module]
        for reference in most_specific(found):
            parts = reference.split(".")
            if parts[0] == "var" and len(parts) >= 2 and module:
                call = self.config.call(names) or {}
                parent = references((call.get("expressions") or {}).get(parts[1]))
                # `each.key` in a module call is the key of the module instance.
                yield from self._follow(parent, module[:-1], resource_type, depth + 1, key_of(parent, module[-1][1]))
            elif parts[0] == "module" and len(parts) >= 3:
                call_name, index = split_index(parts[1])
                child = self.config.module([*names, call_name]) or {}
                output = (child.get("outputs") or {}).get(parts[2]) or {}
                child_path = (*module, (call_name, index or ANY_KEY))
                yield from self._follow(references(output.get("expression")), child_path, resource_type, depth + 1)
            elif parts[0] == "data" and len(parts) >= 3 and parts[1] == resource_type:
                yield from self._data_templates(module, parts[1], parts[2])
            elif len(parts) >= 2 and split_index(parts[0])[0] == resource_type:
                resource_name, index = split_index(parts[1])
                matching = [
                    rc for rc in self.changes
                    if rc.get("mode") == "managed"
                    and rc.get("type") == resource_type
                    and rc.get("name") == resource_name
                    and matches_module(parse_module_address(rc.get("module_address")), module)
                    and (not index or index_text(rc.get("index")) == index)
                ]
                by_key = [rc for rc in matching if not index and key and index_text(rc.get("index")) == key]
                for rc in by_key or matching:
                    yield self.template_of(rc)

    def _data_templates(self, module: ModulePath, resource_type: str, name: str) -> Iterator[Template]:
        for rc in self.changes:
            if rc.get("mode") == "data" and rc.get("type") == resource_type and rc.get("name") == name:
                if matches_module(parse_module_address(rc.get("module_address")), module):
                    yield self.template_of(rc)
        for data in self.data_sources:
            if data.get("type") == resource_type and data.get("name") == name:
                if matches_module(parse_module_address(data.get("module_address")), module):
                    yield _read_template(data, resource_type)


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _read_template(data: Mapping[str, Any], resource_type: str) -> Template:
    """A template read by a `data` source during plan: the provider reports its latest version's image."""
    values = data.get("values") or {}
    image = values.get("image_id") or None
    reason = ssm_reason(image) if isinstance(image, str) and image.startswith(SSM_PREFIX) else None
    versions = None
    if resource_type == "aws_launch_template":
        identifier = values.get("id") if str(values.get("id") or "").startswith("lt-") else None
        versions = Versions("current", identifier, _number(values.get("latest_version")), _number(values.get("default_version")))
    return Template(str(data["address"]), resource_type, None if reason else image, reason, versions,
                    module=parse_module_address(data.get("module_address")), parameter=ssm_parameter(image))


def _planned_versions(rc: Mapping[str, Any]) -> Versions | None:
    """The versions a planned launch template will have, from its change."""
    if rc.get("type") != "aws_launch_template" or rc.get("mode") != "managed":
        return None
    change = rc.get("change") or {}
    actions = change.get("actions") or []
    after = change.get("after") or {}
    before = change.get("before") or {}
    identifier = after.get("id") if str(after.get("id") or "").startswith("lt-") else None
    if "create" in actions:
        return Versions("created", None, 1, 1)
    if "update" in actions:
        unknown = change.get("after_unknown") or {}
        previous_latest = _number(before.get("latest_version"))
        previous_default = _number(before.get("default_version"))
        becomes_default = bool(after.get("update_default_version")) or is_unknown(unknown.get("default_version"))
        default = None if becomes_default else _number(after.get("default_version"))
        previous_image = before.get("image_id") if isinstance(before.get("image_id"), str) else None
        # The new version's number is not shown: numbers of deleted versions are not reused.
        return Versions(
            "updated", identifier, None, default,
            previous_latest, previous_image or None, becomes_default,
        )
    return Versions("current", identifier, _number(after.get("latest_version")), _number(after.get("default_version")))


KEY_REFERENCES = ("each.key", "count.index")


def key_of(found: list[str], key: str | None) -> str | None:
    """`key` when the references index something by the instance's own key (`[each.key]`, `[count.index]`):
    besides those, they name one resource only (and its attributes), so the key can only be its index."""
    if not key or not any(r in KEY_REFERENCES for r in found):
        return None
    named = {".".join(r.split(".")[:2]) if not r.startswith(("data.", "module.")) else ".".join(r.split(".")[:3])
             for r in found if r not in KEY_REFERENCES}
    return key if len(named) == 1 else None


def _sensitive_values(
    plan: Mapping[str, Any], changes: list[Mapping[str, Any]], data_sources: list[Mapping[str, Any]]
) -> frozenset[str]:
    """Every string the plan marks sensitive: planned values, values read during plan, sensitive root variables."""
    found: set[str] = set()
    for rc in changes:
        change = rc.get("change") or {}
        found |= sensitive_strings(change.get("after"), change.get("after_sensitive"))
    for data in data_sources:
        found |= sensitive_strings(data.get("values"), data.get("sensitive_values"))
    declared = ((plan.get("configuration") or {}).get("root_module") or {}).get("variables") or {}
    for name, variable in declared.items():
        if isinstance(variable, Mapping) and variable.get("sensitive"):
            found |= sensitive_strings((plan.get("variables") or {}).get(name, {}).get("value"), True)
    return frozenset(found)


def _resource_name(address: str) -> str:
    """`module.a["x"].aws_launch_template.this[0]` -> `aws_launch_template.this`."""
    *_, resource_type, name = re.sub(r"\[[^\]]*\]", "", address).split(".")
    return f"{resource_type}.{name}"
