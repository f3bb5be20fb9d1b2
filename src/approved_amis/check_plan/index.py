"""What a plan holds, indexed for the launch handlers: its resource changes, the data sources it read, its
configuration; and the launch templates (or configurations) a reference leads to, followed through
resource addresses, module variables and module outputs."""

from __future__ import annotations

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
    is_unknown,
    most_specific,
    references,
    split_index,
    ssm_reason,
)

MAX_DEPTH = 16  # module variables and outputs followed at most this deep


@dataclass(frozen=True)
class Template:
    """A launch template or configuration a launch leads to, planned or read: its AMI, or why it is unknown."""

    address: str
    resource_type: str
    image_id: str | None
    unknown_reason: str | None


class PlanIndex:
    def __init__(self, plan: Mapping[str, Any]) -> None:
        self.changes: list[Mapping[str, Any]] = [
            rc for rc in plan.get("resource_changes") or [] if isinstance(rc, Mapping)
        ]
        self.data_sources = list(state_resources(plan.get("prior_state") or {}))
        self.config = Configuration(plan.get("configuration") or {})
        self.providers: Mapping[str, Any] = (plan.get("configuration") or {}).get("provider_config") or {}
        self.variables: Mapping[str, Any] = plan.get("variables") or {}

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
        if isinstance(image, str) and image:
            if image.startswith(SSM_PREFIX):
                return Template(address, str(rc["type"]), None, ssm_reason(image))
            return Template(address, str(rc["type"]), image, None)
        module = parse_module_address(rc.get("module_address"))
        expression = self.expressions(rc, module).get("image_id")
        if is_unknown(unknown.get("image_id")) or rc.get("mode") == "data":
            return Template(address, str(rc["type"]), None, self.unknown_reason("image_id", True, expression, module))
        return Template(address, str(rc["type"]), None, None)

    def resolve(
        self, resource_type: str, identifier: str | None, name: str | None, found: list[str], module: ModulePath
    ) -> list[Template]:
        """The templates (or launch configurations) a reference names: by known ID or name, else by references."""
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
                        return [Template(str(data["address"]), resource_type, values.get("image_id"), None)]
        seen: dict[str, Template] = {}
        for target in self._follow(found, module, resource_type, depth=0):
            seen.setdefault(target.address, target)
        return list(seen.values())

    def candidates(self, module: ModulePath) -> list[Template]:
        """Templates a link the plan does not show can lead to: those planned in the same module instance,
        and those reachable from the inputs of every module call above it."""
        found: dict[str, Template] = {}
        for rc in self.changes:
            if (
                rc.get("type") == "aws_launch_template"
                and (rc.get("change") or {}).get("actions") != ["delete"]
                and matches_module(parse_module_address(rc.get("module_address")), module)
            ):
                found.setdefault(str(rc["address"]), self.template_of(rc))
        for depth in range(len(module), 0, -1):
            names = [name for name, _ in module[:depth]]
            call = self.config.call(names) or {}
            inputs = [r for e in (call.get("expressions") or {}).values() for r in references(e)]
            for target in self._follow(inputs, module[: depth - 1], "aws_launch_template", depth=0):
                found.setdefault(target.address, target)
        return list(found.values())

    def _follow(self, found: list[str], module: ModulePath, resource_type: str, depth: int) -> Iterator[Template]:
        if depth > MAX_DEPTH:
            return
        names = [name for name, _ in module]
        for reference in most_specific(found):
            parts = reference.split(".")
            if parts[0] == "var" and len(parts) >= 2 and module:
                call = self.config.call(names) or {}
                expression = (call.get("expressions") or {}).get(parts[1])
                yield from self._follow(references(expression), module[:-1], resource_type, depth + 1)
            elif parts[0] == "module" and len(parts) >= 3:
                call_name, key = split_index(parts[1])
                child = self.config.module([*names, call_name]) or {}
                output = (child.get("outputs") or {}).get(parts[2]) or {}
                child_path = (*module, (call_name, key or ANY_KEY))
                yield from self._follow(references(output.get("expression")), child_path, resource_type, depth + 1)
            elif parts[0] == "data" and len(parts) >= 3 and parts[1] == resource_type:
                yield from self._data_templates(module, parts[1], parts[2])
            elif len(parts) >= 2 and split_index(parts[0])[0] == resource_type:
                resource_name, index = split_index(parts[1])
                for rc in self.changes:
                    if (
                        rc.get("mode") == "managed"
                        and rc.get("type") == resource_type
                        and rc.get("name") == resource_name
                        and matches_module(parse_module_address(rc.get("module_address")), module)
                        and (not index or index_text(rc.get("index")) == index)
                    ):
                        yield self.template_of(rc)

    def _data_templates(self, module: ModulePath, resource_type: str, name: str) -> Iterator[Template]:
        for rc in self.changes:
            if rc.get("mode") == "data" and rc.get("type") == resource_type and rc.get("name") == name:
                if matches_module(parse_module_address(rc.get("module_address")), module):
                    yield self.template_of(rc)
        for data in self.data_sources:
            if data.get("type") == resource_type and data.get("name") == name:
                if matches_module(parse_module_address(data.get("module_address")), module):
                    values = data.get("values") or {}
                    yield Template(str(data["address"]), resource_type, values.get("image_id"), None)
