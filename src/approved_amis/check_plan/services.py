"""Launch handlers: for one planned change, the AMIs its resource type launches. Each reads the attribute
paths and template references of its row (`resources.py`) through the context it is given."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Callable, Iterator, Mapping

from approved_amis.check_plan.launches import MANAGED_NOTE, ExternalTemplate, Handler, LaunchContext, PlannedLaunch
from approved_amis.check_plan.values import blocks, is_unknown, nested, references
from approved_amis.classify import AWS_MANAGED, LAUNCH_CONFIGURATION


def _label(path: tuple[str, ...]) -> str:
    """How a reason names an AMI attribute: the attribute and the block that holds it."""
    return ".".join(path[-2:])


################################################################################
# Launch templates and configurations, instances, fleets, Auto Scaling groups
################################################################################


def template_launches(ctx: LaunchContext) -> Iterator[PlannedLaunch]:
    """A launch template (or configuration) launches its image_id; a launch configuration is also an
    exposure of its own kind."""
    template = ctx.index.template_of(ctx.rc)
    if ctx.row.resource_type == "aws_launch_configuration":
        yield ctx.launch(template.image_id, kind=LAUNCH_CONFIGURATION)
    if template.image_id is not None or template.unknown_reason is not None:
        yield ctx.launch(template.image_id, template.unknown_reason, parameter=template.parameter)


def instance_launches(ctx: LaunchContext) -> Iterator[PlannedLaunch]:
    """An instance launches its AMI attribute, else its launch template's image."""
    ((key,),) = ctx.row.ami_attributes
    ami = ctx.after.get(key)
    if isinstance(ami, str) and ami:
        yield ctx.launch(ami)
    elif any(blocks(ctx.after.get(r.path[0])) or is_unknown(ctx.unknown.get(r.path[0])) for r in ctx.row.templates):
        yield from ctx.via_templates()
    else:
        yield ctx.launch(None, ctx.unknown_reason(key, ctx.unknown.get(key), ctx.expressions.get(key)))


def fleet_launches(ctx: LaunchContext) -> Iterator[PlannedLaunch]:
    """A fleet launches each AMI its launch specifications name, and each of its launch templates' images."""
    for path in ctx.row.ami_attributes:
        *parents, key = path
        for spec in _blocks_at(ctx, tuple(parents)):
            ami = spec.get(key)
            yield ctx.launch(ami) if ami else ctx.launch(None, f"{' '.join(path)} is known only after apply")
    yield from ctx.via_templates()


def _blocks_at(ctx: LaunchContext, path: tuple[str, ...]) -> list[Mapping[str, Any]]:
    found = [ctx.after]
    for name in path:
        found = [block for parent in found for block in blocks(parent.get(name))]
    return found


def group_launches(ctx: LaunchContext) -> Iterator[PlannedLaunch]:
    """An Auto Scaling group launches its launch templates' images, or its launch configuration's (which
    is also an exposure of its own kind)."""
    yield from ctx.via_templates()
    configuration = ctx.after.get("launch_configuration")
    if configuration or is_unknown(ctx.unknown.get("launch_configuration")):
        name = configuration if isinstance(configuration, str) else None
        found = references(ctx.expressions.get("launch_configuration"))
        targets = ctx.resolve("aws_launch_configuration", None, name, found)
        external = ExternalTemplate("launch configuration", None, name) if name else None
        described = f"launch configuration {name or '(known after apply)'}"
        exposures = list(ctx.launches_from(targets, described, external))
        yield from exposures
        for exposure in exposures:
            yield replace(exposure, kind=LAUNCH_CONFIGURATION, unknown_reason=None)
    elif not any(nested(ctx.after, ctx.unknown, {}, r.path) for r in ctx.row.templates):
        yield ctx.launch(None, "launch template or configuration is known only after apply")


################################################################################
# Services that launch EC2 from an AMI they are given, or pick one themselves
################################################################################


def batch_launches(ctx: LaunchContext) -> Iterator[PlannedLaunch]:
    """A Batch EC2/SPOT compute environment launches every AMI it names (image_id, each image_id_override,
    its launch template's image_id); with none, the ECS-optimized AMI of its image type."""
    image_path, override_path = ctx.row.ami_attributes
    for resources, flags, exprs in ctx.nested(image_path[:-1]):
        if str(resources.get("type") or "").startswith("FARGATE"):
            continue
        named: list[PlannedLaunch] = []
        image = ctx.attribute(resources, flags, exprs, image_path[-1], _label(image_path))
        named += [image] if image else []
        image_types: list[str] = []
        for conf, conf_flags, conf_exprs in nested(resources, flags, exprs, override_path[1:-1]):
            override = ctx.attribute(conf, conf_flags, conf_exprs, override_path[-1], _label(override_path))
            named += [override] if override else []
            if not override and isinstance(conf.get("image_type"), str):
                image_types.append(conf["image_type"])
        types = ", ".join(image_types) or "its default image type"
        managed = f"AWS Batch launches the Amazon ECS-optimized AMI of {types}"
        via_template = [found for found in ctx.via_templates(managed) if found.kind != AWS_MANAGED or not named]
        yield from named
        yield from via_template
        if not named and not via_template:
            yield ctx.aws_managed(managed)


def eks_launches(ctx: LaunchContext) -> Iterator[PlannedLaunch]:
    """An EKS managed node group launches its launch template's image_id, else the EKS-optimized AMI of its ami_type."""
    ((key,),) = ctx.row.ami_attributes
    ami_type = ctx.after.get(key) if isinstance(ctx.after.get(key), str) else None
    release = ctx.after.get("release_version") if isinstance(ctx.after.get("release_version"), str) else None
    managed = (f"EKS launches the EKS-optimized AMI for ami_type {ami_type or '(chosen by EKS)'}"
               f"{f' release {release}' if release else ''}")
    (template,) = ctx.row.templates
    if blocks(ctx.after.get(template.path[0])) or is_unknown(ctx.unknown.get(template.path[0])):
        yield from ctx.via_templates(f"AWS-managed AMI: {managed}; {MANAGED_NOTE}")
    else:
        yield ctx.aws_managed(managed)


def named_or_aws_managed(managed: Callable[[LaunchContext], str]) -> Handler:
    """Types that launch the AMI their attribute names, else one the service picks (`managed` says which)."""

    def launches(ctx: LaunchContext) -> Iterator[PlannedLaunch]:
        found = list(optional_ami(ctx))
        yield from found or [ctx.aws_managed(managed(ctx))]

    return launches


def optional_ami(ctx: LaunchContext) -> Iterator[PlannedLaunch]:
    """Types whose AMI attribute is optional and launches nothing of yours when unset."""
    for path in ctx.row.ami_attributes:
        *parents, key = path
        found = ctx.nested(tuple(parents))
        if not found:
            continue
        block, flags, exprs = found[0]
        launched = ctx.attribute(block, flags, exprs, key, _label(path))
        if launched is not None:
            yield launched


def cloud9_launches(ctx: LaunchContext) -> Iterator[PlannedLaunch]:
    """Cloud9 launches an AMI ID, or the AWS-published image an alias names."""
    ((key,),) = ctx.row.ami_attributes
    image = ctx.after.get(key)
    if isinstance(image, str) and image.startswith("ami-"):
        yield ctx.launch(image)
    elif is_unknown(ctx.unknown.get(key)):
        yield ctx.launch(None, ctx.unknown_reason(key, True, ctx.expressions.get(key)))
    else:
        yield ctx.aws_managed(f"Cloud9 launches the AWS-published image {image or '(default)'}")


def image_recipe_launches(ctx: LaunchContext) -> Iterator[PlannedLaunch]:
    """Image Builder launches its build instance from parent_image: an AMI ID, or an Image Builder image
    (ARN) or SSM parameter that it resolves when it builds."""
    ((key,),) = ctx.row.ami_attributes
    parent = ctx.after.get(key)
    if isinstance(parent, str) and parent and not parent.startswith("ami-"):
        if re.match(r"^arn:aws[a-z-]*:imagebuilder:[^:]*:aws:image/", parent):
            yield ctx.aws_managed(f"Image Builder builds from the AWS-published image {parent}")
        else:
            yield ctx.launch(None, f"{key} {parent} is resolved by Image Builder when it builds, not known at plan time")
        return
    yield from optional_ami(ctx)
