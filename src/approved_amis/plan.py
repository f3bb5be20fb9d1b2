"""The AMIs a saved Terraform plan would launch, read from `terraform show -json PLANFILE`.

Every planned create or update of a resource that launches EC2, in every module and instance, yields one
`PlannedLaunch` per AMI it would launch. Auto Scaling groups, fleets, instances, EKS node groups and Batch
compute environments that name a launch template (or configuration) are followed to it inside the plan:
by its ID or name when the plan knows them, else through the configuration's references (resource
addresses, module variables and outputs), else, for a `dynamic` block the configuration leaves out, to
every candidate template (same module instance, or reaching it through its inputs). An AMI that only
apply will know is reported without an ID, with the reason; an AMI that the service picks at launch is
`aws-managed`. Each launch carries the region its provider configuration works in, as the plan shows it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from approved_amis.classify import AMI, AWS_MANAGED, FLOATING_VERSION, LAUNCH_CONFIGURATION
from approved_amis.plan_document import (
    ANY_KEY,
    Configuration,
    Locator,
    Location,
    ModulePath,
    PlanError,
    matches_module,
    load_plan,
    parse_module_address,
    parse_plan,
    state_resources,
)

__all__ = ["PlanError", "PlannedLaunch", "PlanLaunches", "load_plan", "parse_plan", "planned_launches"]

# Where each resource type names the AMIs it launches (attribute paths through nested blocks). A type
# whose schema has an AMI attribute is either here or listed, with the reason, as launching nothing.
AMI_ATTRIBUTES: dict[str, tuple[tuple[str, ...], ...]] = {
    "aws_instance": (("ami",),),
    "aws_spot_instance_request": (("ami",),),
    "aws_launch_template": (("image_id",),),
    "aws_launch_configuration": (("image_id",),),
    "aws_spot_fleet_request": (("launch_specification", "ami"),),
    "aws_batch_compute_environment": (
        ("compute_resources", "image_id"),
        ("compute_resources", "ec2_configuration", "image_id_override"),
    ),
    "aws_eks_node_group": (("ami_type",),),
    "aws_emr_cluster": (("custom_ami_id",),),
    "aws_cloud9_environment_ec2": (("image_id",),),
    "aws_codebuild_fleet": (("image_id",),),
    "aws_opsworks_instance": (("ami_id",),),
    "aws_rds_custom_db_engine_version": (("source_image_id",),),
    "aws_imagebuilder_image_recipe": (("parent_image",),),
    "aws_imagebuilder_container_recipe": (("instance_configuration", "image"),),
}

# Resource types that launch instances from an AMI, directly or through a template or configuration.
LAUNCH_TYPES = (*AMI_ATTRIBUTES, "aws_autoscaling_group", "aws_ec2_fleet")
TEMPLATE_TYPES = ("aws_launch_template", "aws_launch_configuration")
SSM_PREFIX = "resolve:ssm:"  # EC2 reads the AMI ID from this SSM parameter at each launch
CHECKED_ACTIONS = frozenset({"create", "update"})
FLOATING_VERSIONS = ("$Latest", "$Default")


# Where each type names launch templates: block path, then the keys of the template's ID and name.
TEMPLATE_SPECS: dict[str, tuple[tuple[tuple[str, ...], tuple[str, str]], ...]] = {
    "aws_instance": ((("launch_template",), ("id", "name")),),
    "aws_spot_instance_request": ((("launch_template",), ("id", "name")),),
    "aws_autoscaling_group": (
        (("launch_template",), ("id", "name")),
        (("mixed_instances_policy", "launch_template", "launch_template_specification"),
         ("launch_template_id", "launch_template_name")),
        (("mixed_instances_policy", "launch_template", "override", "launch_template_specification"),
         ("launch_template_id", "launch_template_name")),
    ),
    "aws_spot_fleet_request": ((("launch_template_config", "launch_template_specification"), ("id", "name")),),
    "aws_ec2_fleet": (
        (("launch_template_config", "launch_template_specification"), ("launch_template_id", "launch_template_name")),
    ),
    "aws_batch_compute_environment": (
        (("compute_resources", "launch_template"), ("launch_template_id", "launch_template_name")),
    ),
    "aws_eks_node_group": ((("launch_template",), ("id", "name")),),
}

# The attribute whose line a finding points at, per type, in order of preference.
_LOCATED_ATTRIBUTES = {
    "aws_instance": ("ami", "launch_template"),
    "aws_spot_instance_request": ("ami", "launch_template"),
    "aws_launch_template": ("image_id",),
    "aws_launch_configuration": ("image_id",),
    "aws_autoscaling_group": ("launch_template", "mixed_instances_policy", "launch_configuration"),
    "aws_spot_fleet_request": ("launch_specification", "launch_template_config"),
    "aws_ec2_fleet": ("launch_template_config",),
    "aws_batch_compute_environment": ("compute_resources",),
    "aws_eks_node_group": ("launch_template", "ami_type"),
    "aws_emr_cluster": ("custom_ami_id",),
    "aws_cloud9_environment_ec2": ("image_id",),
    "aws_codebuild_fleet": ("image_id",),
    "aws_opsworks_instance": ("ami_id",),
    "aws_rds_custom_db_engine_version": ("source_image_id",),
    "aws_imagebuilder_image_recipe": ("parent_image",),
    "aws_imagebuilder_container_recipe": ("instance_configuration",),
}


@dataclass(frozen=True)
class ExternalTemplate:
    """A launch template (by ID or name, and version) or launch configuration (by name) the plan does not
    manage: its AMI can only be read from the account."""

    kind: str  # "launch template" or "launch configuration"
    identifier: str | None
    name: str | None
    version: str | None = None

    def describe(self) -> str:
        return f"{self.kind} {self.identifier or self.name}"


@dataclass(frozen=True)
class PlannedLaunch:
    """One AMI a planned resource would launch. `ami_id` is None when the plan cannot tell (`unknown_reason`)."""

    address: str
    resource_type: str
    ami_id: str | None
    unknown_reason: str | None = None
    via: str | None = None
    location: Location | None = None
    region: str | None = None  # the provider's region when the plan shows it
    external: ExternalTemplate | None = None  # set when the AMI must be read from the account
    kind: str = AMI
    region_source: str | None = None  # what in the plan shows the region


@dataclass(frozen=True)
class PlanLaunches:
    launches: list[PlannedLaunch]
    launch_resources: int  # EC2 launch resources in the plan, whatever their action


################################################################################
# Finding the launches
################################################################################


def planned_launches(plan: Mapping[str, Any], config_dir: Path | None = None) -> PlanLaunches:
    """Every AMI the plan's creates and updates would launch; locations when config_dir holds the root."""
    return _Walker(plan, config_dir).run()


Launch = Callable[..., PlannedLaunch]


@dataclass(frozen=True)
class _Template:
    address: str
    resource_type: str
    image_id: str | None
    unknown_reason: str | None


class _Walker:
    def __init__(self, plan: Mapping[str, Any], config_dir: Path | None) -> None:
        self.changes: list[Mapping[str, Any]] = [
            rc for rc in plan.get("resource_changes") or [] if isinstance(rc, Mapping)
        ]
        self.data_sources = list(state_resources(plan.get("prior_state") or {}))
        self.config = Configuration(plan.get("configuration") or {})
        self.providers: Mapping[str, Any] = (plan.get("configuration") or {}).get("provider_config") or {}
        self.variables: Mapping[str, Any] = plan.get("variables") or {}
        self.locator = Locator(self.config, config_dir, _LOCATED_ATTRIBUTES) if config_dir is not None else None
        self.regions = _Regions(self, plan)

    def run(self) -> PlanLaunches:
        launch_changes = [rc for rc in self.changes if rc.get("mode") == "managed" and rc.get("type") in LAUNCH_TYPES]
        launches: list[PlannedLaunch] = []
        for rc in launch_changes:
            actions = set(rc.get("change", {}).get("actions") or [])
            if actions & CHECKED_ACTIONS:
                launches.extend(self._launches(rc))
        return PlanLaunches(launches=list(dict.fromkeys(launches)), launch_resources=len(launch_changes))

    # -- one resource change -------------------------------------------------------------------------

    def _launches(self, rc: Mapping[str, Any]) -> Iterator[PlannedLaunch]:
        resource_type = str(rc["type"])
        address = str(rc["address"])
        change = rc.get("change") or {}
        after = change.get("after") or {}
        unknown = change.get("after_unknown") or {}
        module = parse_module_address(rc.get("module_address"))
        expressions = self._expressions(rc, module)
        location = self.locator.locate(rc, module) if self.locator else None
        region, region_source = self.regions.of(rc, module)

        def launch(
            ami: str | None,
            reason: str | None = None,
            via: str | None = None,
            external: ExternalTemplate | None = None,
            kind: str = AMI,
        ) -> PlannedLaunch:
            if ami is not None and ami.startswith(SSM_PREFIX):
                ami, reason = None, _ssm_reason(ami)
            return PlannedLaunch(address, resource_type, ami, reason, via, location, region, external, kind, region_source)

        if resource_type in TEMPLATE_TYPES:
            template = self._template_of(rc)
            if resource_type == "aws_launch_configuration":
                yield launch(template.image_id, kind=LAUNCH_CONFIGURATION)
            if template.image_id is not None or template.unknown_reason is not None:
                yield launch(template.image_id, template.unknown_reason)
            return

        if resource_type in ("aws_instance", "aws_spot_instance_request"):
            ami = after.get("ami")
            if isinstance(ami, str) and ami:
                yield launch(ami)
            elif _blocks(after.get("launch_template")) or _is_unknown(unknown.get("launch_template")):
                yield from self._via_templates(rc, after, unknown, expressions, module, launch)
            else:
                yield launch(None, self._unknown_reason("ami", unknown.get("ami"), expressions.get("ami"), module))
            return

        handler = _SERVICE_LAUNCHES.get(resource_type)
        if handler is not None:
            yield from handler(self, rc, after, unknown, expressions, module, launch)
            return

        if resource_type == "aws_spot_fleet_request":
            for spec in _blocks(after.get("launch_specification")):
                ami = spec.get("ami")
                yield launch(ami) if ami else launch(None, "launch_specification ami is known only after apply")
        yield from self._via_templates(rc, after, unknown, expressions, module, launch)

        if resource_type == "aws_autoscaling_group":
            configuration = after.get("launch_configuration")
            if configuration or _is_unknown(unknown.get("launch_configuration")):
                name = configuration if isinstance(configuration, str) else None
                references = _references(expressions.get("launch_configuration"))
                targets = self._resolve("aws_launch_configuration", None, name, references, module)
                external = ExternalTemplate("launch configuration", None, name) if name else None
                described = f"launch configuration {name or '(known after apply)'}"
                exposures = list(self._from_targets(targets, launch, described, external))
                yield from exposures
                for exposure in exposures:
                    yield replace(exposure, kind=LAUNCH_CONFIGURATION, unknown_reason=None)
            elif not any(_nested(after, unknown, {}, path) for path, _ in TEMPLATE_SPECS[resource_type]):
                yield launch(None, "launch template or configuration is known only after apply")

    # -- launch templates ----------------------------------------------------------------------------

    def _via_templates(
        self,
        rc: Mapping[str, Any],
        after: Mapping[str, Any],
        unknown: Mapping[str, Any],
        expressions: Mapping[str, Any],
        module: ModulePath,
        launch: Launch,
        managed: str | None = None,
    ) -> Iterator[PlannedLaunch]:
        """A launch per launch template the resource's template specifications name; with `managed`, a
        template that sets no AMI means the service picks one (an AWS-managed launch)."""
        resource_type = str(rc["type"])
        for path, (id_key, name_key) in TEMPLATE_SPECS.get(resource_type, ()):
            block = ".".join(path)
            for spec, spec_unknown, expression in _nested(after, unknown, expressions, path):
                # The aws provider plans `id = "unknown"` for a template named by name only: not an ID.
                template_id = spec.get(id_key) if str(spec.get(id_key) or "").startswith("lt-") else None
                name = spec.get(name_key) or None
                references = _references(expression.get(id_key)) + _references(expression.get(name_key))
                targets = self._resolve("aws_launch_template", template_id, name, references, module)
                described = template_id or name or "(known after apply)"
                version = spec.get("version") or None
                external = ExternalTemplate("launch template", template_id, name, version) if template_id or name else None
                candidates = ""
                if not targets and not (template_id or name) and not references:
                    targets = self._candidates(module)
                    if len(targets) > 1:
                        candidates = f"one of {len(targets)} candidates: {block} is a dynamic block the plan does not link"
                    elif targets:
                        candidates = f"the only candidate: {block} is a dynamic block the plan does not link"
                if resource_type == "aws_autoscaling_group" and _floating(spec, spec_unknown, expression):
                    version_text = version or "$Default (version not set)"
                    followed = " or ".join(t.address for t in targets) or f"launch template {described}"
                    yield launch(None, _floating_reason(followed, version_text), kind=FLOATING_VERSION)
                yield from self._from_targets(targets, launch, f"launch template {described}", external, managed, candidates)

    def _candidates(self, module: ModulePath) -> list[_Template]:
        """Templates a link the plan does not show can lead to: those planned in the same module instance,
        and those reachable from the inputs of every module call above it."""
        found: dict[str, _Template] = {}
        for rc in self.changes:
            if (
                rc.get("type") == "aws_launch_template"
                and (rc.get("change") or {}).get("actions") != ["delete"]
                and matches_module(parse_module_address(rc.get("module_address")), module)
            ):
                found.setdefault(str(rc["address"]), self._template_of(rc))
        for depth in range(len(module), 0, -1):
            names = [name for name, _ in module[:depth]]
            call = self.config.call(names) or {}
            references = [r for e in (call.get("expressions") or {}).values() for r in _references(e)]
            for target in self._follow(references, module[: depth - 1], "aws_launch_template", depth=0):
                found.setdefault(target.address, target)
        return list(found.values())

    def _from_targets(
        self,
        targets: list[_Template],
        launch: Launch,
        described: str,
        external: ExternalTemplate | None = None,
        managed: str | None = None,
        candidates: str = "",
    ) -> Iterator[PlannedLaunch]:
        if not targets:
            yield launch(None, f"{described} is not in this plan: its AMI cannot be read from the plan", None, external)
            return
        for target in targets:
            via = f"{target.address}, {candidates}" if candidates else target.address
            reason = target.unknown_reason
            if target.image_id is None and reason is None:
                if managed:
                    yield launch(None, f"{target.address} sets no image_id: {managed}", via, kind=AWS_MANAGED)
                    continue
                reason = f"{target.address} sets no image_id"
            yield launch(target.image_id, reason, via)

    def _resolve(
        self, resource_type: str, identifier: str | None, name: str | None, references: list[str], module: ModulePath
    ) -> list[_Template]:
        """The templates (or launch configurations) a reference names: by known ID or name, else by references."""
        candidates = [rc for rc in self.changes if rc.get("type") == resource_type]
        if identifier or name:
            for rc in candidates:
                after = (rc.get("change") or {}).get("after") or {}
                if (identifier and after.get("id") == identifier) or (name and after.get("name") == name):
                    return [self._template_of(rc)]
            for data in self.data_sources:
                if data.get("type") == resource_type:
                    values = data.get("values") or {}
                    if (identifier and values.get("id") == identifier) or (name and values.get("name") == name):
                        return [_Template(str(data["address"]), resource_type, values.get("image_id"), None)]
        seen: dict[str, _Template] = {}
        for target in self._follow(references, module, resource_type, depth=0):
            seen.setdefault(target.address, target)
        return list(seen.values())

    def _follow(self, references: list[str], module: ModulePath, resource_type: str, depth: int) -> Iterator[_Template]:
        if depth > 16:
            return
        names = [name for name, _ in module]
        for reference in _most_specific(references):
            parts = reference.split(".")
            if parts[0] == "var" and len(parts) >= 2 and module:
                call = self.config.call(names) or {}
                expression = (call.get("expressions") or {}).get(parts[1])
                yield from self._follow(_references(expression), module[:-1], resource_type, depth + 1)
            elif parts[0] == "module" and len(parts) >= 3:
                call_name, key = _split_index(parts[1])
                child = self.config.module([*names, call_name]) or {}
                output = (child.get("outputs") or {}).get(parts[2]) or {}
                child_path = (*module, (call_name, key or ANY_KEY))
                yield from self._follow(_references(output.get("expression")), child_path, resource_type, depth + 1)
            elif parts[0] == "data" and len(parts) >= 3 and parts[1] == resource_type:
                yield from self._data_templates(module, parts[1], parts[2])
            elif len(parts) >= 2 and _split_index(parts[0])[0] == resource_type:
                resource_name, index = _split_index(parts[1])
                for rc in self.changes:
                    if (
                        rc.get("mode") == "managed"
                        and rc.get("type") == resource_type
                        and rc.get("name") == resource_name
                        and matches_module(parse_module_address(rc.get("module_address")), module)
                        and (not index or _index_text(rc.get("index")) == index)
                    ):
                        yield self._template_of(rc)

    def _data_templates(self, module: ModulePath, resource_type: str, name: str) -> Iterator[_Template]:
        for rc in self.changes:
            if rc.get("mode") == "data" and rc.get("type") == resource_type and rc.get("name") == name:
                if matches_module(parse_module_address(rc.get("module_address")), module):
                    yield self._template_of(rc)
        for data in self.data_sources:
            if data.get("type") == resource_type and data.get("name") == name:
                if matches_module(parse_module_address(data.get("module_address")), module):
                    values = data.get("values") or {}
                    yield _Template(str(data["address"]), resource_type, values.get("image_id"), None)

    def _template_of(self, rc: Mapping[str, Any]) -> _Template:
        change = rc.get("change") or {}
        after = change.get("after") or {}
        unknown = change.get("after_unknown") or {}
        image = after.get("image_id")
        address = str(rc["address"])
        if isinstance(image, str) and image:
            if image.startswith(SSM_PREFIX):
                return _Template(address, str(rc["type"]), None, _ssm_reason(image))
            return _Template(address, str(rc["type"]), image, None)
        module = parse_module_address(rc.get("module_address"))
        expression = self._expressions(rc, module).get("image_id")
        if _is_unknown(unknown.get("image_id")) or rc.get("mode") == "data":
            return _Template(address, str(rc["type"]), None, self._unknown_reason("image_id", True, expression, module))
        return _Template(address, str(rc["type"]), None, None)

    def _unknown_reason(self, attribute: str, unknown: Any, expression: Any, module: ModulePath) -> str:
        """`ami is known only after apply (from aws_ami_copy.golden.id)`, module variables followed to their source."""
        references = self._origins(_most_specific(_references(expression)), module, depth=0)
        source = f" (from {', '.join(dict.fromkeys(references))})" if references else ""
        if _is_unknown(unknown):
            return f"{attribute} is known only after apply{source}"
        return f"{attribute} is not set{source}"

    def _origins(self, references: list[str], module: ModulePath, depth: int) -> list[str]:
        origins: list[str] = []
        for reference in references:
            if reference.startswith("var.") and module and depth < 16:
                call = self.config.call([name for name, _ in module]) or {}
                expression = (call.get("expressions") or {}).get(reference.split(".")[1])
                parent = _most_specific(_references(expression))
                origins += self._origins(parent, module[:-1], depth + 1) if parent else [reference]
            else:
                prefix = "".join(f"module.{name}." for name, _ in module)
                origins.append(prefix + reference)
        return origins

    def provider_key(self, resource: Mapping[str, Any]) -> str:
        """The provider configuration key (`aws`, `aws.west`, `module.x:aws`) of a resource change or read."""
        module = parse_module_address(resource.get("module_address"))
        prefix = "data." if resource.get("mode") == "data" else ""
        address = f"{prefix}{resource.get('type')}.{resource.get('name')}"
        configured = self.config.resource([name for name, _ in module], address)
        return str((configured or {}).get("provider_config_key") or "")

    def _expressions(self, rc: Mapping[str, Any], module: ModulePath) -> Mapping[str, Any]:
        prefix = "data." if rc.get("mode") == "data" else ""
        resource = self.config.resource([name for name, _ in module], f"{prefix}{rc.get('type')}.{rc.get('name')}")
        return (resource or {}).get("expressions") or {}


################################################################################
# Regions
################################################################################

_ARN_REGION = re.compile(r"^arn:aws[a-z-]*:[^:]+:([a-z]{2}(?:-[a-z]+)+-\d+):")
_ZONE_REGION = re.compile(r"^([a-z]{2}(?:-[a-z]+)+-\d+)[a-z]$")


class _Regions:
    """The region each provider configuration (aliases included) works in, from the plan itself: the
    provider's `region` when it is a constant or a root variable, else the regions shown by what that
    configuration reads and plans (ARNs, availability zones, `aws_region`) when they all agree."""

    def __init__(self, walker: _Walker, plan: Mapping[str, Any]) -> None:
        self.walker = walker
        self.evidence: dict[str, dict[str, str]] = {}
        planned = state_resources({"values": plan.get("planned_values") or {}})
        for resource in [*walker.data_sources, *planned]:
            key = walker.provider_key(resource)
            for region in _regions_in(resource):
                self.evidence.setdefault(key, {}).setdefault(region, str(resource.get("address")))

    def of(self, rc: Mapping[str, Any], module: ModulePath) -> tuple[str | None, str | None]:
        after = (rc.get("change") or {}).get("after") or {}
        if isinstance(after.get("region"), str) and after["region"]:
            return after["region"], f"the region argument of {rc.get('address')}"
        key = self.walker.provider_key(rc)
        label = f'provider "{key}"' if key else "the provider"
        expression = ((self.walker.providers.get(key) or {}).get("expressions") or {}).get("region") or {}
        if isinstance(expression.get("constant_value"), str):
            return str(expression["constant_value"]), f"{label} region"
        references = _references(expression)
        if ":" not in key and len(references) == 1 and references[0].startswith("var."):
            value = (self.walker.variables.get(references[0][4:]) or {}).get("value")
            if isinstance(value, str):
                return value, f"{label} region = {references[0]}"
        seen = self.evidence.get(key) or {}
        if len(seen) == 1:
            ((region, address),) = seen.items()
            return region, f"{label} reads or plans {address} in {region}"
        return None, None


def _regions_in(resource: Mapping[str, Any]) -> set[str]:
    """Regions that a planned or read resource's own values show."""
    values = resource.get("values") or {}
    if not isinstance(values, Mapping):
        return set()
    found: set[str] = set()
    if resource.get("type") == "aws_region":
        found |= {str(values[k]) for k in ("name", "region", "id") if isinstance(values.get(k), str) and values[k]}
    zones: list[Any] = [values.get("availability_zone")]
    zones += values.get("availability_zones") if isinstance(values.get("availability_zones"), list) else []
    if resource.get("type") == "aws_availability_zones" and isinstance(values.get("names"), list):
        zones += values["names"]
    found |= {m.group(1) for z in zones if isinstance(z, str) and (m := _ZONE_REGION.match(z))}
    arn = values.get("arn")
    if isinstance(arn, str) and (match := _ARN_REGION.match(arn)):
        found.add(match.group(1))
    return found


################################################################################
# Services that launch EC2 from an AMI they are given, or pick one themselves
################################################################################

_MANAGED_NOTE = (
    "AWS picks the AMI at launch, so the plan holds no AMI ID to check; EC2 Allowed AMIs (enabled) gates it "
    "at launch whoever launches it"
)


def _aws_managed(launch: Launch, what: str) -> PlannedLaunch:
    return launch(None, f"AWS-managed AMI: {what}; {_MANAGED_NOTE}", kind=AWS_MANAGED)


def _attribute(
    walker: _Walker, launch: Launch, block: Mapping[str, Any], unknown: Mapping[str, Any],
    expressions: Mapping[str, Any], module: ModulePath, key: str, label: str,
) -> PlannedLaunch | None:
    """The launch an AMI attribute names: its value, or unknown when only apply will know it; None when unset."""
    value = block.get(key)
    if isinstance(value, str) and value:
        return launch(value)
    if _is_unknown(unknown.get(key)):
        return launch(None, walker._unknown_reason(label, True, expressions.get(key), module))
    return None


def _batch_launches(walker: _Walker, rc: Mapping[str, Any], after: Mapping[str, Any], unknown: Mapping[str, Any],
                    expressions: Mapping[str, Any], module: ModulePath, launch: Launch) -> Iterator[PlannedLaunch]:
    """A Batch EC2/SPOT compute environment launches every AMI it names (image_id, each image_id_override,
    its launch template's image_id); with none, the ECS-optimized AMI of its image type."""
    for resources, flags, exprs in _nested(after, unknown, expressions, ("compute_resources",)):
        if str(resources.get("type") or "").startswith("FARGATE"):
            continue
        named: list[PlannedLaunch] = []
        image = _attribute(walker, launch, resources, flags, exprs, module, "image_id", "compute_resources.image_id")
        named += [image] if image else []
        image_types: list[str] = []
        for conf, conf_flags, conf_exprs in _nested(resources, flags, exprs, ("ec2_configuration",)):
            override = _attribute(walker, launch, conf, conf_flags, conf_exprs, module, "image_id_override",
                                  "ec2_configuration.image_id_override")
            named += [override] if override else []
            if not override and isinstance(conf.get("image_type"), str):
                image_types.append(conf["image_type"])
        types = ", ".join(image_types) or "its default image type"
        managed = f"AWS Batch launches the Amazon ECS-optimized AMI of {types}"
        via_template = [
            found for found in walker._via_templates(rc, after, unknown, expressions, module, launch, managed)
            if found.kind != AWS_MANAGED or not named
        ]
        yield from named
        yield from via_template
        if not named and not via_template:
            yield _aws_managed(launch, managed)


def _eks_launches(walker: _Walker, rc: Mapping[str, Any], after: Mapping[str, Any], unknown: Mapping[str, Any],
                  expressions: Mapping[str, Any], module: ModulePath, launch: Launch) -> Iterator[PlannedLaunch]:
    """An EKS managed node group launches its launch template's image_id, else the EKS-optimized AMI of its ami_type."""
    ami_type = after.get("ami_type") if isinstance(after.get("ami_type"), str) else None
    release = after.get("release_version") if isinstance(after.get("release_version"), str) else None
    managed = (f"EKS launches the EKS-optimized AMI for ami_type {ami_type or '(chosen by EKS)'}"
               f"{f' release {release}' if release else ''}")
    if _blocks(after.get("launch_template")) or _is_unknown(unknown.get("launch_template")):
        yield from walker._via_templates(rc, after, unknown, expressions, module, launch, f"AWS-managed AMI: {managed}; {_MANAGED_NOTE}")
    else:
        yield _aws_managed(launch, managed)


def _emr_launches(walker: _Walker, rc: Mapping[str, Any], after: Mapping[str, Any], unknown: Mapping[str, Any],
                  expressions: Mapping[str, Any], module: ModulePath, launch: Launch) -> Iterator[PlannedLaunch]:
    found = _attribute(walker, launch, after, unknown, expressions, module, "custom_ami_id", "custom_ami_id")
    release = after.get("release_label") or "its release label"
    yield found or _aws_managed(launch, f"EMR launches the Amazon Linux AMI of {release}")


def _cloud9_launches(walker: _Walker, rc: Mapping[str, Any], after: Mapping[str, Any], unknown: Mapping[str, Any],
                     expressions: Mapping[str, Any], module: ModulePath, launch: Launch) -> Iterator[PlannedLaunch]:
    image = after.get("image_id")
    if isinstance(image, str) and image.startswith("ami-"):
        yield launch(image)
    elif _is_unknown(unknown.get("image_id")):
        yield launch(None, walker._unknown_reason("image_id", True, expressions.get("image_id"), module))
    else:
        yield _aws_managed(launch, f"Cloud9 launches the AWS-published image {image or '(default)'}")


def _opsworks_launches(walker: _Walker, rc: Mapping[str, Any], after: Mapping[str, Any], unknown: Mapping[str, Any],
                       expressions: Mapping[str, Any], module: ModulePath, launch: Launch) -> Iterator[PlannedLaunch]:
    found = _attribute(walker, launch, after, unknown, expressions, module, "ami_id", "ami_id")
    yield found or _aws_managed(launch, f"OpsWorks launches the AMI of os {after.get('os') or '(stack default)'}")


def _attribute_launches(key: str, label: str) -> Callable[..., Iterator[PlannedLaunch]]:
    """Types whose AMI attribute is optional and launches nothing of yours when unset."""

    def launches(walker: _Walker, rc: Mapping[str, Any], after: Mapping[str, Any], unknown: Mapping[str, Any],
                 expressions: Mapping[str, Any], module: ModulePath, launch: Launch) -> Iterator[PlannedLaunch]:
        block, flags, exprs = after, unknown, expressions
        *parents, attribute = key.split(".")
        if parents:
            found = _nested(after, unknown, expressions, tuple(parents))
            if not found:
                return
            block, flags, exprs = found[0]
        launched = _attribute(walker, launch, block, flags, exprs, module, attribute, label)
        if launched is not None:
            yield launched

    return launches


def _image_recipe_launches(walker: _Walker, rc: Mapping[str, Any], after: Mapping[str, Any], unknown: Mapping[str, Any],
                           expressions: Mapping[str, Any], module: ModulePath, launch: Launch) -> Iterator[PlannedLaunch]:
    """Image Builder launches its build instance from parent_image: an AMI ID, or an Image Builder image
    (ARN) or SSM parameter that it resolves when it builds."""
    parent = after.get("parent_image")
    if isinstance(parent, str) and parent and not parent.startswith("ami-"):
        if re.match(r"^arn:aws[a-z-]*:imagebuilder:[^:]*:aws:image/", parent):
            yield _aws_managed(launch, f"Image Builder builds from the AWS-published image {parent}")
        else:
            yield launch(None, f"parent_image {parent} is resolved by Image Builder when it builds, not known at plan time")
        return
    found = _attribute(walker, launch, after, unknown, expressions, module, "parent_image", "parent_image")
    if found is not None:
        yield found


def _container_recipe_launches(walker: _Walker, rc: Mapping[str, Any], after: Mapping[str, Any],
                               unknown: Mapping[str, Any], expressions: Mapping[str, Any], module: ModulePath,
                               launch: Launch) -> Iterator[PlannedLaunch]:
    found = list(_attribute_launches("instance_configuration.image", "instance_configuration.image")(
        walker, rc, after, unknown, expressions, module, launch))
    yield from found or [_aws_managed(launch, "Image Builder launches the build instance from an Amazon ECS-optimized AMI")]


_SERVICE_LAUNCHES: dict[str, Callable[..., Iterator[PlannedLaunch]]] = {
    "aws_batch_compute_environment": _batch_launches,
    "aws_eks_node_group": _eks_launches,
    "aws_emr_cluster": _emr_launches,
    "aws_cloud9_environment_ec2": _cloud9_launches,
    "aws_opsworks_instance": _opsworks_launches,
    "aws_codebuild_fleet": _attribute_launches("image_id", "image_id"),
    "aws_rds_custom_db_engine_version": _attribute_launches("source_image_id", "source_image_id"),
    "aws_imagebuilder_image_recipe": _image_recipe_launches,
    "aws_imagebuilder_container_recipe": _container_recipe_launches,
}


def _floating(spec: Mapping[str, Any], unknown: Mapping[str, Any], expression: Mapping[str, Any]) -> bool:
    """A group's template version that follows later versions: $Latest, $Default, or not set ($Default).

    The provider plans an unset version as known only after apply: it is unset when the configuration
    shows the block without it. A version only apply will know (`latest_version`) is a number.
    """
    if _is_unknown(unknown.get("version")):
        return bool(expression) and "version" not in expression
    version = spec.get("version")
    return not version or version in FLOATING_VERSIONS


def _floating_reason(followed: str, version: str) -> str:
    return (
        f"follows {followed} at {version}: Auto Scaling launches later versions, whatever their AMI, without "
        "checking the caller's ec2:RunInstances; pin a version number"
    )




################################################################################
# Helpers over plan values
################################################################################


def _blocks(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _nested(
    after: Mapping[str, Any], unknown: Any, expression: Mapping[str, Any], path: Sequence[str]
) -> list[tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]]]:
    """The planned blocks at `path`, each with its after_unknown flags and the configuration expressions
    that produce it. A block list that is unknown at plan time is left out: the plan shows an optional
    block that is not set, and a `dynamic` block over values only apply will know, in the same way.

    Several blocks of one kind (a set has no stable order) share their merged expressions: a resource
    launches from every template its blocks name, so the union of their references is what it uses.
    """
    flags = unknown if isinstance(unknown, Mapping) else {}
    if not path:
        return [(after, flags, expression)]
    blocks = after.get(path[0]) if isinstance(after.get(path[0]), list) else []
    block_flags = flags.get(path[0]) if isinstance(flags.get(path[0]), list) else []
    expressions = [e for e in expression.get(path[0]) or [] if isinstance(e, Mapping)] if isinstance(
        expression.get(path[0]), list) else []
    merged: Mapping[str, Any] = expressions[0] if len(expressions) == 1 else _merge_expressions(expressions)
    found: list[tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]]] = []
    for index, block in enumerate(blocks):
        if isinstance(block, Mapping):
            block_unknown = block_flags[index] if index < len(block_flags) else {}
            found += _nested(block, block_unknown, merged, path[1:])
    return found


def _is_unknown(value: Any) -> bool:
    return value is True


def _references(expression: Any) -> list[str]:
    if isinstance(expression, Mapping):
        return [str(r) for r in expression.get("references") or []]
    return []


def _merge_expressions(blocks: list[Any]) -> dict[str, Any]:
    """Blocks of a set merged key by key, so that each key's references are the union over the blocks."""
    merged: dict[str, Any] = {}
    for block in blocks:
        if not isinstance(block, Mapping):
            continue
        for key, value in block.items():
            if isinstance(value, list):
                merged[key] = [_merge_expressions([*(merged.get(key) or []), *value])] if value else merged.get(key, [])
            elif isinstance(value, Mapping):
                previous = merged.get(key) or {}
                merged[key] = {"references": _references(previous) + _references(value)}
    return merged


def _most_specific(references: list[str]) -> list[str]:
    """Drop references that only restate a longer one (`aws_x.a` beside `aws_x.a.id`)."""
    unique = list(dict.fromkeys(references))
    return [r for r in unique if not any(o != r and (o.startswith(r + ".") or o.startswith(r + "[")) for o in unique)]


def _split_index(part: str) -> tuple[str, str]:
    """`web[0]` -> ("web", "[0]"); `web` -> ("web", "")."""
    if "[" in part and part.endswith("]"):
        name, _, rest = part.partition("[")
        return name, "[" + rest
    return part, ""


def _index_text(index: Any) -> str:
    if index is None:
        return ""
    return f"[{json.dumps(index)}]"


def _ssm_reason(value: str) -> str:
    return f"the AMI is read from SSM parameter {value[len(SSM_PREFIX):]} at launch, not known at plan time"
