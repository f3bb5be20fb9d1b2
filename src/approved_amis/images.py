"""AMIs by ID with DescribeImages, in batches, so that one gone AMI never hides the others; and what an
owner may know of its own AMIs before retiring them: sharing, last launch, AWS's usage reports, Recycle Bin."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from botocore.exceptions import ClientError

from approved_amis.aws import AWS_ERRORS, describe_error, error_code, is_ami_id

# Image IDs per DescribeImages call: the ImageIds filter takes this many comfortably in one request.
DESCRIBE_IMAGES_BATCH_SIZE = 100

# Errors that name the offending IDs and fail the whole call: drop those IDs and ask again for the rest.
_MISSING_ID_CODES = frozenset({"InvalidAMIID.NotFound", "InvalidAMIID.Malformed", "InvalidAMIID.Unavailable"})


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: str
    size_gib: int


@dataclass(frozen=True)
class Image:
    image_id: str
    owner_id: str
    state: str
    name: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    creation_date: str = ""
    owner_alias: str = ""
    public: bool = False
    snapshots: tuple[Snapshot, ...] = ()
    deregistration_protection: str = ""
    # AWS's own verdict where Allowed AMIs is in audit mode or enabled (DescribeImages' ImageAllowed); None
    # where AWS does not say.
    image_allowed: bool | None = None

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> Image:
        """An Image from one element of DescribeImages' `Images`."""
        snapshots = tuple(
            Snapshot(str(mapping["Ebs"]["SnapshotId"]), int(mapping["Ebs"].get("VolumeSize") or 0))
            for mapping in item.get("BlockDeviceMappings") or ()
            if mapping.get("Ebs", {}).get("SnapshotId")
        )
        return cls(
            image_id=str(item["ImageId"]),
            owner_id=str(item.get("OwnerId", "")),
            state=str(item.get("State", "")),
            name=str(item.get("Name", "")),
            tags={str(tag["Key"]): str(tag.get("Value", "")) for tag in item.get("Tags") or ()},
            creation_date=str(item.get("CreationDate", "")),
            owner_alias=str(item.get("ImageOwnerAlias", "")),
            public=bool(item.get("Public", False)),
            snapshots=snapshots,
            deregistration_protection=str(item.get("DeregistrationProtection", "")),
            image_allowed=item.get("ImageAllowed") if isinstance(item.get("ImageAllowed"), bool) else None,
        )

    @property
    def snapshot_size_gib(self) -> int:
        return sum(snapshot.size_gib for snapshot in self.snapshots)

    @property
    def protected(self) -> bool:
        """Whether DescribeImages reports deregistration protection in any state but `disabled` (enabled,
        or disabled but still in its cooldown): DeregisterImage would be refused."""
        value = self.deregistration_protection.strip().lower()
        return bool(value) and value != "disabled"


def missing_reason(ami_id: str) -> str:
    """Why DescribeImages has nothing for an ID."""
    if not is_ami_id(ami_id):
        return f"{ami_id!r} is not a valid AMI ID"
    return "AMI not found: deregistered, never existed, or not shared with this account"


def describe_images(ec2: Any, ids: Iterable[str]) -> dict[str, Image | None]:
    """Each distinct ID mapped to its Image, or None when AWS has no image for it (see missing_reason).

    Deprecated and disabled images are included: they still back instances, templates and groups.
    """
    wanted = list(dict.fromkeys(ids))
    found: dict[str, Image | None] = dict.fromkeys(wanted)
    for start in range(0, len(wanted), DESCRIBE_IMAGES_BATCH_SIZE):
        for item in _describe_batch(ec2, wanted[start : start + DESCRIBE_IMAGES_BATCH_SIZE]):
            image = Image.from_api(item)
            if image.image_id in found:
                found[image.image_id] = image
    return found


def _describe_batch(ec2: Any, batch: list[str]) -> list[Mapping[str, Any]]:
    remaining = [ami_id for ami_id in batch if ami_id]
    while remaining:
        try:
            response = ec2.describe_images(ImageIds=remaining, IncludeDeprecated=True, IncludeDisabled=True)
            return list(response.get("Images", []))
        except ClientError as error:
            if error_code(error) not in _MISSING_ID_CODES:
                raise
            named = _named_ids(str(error.response.get("Error", {}).get("Message", "")), remaining)
            if named:
                remaining = [ami_id for ami_id in remaining if ami_id not in named]
            elif len(remaining) == 1:
                return []
            else:
                # The message names no ID of ours: halve the batch until the culprits stand alone.
                middle = len(remaining) // 2
                return _describe_batch(ec2, remaining[:middle]) + _describe_batch(ec2, remaining[middle:])
    return []


def _named_ids(message: str, candidates: list[str]) -> set[str]:
    return {
        ami_id for ami_id in candidates if re.search(rf"(?<![\w-]){re.escape(ami_id)}(?![\w-])", message)
    }


################################################################################
# Allowed AMIs: AWS's own gate on which AMIs an account may discover and launch
################################################################################

# GetAllowedImagesSettings' State: `disabled`, `audit-mode` (AWS only reports ImageAllowed) or `enabled`
# ("only AMIs matching these criteria are discoverable and can be used by your account to launch instances",
# EC2 API Reference, EnableAllowedImagesSettings; the AMIs the account owns are never restricted).
ALLOWED_AMIS_REPORTED = frozenset({"audit-mode", "enabled"})
ALLOWED_AMIS_ENABLED = "enabled"


def allowed_images_state(ec2: Any) -> str:
    """The region's Allowed AMIs state (GetAllowedImagesSettings). Raises one of aws.AWS_ERRORS."""
    return str(ec2.get_allowed_images_settings().get("State", ""))


################################################################################
# Before retiring an AMI this account owns
################################################################################


@dataclass(frozen=True)
class Sharing:
    """Who else may launch an AMI, from its `launchPermission` attribute (and DescribeImages' `Public`)."""

    targets: tuple[str, ...] = ()
    error: str | None = None

    @property
    def state(self) -> str:
        if "public" in self.targets:
            return "public"
        if self.targets:
            return "shared"
        return "unknown" if self.error else "private"


def launch_permission_target(permission: Mapping[str, Any]) -> str:
    """`public`, `account 111122223333`, `organization arn:...` or `OU arn:...` for one LaunchPermission."""
    if permission.get("Group") == "all":
        return "public"
    if permission.get("UserId"):
        return f"account {permission['UserId']}"
    if permission.get("OrganizationArn"):
        return f"organization {permission['OrganizationArn']}"
    if permission.get("OrganizationalUnitArn"):
        return f"OU {permission['OrganizationalUnitArn']}"
    return " ".join(f"{key}={value}" for key, value in sorted(permission.items()))


def sharing(ec2: Any, image: Image) -> Sharing:
    """The AMI's launch permissions (DescribeImageAttribute launchPermission); on error, Sharing.error."""
    public = ("public",) if image.public else ()
    try:
        response = ec2.describe_image_attribute(ImageId=image.image_id, Attribute="launchPermission")
    except AWS_ERRORS as error:
        return Sharing(public, describe_error(error, "launch permissions"))
    targets = [launch_permission_target(p) for p in response.get("LaunchPermissions") or ()]
    return Sharing(tuple(dict.fromkeys([*public, *targets])))


def last_launched(ec2: Any, image_id: str) -> str:
    """When an instance was last launched from the AMI, in any account (DescribeImageAttribute
    lastLaunchedTime, reported with up to 24 hours' delay); "" when never. Raises one of aws.AWS_ERRORS."""
    response = ec2.describe_image_attribute(ImageId=image_id, Attribute="lastLaunchedTime")
    return str((response.get("LastLaunchedTime") or {}).get("Value") or "")


# What an AMI usage report counts in the accounts an AMI is shared with.
USAGE_REPORT_RESOURCE_TYPES = ("ec2:Instance", "ec2:LaunchTemplate")
USAGE_REPORT_BATCH_SIZE = 200  # ImageId.N and ReportId.N take at most 200 each


@dataclass(frozen=True)
class UsageEntry:
    account_id: str
    resource_type: str
    usage_count: int


@dataclass(frozen=True)
class UsageReport:
    """The newest usage report of an AMI: `available` with its entries, `pending`, or `error`."""

    image_id: str
    report_id: str
    state: str
    creation_time: str
    entries: tuple[UsageEntry, ...] = ()
    state_reason: str = ""


def usage_reports(ec2: Any, image_ids: list[str]) -> dict[str, UsageReport]:
    """The newest usage report of each AMI that has one (DescribeImageUsageReports, then
    DescribeImageUsageReportEntries for the available ones). Raises one of aws.AWS_ERRORS."""
    newest: dict[str, dict[str, Any]] = {}
    for start in range(0, len(image_ids), USAGE_REPORT_BATCH_SIZE):
        batch = image_ids[start : start + USAGE_REPORT_BATCH_SIZE]
        for page in ec2.get_paginator("describe_image_usage_reports").paginate(ImageIds=batch):
            for report in page.get("ImageUsageReports", []):
                image_id = str(report.get("ImageId", ""))
                if image_id in batch and str(report.get("CreationTime", "")) >= str(
                    newest.get(image_id, {}).get("CreationTime", "")
                ):
                    newest[image_id] = report
    available = [str(r["ReportId"]) for r in newest.values() if r.get("State") == "available"]
    entries: dict[str, list[UsageEntry]] = {}
    for start in range(0, len(available), USAGE_REPORT_BATCH_SIZE):
        report_ids = available[start : start + USAGE_REPORT_BATCH_SIZE]
        for page in ec2.get_paginator("describe_image_usage_report_entries").paginate(ReportIds=report_ids):
            for entry in page.get("ImageUsageReportEntries", []):
                entries.setdefault(str(entry.get("ReportId", "")), []).append(
                    UsageEntry(
                        str(entry.get("AccountId", "")),
                        str(entry.get("ResourceType", "")),
                        int(entry.get("UsageCount") or 0),
                    )
                )
    return {
        image_id: UsageReport(
            image_id=image_id,
            report_id=str(report.get("ReportId", "")),
            state=str(report.get("State", "")),
            creation_time=_timestamp(report.get("CreationTime")),
            entries=tuple(entries.get(str(report.get("ReportId", "")), ())),
            state_reason=str(report.get("StateReason", "")),
        )
        for image_id, report in newest.items()
    }



def _timestamp(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


def request_usage_report(ec2: Any, image_id: str) -> str:
    """Ask AWS for a usage report of the AMI in the accounts it is shared with (CreateImageUsageReport);
    its ID. The report is ready later and kept 30 days. Raises one of aws.AWS_ERRORS."""
    response = ec2.create_image_usage_report(
        ImageId=image_id, ResourceTypes=[{"ResourceType": kind} for kind in USAGE_REPORT_RESOURCE_TYPES]
    )
    return str(response.get("ReportId", ""))


# DescribeImageReferences takes at most 10 image IDs per call (its ImageIds member, botocore's EC2 model).
IMAGE_REFERENCES_BATCH_SIZE = 10


@dataclass(frozen=True)
class Reference:
    """A resource of this account that references an AMI (DescribeImageReferences): an instance, a launch
    template, an SSM parameter, an Image Builder recipe."""

    resource_type: str
    arn: str

    def __str__(self) -> str:
        return f"{self.resource_type} {self.arn}"


def image_references(ec2: Any, image_ids: list[str]) -> dict[str, list[Reference]]:
    """What references each AMI in this account and region, for every resource type AWS checks
    (DescribeImageReferences with IncludeAllResourceTypes); an AMI nothing references maps to [].
    Raises one of aws.AWS_ERRORS (not served, denied)."""
    found: dict[str, list[Reference]] = {image_id: [] for image_id in image_ids}
    paginator = ec2.get_paginator("describe_image_references")
    for start in range(0, len(image_ids), IMAGE_REFERENCES_BATCH_SIZE):
        batch = image_ids[start : start + IMAGE_REFERENCES_BATCH_SIZE]
        for page in paginator.paginate(ImageIds=batch, IncludeAllResourceTypes=True):
            for reference in page.get("ImageReferences", []):
                image_id = str(reference.get("ImageId", ""))
                if image_id in found:
                    found[image_id].append(
                        Reference(str(reference.get("ResourceType", "")), str(reference.get("Arn", "")))
                    )
    return found


@dataclass(frozen=True)
class RetentionRule:
    """A Recycle Bin retention rule for AMIs (rbin GetRule). A tag-level rule retains the AMIs carrying
    one of its `resource_tags`; a region-level rule (no resource tags) retains every AMI of the region
    but those carrying one of its `exclude_tags`. A tag given without a value matches on the key alone."""

    identifier: str
    retention: str
    status: str
    resource_tags: tuple[tuple[str, str], ...] = ()
    exclude_tags: tuple[tuple[str, str], ...] = ()

    def covers(self, image: Image) -> bool:
        if self.status and self.status != "available":
            return False
        if self.resource_tags:
            return any(_has_tag(image, key, value) for key, value in self.resource_tags)
        return not any(_has_tag(image, key, value) for key, value in self.exclude_tags)


def _has_tag(image: Image, key: str, value: str) -> bool:
    return key in image.tags and (not value or image.tags[key] == value)


def _tag_pairs(tags: Iterable[Mapping[str, Any]] | None) -> tuple[tuple[str, str], ...]:
    return tuple((str(t.get("ResourceTagKey", "")), str(t.get("ResourceTagValue") or "")) for t in tags or ())


def image_retention_rules(rbin: Any) -> list[RetentionRule]:
    """The region's Recycle Bin retention rules for AMIs (rbin ListRules with ResourceType EC2_IMAGE, then
    GetRule for each, since ListRules does not return their tags). Raises one of aws.AWS_ERRORS."""
    rules = []
    for page in rbin.get_paginator("list_rules").paginate(ResourceType="EC2_IMAGE"):
        for summary in page.get("Rules", []):
            rule = rbin.get_rule(Identifier=summary["Identifier"])
            period = rule.get("RetentionPeriod") or {}
            unit = str(period.get("RetentionPeriodUnit", "DAYS")).lower()
            rules.append(
                RetentionRule(
                    identifier=str(rule.get("Identifier", "")),
                    retention=f"{period.get('RetentionPeriodValue', '?')} {unit}",
                    status=str(rule.get("Status", "")),
                    resource_tags=_tag_pairs(rule.get("ResourceTags")),
                    exclude_tags=_tag_pairs(rule.get("ExcludeResourceTags")),
                )
            )
    return rules
