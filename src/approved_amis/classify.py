"""One verdict per AMI use, with the semantics of the module's IAM policy (policies/approved-amis.json.tftpl).

The policy allows a launch when the image's tag `tag_key` equals one of `tag_values` (StringEquals:
case-sensitive), or `ec2:ImageID` is one of `ami_ids`, or `ec2:Owner` is one of `owners`.
What the policy cannot see, the audit cannot vouch for: a missing image, an image that is not
available, and an image shared from another account, whose tags are invisible here, are `unknown`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from approved_amis.images import Image, missing_reason
from approved_amis.rule import ApprovalRule


class Verdict(str, Enum):
    APPROVED = "approved"
    UNAPPROVED = "unapproved"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Classification:
    verdict: Verdict
    reason: str


def classify(ami_id: str, image: Image | None, rule: ApprovalRule, account_id: str) -> Classification:
    """The verdict on launching `ami_id` (described as `image`, None when not found) from `account_id`."""
    if image is None:
        return Classification(Verdict.UNKNOWN, missing_reason(ami_id))
    if image.state != "available":
        return Classification(Verdict.UNKNOWN, f"AMI state is {image.state or 'unset'}, not available")
    if ami_id in rule.ami_ids:
        return Classification(Verdict.APPROVED, "approved by ID")
    owner = next((o for o in (image.owner_id, image.owner_alias) if o and o in rule.owners), None)
    if owner is not None:
        return Classification(Verdict.APPROVED, f"approved by owner {owner}")
    if image.owner_id != account_id:
        return Classification(
            Verdict.UNKNOWN,
            f"shared from account {image.owner_id or 'unknown'}"
            f"{f' ({image.owner_alias})' if image.owner_alias else ''}: its tags are not visible in this "
            "account, so the tag cannot approve it; approve it by ID or owner",
        )
    return _classify_by_tag(image, rule)


def _classify_by_tag(image: Image, rule: ApprovalRule) -> Classification:
    allowed = " or ".join(rule.tag_values)
    if rule.tag_key in image.tags:
        value = image.tags[rule.tag_key]
        if value in rule.tag_values:
            return Classification(Verdict.APPROVED, f"approved by tag {rule.tag_key}={value}")
        if any(value.lower() == v.lower() for v in rule.tag_values):
            return Classification(
                Verdict.UNAPPROVED,
                f"tag {rule.tag_key}={value} differs in letter case from {allowed} (values are case-sensitive)",
            )
        return Classification(Verdict.UNAPPROVED, f"tag {rule.tag_key}={value} is not {allowed}")
    near = next((key for key in image.tags if key.lower() == rule.tag_key.lower()), None)
    if near is not None:
        return Classification(
            Verdict.UNAPPROVED,
            f"tag key {near} differs in letter case from {rule.tag_key} (keys are matched exactly)",
        )
    return Classification(Verdict.UNAPPROVED, f"tag {rule.tag_key} missing")


# Uses that no AMI approval clears on its own: Auto Scaling launches from them without checking the
# caller's ec2:RunInstances (aws-facts: autoscaling:LaunchTemplateVersionSpecified, autoscaling:ImageId).
# Kinds of use: the AMI a resource launches; a group following a template version that can change under
# it; a group on (or the creation of) a launch configuration; an AMI that AWS picks at launch.
AMI = "ami"
FLOATING_VERSION = "floating-version"
LAUNCH_CONFIGURATION = "launch-configuration"
AWS_MANAGED = "aws-managed"


def classify_exposure(kind: str, ami_id: str | None, rule: ApprovalRule) -> Classification:
    """The verdict on a group that follows $Latest/$Default (never approved: a later version launches
    whatever AMI it names) or on a launch configuration (approved only when its AMI is approved by ID,
    the one thing autoscaling:ImageId can name)."""
    if kind == FLOATING_VERSION:
        return Classification(
            Verdict.UNAPPROVED,
            "follows $Latest/$Default: Auto Scaling launches later versions, whatever their AMI, without "
            "checking the caller's ec2:RunInstances; pin a version number",
        )
    if kind != LAUNCH_CONFIGURATION:
        raise ValueError(f"not an exposure kind: {kind}")
    basis = "launch configuration: launched without checking the caller's ec2:RunInstances"
    if ami_id is None:
        return Classification(Verdict.UNKNOWN, f"{basis}; its AMI is not known")
    if ami_id in rule.ami_ids:
        return Classification(Verdict.APPROVED, f"{basis}; its AMI is approved by ID (autoscaling:ImageId)")
    return Classification(Verdict.UNAPPROVED, f"{basis}; only an AMI approved by ID (autoscaling:ImageId) clears it")
