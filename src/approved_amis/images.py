"""AMIs by ID with DescribeImages, in batches, so that one gone AMI never hides the others."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from botocore.exceptions import ClientError

from approved_amis.aws import error_code, is_ami_id

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
        )

    @property
    def snapshot_size_gib(self) -> int:
        return sum(snapshot.size_gib for snapshot in self.snapshots)


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
