"""One verdict per AMI use, with the semantics of the module's IAM policy (modules/approval-rule/templates/approved-amis.json.tftpl).

The policy allows a launch when the image's tag `tag_key` equals one of `tag_values`, or `ec2:ImageID` is
one of `ami_ids`, or `ec2:Owner` is one of `ami_owners`. It reads the tag as IAM reads a condition:

- The key is matched without regard to letter case, the value exactly. IAM User Guide, "IAM JSON policy
  elements: Condition": "Context key names are not case-sensitive. For example, including the
  aws:SourceIP context key is equivalent to testing for AWS:SourceIp. Case-sensitivity of context key
  values depends on the condition operator that you use." The tag key is part of the context key name
  (`ec2:ResourceTag/Environment`); the values are compared with StringEquals, which is case-sensitive.
  An image may carry two keys that differ only in case (EC2 tag keys are case-sensitive), and AWS does not
  say which of them IAM reads: that image is `unknown`.
- Only the tags visible in the launching account count. EC2 User Guide, "Tag your Amazon EC2 resources":
  "When you tag public or shared resources, the tags you assign are available only to your AWS account;
  no other AWS account will have access to those tags." An AMI owned by another account (shared or
  public) is approved by the tags this account set on it, its ID or its owner, like any other, and
  DescribeImages, called in this account, returns exactly those tags.

What the policy cannot see, the audit cannot vouch for: a missing image or one that is not available is
`unknown`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Iterable, Mapping

from approved_amis.images import Image, describe_images, missing_reason
from approved_amis.rule import ApprovalRule, parameter_allowed


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
    owner = iam_owner(image)
    if owner in rule.ami_owners:
        return Classification(Verdict.APPROVED, f"approved by owner {owner}")
    result = _classify_by_tag(image, rule)
    if result.verdict is Verdict.UNAPPROVED and owner != image.owner_id and image.owner_id in rule.ami_owners:
        return Classification(
            Verdict.UNAPPROVED,
            f"{result.reason}; owner {image.owner_id} is approved, but IAM's ec2:Owner for this AMI is "
            f"{owner!r}, not its account ID: approve owner {owner}",
        )
    if result.verdict is Verdict.UNAPPROVED and image.owner_id != account_id:
        return Classification(Verdict.UNAPPROVED, f"{result.reason}; {_owned_elsewhere(image, rule)}")
    return result


# ImageOwnerAlias values that IAM's ec2:Owner carries in place of the owner's account ID. The EC2 User Guide
# approves "AMIs owned by Amazon or certain trusted partners" with `"ec2:Owner": "amazon"`
# (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ExamplePolicies_EC2.html); the Service
# Authorization Reference gives ec2:Owner's values as amazon | aws-marketplace | an account ID.
IAM_OWNER_ALIASES = frozenset({"amazon", "aws-marketplace"})


def iam_owner(image: Image) -> str:
    """The value of IAM's ec2:Owner for the image: its owner alias for Amazon's and Marketplace images,
    else the owner's account ID."""
    return image.owner_alias if image.owner_alias in IAM_OWNER_ALIASES else image.owner_id


def _owned_elsewhere(image: Image, rule: ApprovalRule) -> str:
    alias = f" ({image.owner_alias})" if image.owner_alias else ""
    kind = "public AMI" if image.public else "AMI"
    return (
        f"{kind} owned by account {image.owner_id or 'unknown'}{alias}: only tags set in this account count. "
        f"To approve it, tag it {rule.tag_key}={rule.tag_values[0] if rule.tag_values else '<value>'} in this "
        "account (an AMI publisher can), or approve its owner or ID: approved_ami_owners / approved_ami_ids "
        "(--owner / --ami-id)"
    )


def _classify_by_tag(image: Image, rule: ApprovalRule) -> Classification:
    keys = [key for key in image.tags if key.lower() == rule.tag_key.lower()]
    if not keys:
        return Classification(Verdict.UNAPPROVED, f"tag {rule.tag_key} missing")
    if len(keys) > 1:
        return Classification(
            Verdict.UNKNOWN,
            f"tag keys {' and '.join(sorted(keys))} differ only in letter case: IAM matches keys without "
            "regard to case and AWS does not document which one it reads; keep one",
        )
    (key,) = keys
    value = image.tags[key]
    allowed = " or ".join(rule.tag_values)
    if value in rule.tag_values:
        note = "" if key == rule.tag_key else f" (key matched without regard to case, as IAM matches {rule.tag_key})"
        return Classification(Verdict.APPROVED, f"approved by tag {key}={value}{note}")
    if any(value.lower() == v.lower() for v in rule.tag_values):
        return Classification(
            Verdict.UNAPPROVED,
            f"tag {key}={value} differs in letter case from {allowed} (values are case-sensitive)",
        )
    return Classification(Verdict.UNAPPROVED, f"tag {key}={value} is not {allowed}")


# Uses that no AMI approval clears on its own: Auto Scaling launches from them without checking the
# caller's ec2:RunInstances (aws-facts: autoscaling:LaunchTemplateVersionSpecified, autoscaling:ImageId).
# Kinds of use: the AMI a resource launches; a group following a template version that can change under
# it; a group on (or the creation of) a launch configuration; an AMI that AWS picks at launch.
AMI = "ami"
FLOATING_VERSION = "floating-version"
LAUNCH_CONFIGURATION = "launch-configuration"
AWS_MANAGED = "aws-managed"
# A use whose AMI AWS's Allowed AMIs judges otherwise than the rule (audit mode or enabled).
ALLOWED_AMIS = "allowed-amis"
# A launch template whose image is resolve:ssm:<parameter> outside the publishers' ami_parameter_paths:
# whoever may put that parameter changes the AMI later launches use, after any check of the template.
AMI_PARAMETER = "ami-parameter"


def classify_parameter(parameter: str, rule: ApprovalRule) -> Classification:
    """The verdict on a template image given as resolve:ssm:`parameter`."""
    if parameter_allowed(parameter, rule.ami_parameter_paths):
        return Classification(Verdict.APPROVED, f"image resolve:ssm:{parameter}, a publisher's parameter (ami_parameter_paths)")
    return Classification(
        Verdict.UNAPPROVED,
        f"image resolve:ssm:{parameter}: a parameter outside ami_parameter_paths (--ami-parameter-path), which "
        "anyone allowed to put it can point at another AMI after the template is checked",
    )


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


def classify_use(
    kind: str, ami_id: str | None, rule: ApprovalRule, verdicts: Mapping[str, Classification], unknown: str
) -> Classification:
    """The verdict on one use: an exposure by classify_exposure, a use whose AMI is not known (or picked by
    AWS at launch) `unknown` for that reason, any other by its AMI's verdict in `verdicts`."""
    if kind in (FLOATING_VERSION, LAUNCH_CONFIGURATION):
        return classify_exposure(kind, ami_id, rule)
    if kind == AWS_MANAGED or ami_id is None:
        return Classification(Verdict.UNKNOWN, unknown)
    return verdicts[ami_id]


class Classifier:
    """The verdicts of one region, for every command: each AMI described once (DescribeImages in batches)
    and its verdict remembered. `missing_note` ends the reason of an AMI that DescribeImages does not find."""

    def __init__(self, ec2: Any, rule: ApprovalRule, account_id: str, missing_note: str = "") -> None:
        self._ec2 = ec2
        self._rule = rule
        self._account_id = account_id
        self._missing_note = missing_note
        self.verdicts: dict[str, Classification] = {}
        self.images: dict[str, Image | None] = {}

    def __call__(self, ami_ids: Iterable[str]) -> dict[str, Classification]:
        """The verdicts so far, after describing those of `ami_ids` not seen yet."""
        new = [ami_id for ami_id in dict.fromkeys(ami_ids) if ami_id not in self.verdicts]
        if new:
            for ami_id, image in describe_images(self._ec2, new).items():
                self._remember(ami_id, image)
        return self.verdicts

    def described(self, images: Iterable[Image]) -> dict[str, Classification]:
        """The verdicts so far, after classifying `images`, already described."""
        for image in images:
            self._remember(image.image_id, image)
        return self.verdicts

    def _remember(self, ami_id: str, image: Image | None) -> None:
        self.images[ami_id] = image
        verdict = classify(ami_id, image, self._rule, self._account_id)
        if image is None and self._missing_note:
            verdict = Classification(verdict.verdict, f"{verdict.reason}{self._missing_note}")
        self.verdicts[ami_id] = verdict
