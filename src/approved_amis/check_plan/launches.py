"""What a launch handler gets and gives: the row of its resource type, one context per planned resource
change, and the `PlannedLaunch`es it yields, one per AMI the change would launch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

from approved_amis.check_plan.document import Location, ModulePath
from approved_amis.check_plan.index import PlanIndex, Template
from approved_amis.check_plan.values import (
    SSM_PREFIX,
    Blocks,
    index_text,
    is_unknown,
    nested,
    references,
    ssm_parameter,
    ssm_reason,
)
from approved_amis.check_plan.versions import Resolution, VersionForm, resolve, version_form
from approved_amis.classify import AMI, AWS_MANAGED, FLOATING_VERSION

MANAGED_NOTE = (
    "AWS picks the AMI at launch, so the plan holds no AMI ID to check; EC2 Allowed AMIs (enabled) gates it "
    "at launch whoever launches it"
)


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
    sensitive: bool = False  # Terraform marks the AMI ID sensitive: findings show it as (sensitive)
    parameter: str | None = None  # the SSM parameter EC2 reads the AMI from at launch (resolve:ssm:)


@dataclass(frozen=True)
class PlanLaunches:
    launches: list[PlannedLaunch]
    launch_resources: int  # EC2 launch resources in the plan, whatever their action


################################################################################
# A row of the resource table
################################################################################


@dataclass(frozen=True)
class TemplateReference:
    """Where a resource type names a launch template: the block path, and the keys of the template's ID and
    name inside it."""

    path: tuple[str, ...]
    id_key: str = "id"
    name_key: str = "name"


Handler = Callable[["LaunchContext"], Iterator[PlannedLaunch]]


@dataclass(frozen=True)
class LaunchType:
    """Everything check-plan knows of one resource type that launches EC2 (or names an AMI to launch)."""

    resource_type: str
    launched_by: str  # the service (and API) that launches instances from it
    handler: Handler  # yields the launches of one planned change of this type
    ami_attributes: tuple[tuple[str, ...], ...] = ()  # attribute paths that name an AMI
    templates: tuple[TemplateReference, ...] = ()  # blocks that name a launch template
    located: tuple[str, ...] = ()  # attributes a finding points at, in order of preference
    # The resource's own argument that overrides its provider configuration's region (aws provider 6).
    region_attribute: str = "region"
    # Auto Scaling launches later template versions ($Latest, $Default) without checking the caller.
    follows_later_versions: bool = False
    # The template version its API takes when none is given; None: the API requires one.
    absent_version: str | None = "$Default"
    # The attribute whose value `request` or `instant` makes a fleet launch once, not follow versions.
    fleet_type_attribute: str | None = None


################################################################################
# The context of one planned resource change
################################################################################


@dataclass(frozen=True)
class LaunchContext:
    """One planned create or update of a launch resource, and what a handler needs to find its launches."""

    index: PlanIndex
    row: LaunchType
    rc: Mapping[str, Any]
    module: ModulePath
    location: Location | None
    region: str | None
    region_source: str | None

    @property
    def address(self) -> str:
        return str(self.rc["address"])

    @property
    def after(self) -> Mapping[str, Any]:
        return (self.rc.get("change") or {}).get("after") or {}

    @property
    def unknown(self) -> Mapping[str, Any]:
        return (self.rc.get("change") or {}).get("after_unknown") or {}

    @property
    def expressions(self) -> Mapping[str, Any]:
        return self.index.expressions(self.rc, self.module)

    def nested(self, path: tuple[str, ...]) -> Blocks:
        """The planned blocks at `path`, with their after_unknown flags and configuration expressions."""
        return nested(self.after, self.unknown, self.expressions, path)

    def launch(
        self,
        ami: str | None,
        reason: str | None = None,
        via: str | None = None,
        external: ExternalTemplate | None = None,
        kind: str = AMI,
        parameter: str | None = None,
    ) -> PlannedLaunch:
        if ami is not None and ami.startswith(SSM_PREFIX):
            ami, reason, parameter = None, ssm_reason(ami), ssm_parameter(ami)
        return PlannedLaunch(
            self.address, self.row.resource_type, ami, reason, via, self.location, self.region, external, kind,
            self.region_source, ami is not None and ami in self.index.sensitive, parameter,
        )

    def aws_managed(self, what: str) -> PlannedLaunch:
        """A launch whose AMI the service picks: `what` says which."""
        return self.launch(None, f"AWS-managed AMI: {what}; {MANAGED_NOTE}", kind=AWS_MANAGED)

    def unknown_reason(self, label: str, unknown: Any, expression: Any) -> str:
        return self.index.unknown_reason(label, unknown, expression, self.module)

    def attribute(
        self, block: Mapping[str, Any], flags: Mapping[str, Any], expressions: Mapping[str, Any], key: str, label: str
    ) -> PlannedLaunch | None:
        """The launch an AMI attribute names: its value, or unknown when only apply will know it; None when unset."""
        value = block.get(key)
        if isinstance(value, str) and value:
            return self.launch(value)
        if is_unknown(flags.get(key)):
            return self.launch(None, self.unknown_reason(label, True, expressions.get(key)))
        return None

    # -- launch templates and configurations ---------------------------------------------------------

    @property
    def key(self) -> str:
        """The instance key of this resource (`["a"]`, `[0]`), empty without count or for_each."""
        return index_text(self.rc.get("index"))

    def resolve(self, resource_type: str, identifier: str | None, name: str | None, found: list[str]) -> list[Template]:
        key = self.key or None
        if key and self.location is not None:
            # The plan drops `[each.key]` from a reference; where the source is read, it must show it.
            named = {".".join(r.split(".")[:2]) for r in found if r.split(".")[0] not in ("each", "count", "var", "local")}
            key = key if named & self.location.keyed else None
        return self.index.resolve(resource_type, identifier, name, found, self.module, key)

    def via_templates(self, managed: str | None = None) -> Iterator[PlannedLaunch]:
        """A launch per launch template the resource's template references name; with `managed`, a
        template that sets no AMI means the service picks one (an AWS-managed launch)."""
        for reference in self.row.templates:
            block = ".".join(reference.path)
            for spec, spec_unknown, expression in self.nested(reference.path):
                # The aws provider plans `id = "unknown"` for a template named by name only: not an ID.
                id_value = spec.get(reference.id_key)
                template_id = id_value if str(id_value or "").startswith("lt-") else None
                name = spec.get(reference.name_key) or None
                found = references(expression.get(reference.id_key)) + references(expression.get(reference.name_key))
                targets = self.resolve("aws_launch_template", template_id, name, found)
                described = template_id or name or "(known after apply)"
                version = spec.get("version") or None
                origins = self.index.version_origins(expression.get("version"), self.module) if expression else []
                form = version_form(spec, spec_unknown, expression, origins)
                external = ExternalTemplate("launch template", template_id, name, version) if template_id or name else None
                candidates = ""
                # Locals and iteration values are not in the plan's configuration: a link through them alone
                # is followed as a dynamic block is.
                unlinked = all(r.split(".")[0] in ("local", "each", "count") for r in found)
                if not targets and not (template_id or name) and unlinked:
                    keyed = self.location.keyed if self.location else frozenset()
                    targets = self.index.candidates(self.module, self.key or None, keyed)
                    if len(targets) == 1 and self.key and targets[0].index == self.key:
                        candidates = f"the template of the same key {self.key}: {block} is {_unlinked(found)}"
                    elif len(targets) > 1:
                        candidates = f"one of {len(targets)} candidates: {block} is {_unlinked(found)}"
                    elif targets:
                        candidates = f"the only candidate: {block} is {_unlinked(found)}"
                if self._follows_versions() and form.form in ("$Latest", "$Default", "absent"):
                    version_text = version or (
                        "no version, which the API requires" if self.row.absent_version is None
                        else f"{self.row.absent_version} (version not set)"
                    )
                    followed = " or ".join(t.address for t in targets) or f"launch template {described}"
                    yield self.launch(None, _floating_reason(followed, version_text, self.row.launched_by),
                                      kind=FLOATING_VERSION)
                yield from self.launches_from(targets, f"launch template {described}", external, managed, candidates, form)

    def _follows_versions(self) -> bool:
        """Whether the service launches again later from the template (a group, a fleet that maintains
        capacity), taking whatever version $Latest or $Default then names."""
        if not self.row.follows_later_versions:
            return False
        attribute = self.row.fleet_type_attribute
        return attribute is None or self.after.get(attribute) not in ("request", "instant")

    def launches_from(
        self,
        targets: list[Template],
        described: str,
        external: ExternalTemplate | None = None,
        managed: str | None = None,
        candidates: str = "",
        form: VersionForm | None = None,
    ) -> Iterator[PlannedLaunch]:
        """A launch per template or configuration in `targets` (per version it can take, for a template);
        none in the plan: one read from the account (`external`), or unknown."""
        if not targets:
            yield self.launch(None, f"{described} is not in this plan: its AMI cannot be read from the plan", None, external)
            return
        for target in targets:
            taken = resolve(target, form, self.row.absent_version) if form is not None else []
            if not taken or target.versions is None:
                taken = [Resolution(target.image_id, target.unknown_reason, "")]
            for resolution in taken:
                where = f"{target.address} at {resolution.version}" if resolution.version else target.address
                via = f"{where}, {candidates}" if candidates else where
                if resolution.read_version is not None and target.versions is not None:
                    read = ExternalTemplate("launch template", target.versions.template_id, None, resolution.read_version)
                    reason = (f"{target.address} version {resolution.read_version}: the plan shows the image of "
                              "its latest version only, and the account could not be read")
                    yield self.launch(None, reason, via, read)
                    continue
                reason = resolution.reason
                if resolution.image_id is None and reason is None:
                    if managed:
                        yield self.launch(None, f"{target.address} sets no image_id: {managed}", via, kind=AWS_MANAGED)
                        continue
                    reason = f"{target.address} sets no image_id"
                yield self.launch(resolution.image_id, reason, via, parameter=target.parameter if reason else None)


def _unlinked(found: list[str]) -> str:
    if found:
        return f"set from {', '.join(found)}, which the plan does not show"
    return "a dynamic block the plan does not link"


def _floating_reason(followed: str, version: str, launched_by: str) -> str:
    return (
        f"follows {followed} at {version}: {launched_by} launches later versions, whatever their AMI, without "
        "checking the caller's ec2:RunInstances; pin a version number"
    )
