"""Which version of a launch template a launch takes, and so which image it launches.

A launch template specification names a version number, `$Latest`, `$Default`, or nothing. What nothing
means depends on the API (the botocore model's documentation of each `LaunchTemplateSpecification`):

- EC2 RunInstances (instances, spot requests): "Default: The default version of the launch template."
- EC2 Auto Scaling: "The default value is $Default."
- Amazon EKS node groups: "If no version is specified, then the template's default version is used."
- AWS Batch: `$Default` when not given.
- EC2 Fleet and Spot Fleet (`FleetLaunchTemplateSpecification`): "You must specify a value, otherwise the
  request fails." A fleet without a version is reported as a floating version, never as its template's image.

The plan shows the image of a template's latest version only (a planned template's `image_id`, or the
latest version a `data "aws_launch_template"` reads). A launch that takes another version is followed to
the account by the template's ID and that version; where neither can say, the launch is unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from approved_amis.check_plan.index import Template
from approved_amis.check_plan.values import is_unknown

LATEST = "$Latest"
DEFAULT = "$Default"


@dataclass(frozen=True)
class VersionForm:
    """How a launch names its template's version: `number` (with `number`), `$Latest`, `$Default`,
    `absent`, `latest_version` or `default_version` (a number only apply will know, taken from a template's
    attribute of that name), or `unknown` (a value only apply will know, traced to neither)."""

    form: str
    number: int | None = None

    def describe(self) -> str:
        if self.form == "number":
            return f"version {self.number}"
        if self.form == "absent":
            return "no version"
        if self.form == "unknown":
            return "a version known only after apply"
        if self.form in ("latest_version", "default_version"):
            return f"version {self.form} (a number, known after apply)"
        return f"version {self.form}"


@dataclass(frozen=True)
class Resolution:
    """The image a launch takes through one template: an image, or why it is unknown, or the template
    version to read from the account (`read_version`)."""

    image_id: str | None
    reason: str | None
    version: str  # how the via text names the version taken
    read_version: str | None = None


def version_form(spec: Mapping[str, Any], unknown: Mapping[str, Any], expression: Mapping[str, Any],
                 origins: list[str]) -> VersionForm:
    """The version form of one launch template specification: its planned value, else what its expression
    comes from (`origins`: references followed through module variables)."""
    value = spec.get("version")
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
        text = str(value)
        if text in (LATEST, DEFAULT):
            return VersionForm(text)
        if re.fullmatch(r"\d+", text):
            return VersionForm("number", int(text))
        return VersionForm("unknown")
    if is_unknown(unknown.get("version")):
        if expression and "version" not in expression:
            return VersionForm("absent")  # the provider plans an unset version as known after apply
        if origins and all(origin.endswith(".latest_version") for origin in origins):
            return VersionForm("latest_version")
        if origins and all(origin.endswith(".default_version") for origin in origins):
            return VersionForm("default_version")
        return VersionForm("unknown")
    return VersionForm("absent")


def resolve(template: Template, form: VersionForm, absent: str | None) -> list[Resolution]:
    """What a launch in `form` takes from `template`; `absent` is the version the API uses when none is
    given (None: the API requires one). Several resolutions when the launch can take several versions."""
    versions = template.versions
    if form.form == "absent":
        if absent is None:
            absent = DEFAULT  # the request fails; reported as a floating version beside this
        form = VersionForm(absent)
        label = f"{absent} (no version given)"
    else:
        label = form.describe().removeprefix("version ")
    form = {"latest_version": VersionForm(LATEST), "default_version": VersionForm(DEFAULT)}.get(form.form, form)
    if versions is None or (template.image_id is None and template.unknown_reason is not None and versions.state != "updated"):
        return [Resolution(template.image_id, template.unknown_reason, label)]
    latest = Resolution(template.image_id, template.unknown_reason, label)
    if versions.state == "created":
        if form.form == "number" and form.number != 1:
            return [Resolution(None, f"{template.address} is created with version 1 only: version {form.number} does not exist", label)]
        return [Resolution(template.image_id, template.unknown_reason, "")]  # its one version
    if form.form == LATEST:
        return [latest]
    if form.form == "unknown":
        default = resolve(template, VersionForm(DEFAULT), absent)
        note = "its version is known only after apply: it launches the latest or the default version"
        taken = {(r.image_id, r.reason, r.read_version): r for r in (latest, *default)}
        return [Resolution(image, reason, f"{label}; {note}", read) for image, reason, read in taken]
    if form.form == DEFAULT:
        if versions.state == "updated":
            if versions.becomes_default:
                return [latest]
            if versions.default is not None and versions.default == versions.previous_latest:
                return [_previous(template, label, versions.default)]
            return [_in_account(template, versions.default, label, "default")]
        if versions.default is not None and versions.default == versions.latest:
            return [latest]
        return [_in_account(template, versions.default, label, "default")]
    # a version number
    if versions.state == "updated":
        if form.number == versions.previous_latest:
            return [_previous(template, label, form.number)]
        return [_in_account(template, form.number, label, f"version {form.number}")]
    if form.number == versions.latest:
        return [latest]
    return [_in_account(template, form.number, label, f"version {form.number}")]


def _previous(template: Template, label: str, number: int | None) -> Resolution:
    versions = template.versions
    assert versions is not None
    if versions.previous_image:
        return Resolution(versions.previous_image, None, f"{label} = version {number}, before this plan's new version")
    return _in_account(template, number, label, f"version {number}")


def _in_account(template: Template, number: int | None, label: str, which: str) -> Resolution:
    """A version whose image the plan does not show: read from the account when the template's ID and the
    version number are known, else unknown."""
    versions = template.versions
    assert versions is not None
    if number is not None and versions.template_id:
        return Resolution(None, None, label, str(number))
    return Resolution(
        None,
        f"{template.address}: the plan shows the image of its latest version only, and this launch takes its "
        f"{which} version{'' if number is None else f' ({number})'}",
        label,
    )
