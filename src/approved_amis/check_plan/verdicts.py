"""A verdict per planned launch: AMIs described in batches, once per region, classified as `audit` does."""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from approved_amis import aws
from approved_amis.check_plan.account import launch_region
from approved_amis.check_plan.launches import PlannedLaunch
from approved_amis.check_plan.values import SENSITIVE

AMI_PARAMETER = "ami-parameter"  # a launch whose image is read from an SSM parameter outside the approved paths
from approved_amis.classify import AMI, FLOATING_VERSION, Classification, Classifier, Verdict, classify_use
from approved_amis.fanout import map_regions
from approved_amis.images import missing_reason
from approved_amis.output import Finding, reason_via
from approved_amis.rule import ApprovalRule


@dataclass(frozen=True)
class PlanFinding(Finding):
    """A finding located by its plan address, and by the .tf file and line when the configuration shows them."""

    file: str | None = None
    line: int | None = None
    sensitive: bool = False  # the AMI ID is sensitive in the plan: never printed, its verdict still given
    # Accepted by a waiver: ("inSource", why) for an approved-amis:ignore comment, ("external", why) for --baseline.
    waiver: tuple[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        row = super().to_dict()
        if self.waiver is not None:
            row["reason"] = f"{row['reason']} [waived: {self.waiver[1]}]"
            row["waiver"] = {"kind": self.waiver[0], "justification": self.waiver[1]}
        if self.sensitive and self.ami_id:
            row["ami_id"] = SENSITIVE
            row["reason"] = row["reason"].replace(self.ami_id, SENSITIVE)
            row["sensitive"] = True
        if self.file is not None:
            row["file"] = self.file
            row["line"] = self.line
        return row


def classify_launches(
    launches: list[PlannedLaunch], rule: ApprovalRule, session: Any, default_region: str | None
) -> list[PlanFinding]:
    """One finding per planned launch; AMIs described in batches, once per region, classified as `audit` does.

    Each AMI is looked up in the region its provider configuration works in, as the plan shows it;
    `default_region` (--region, AWS_REGION) only where the plan does not show it, and the reason says so.
    """
    by_region: dict[str, set[str]] = defaultdict(set)
    for launch in launches:
        if launch.ami_id is not None and launch.kind == AMI:
            by_region[launch_region(launch, default_region)].add(launch.ami_id)
    classifiers: dict[str, Classifier] = {}
    if by_region:
        if "" in by_region:
            raise aws.UsageError("the plan does not show the provider's region: give --region or set AWS_REGION")
        account = aws.account_id(session, next(iter(by_region)))
        for region in by_region:
            note = f" (searched {region}; AMI IDs are regional: an ID from another region is not found here)"
            classifiers[region] = Classifier(aws.client(session, "ec2", region), rule, account, note)

        def describe(region: str) -> None:
            try:
                classifiers[region](sorted(by_region[region]))
            except (ClientError, BotoCoreError) as error:
                raise aws.AwsError(aws.describe_error(error, f"region {region}: describing AMIs")) from None

        map_regions(describe, by_region)
        _found_elsewhere(classifiers)
    findings = []
    for launch in launches:
        findings.append(_finding(launch, _verdict(launch, rule, classifiers, default_region), default_region))
        parameter = _parameter_finding(launch, rule)
        if parameter is not None:
            findings.append(parameter)
    return findings


def _parameter_finding(launch: PlannedLaunch, rule: ApprovalRule) -> PlanFinding | None:
    """A launch whose image is read from an SSM parameter outside the rule's approved parameter paths:
    whoever can put that parameter chooses the AMI of every later launch. Amazon's public parameters
    (/aws/) cannot be changed in the account; without approved paths the rule makes no such finding."""
    name = launch.parameter
    if name is None or not rule.ami_parameter_paths or name.startswith("/aws/"):
        return None
    if any(fnmatch.fnmatchcase(name, path) for path in rule.ami_parameter_paths):
        return None
    classification = Classification(
        Verdict.UNAPPROVED,
        f"resolve:ssm:{name} is not under an approved parameter path ({', '.join(rule.ami_parameter_paths)}): "
        "whoever can put that parameter chooses the AMI of every later launch; use a parameter under an "
        "approved path, which only the AMI publishers may change",
    )
    return _finding(replace(launch, kind=AMI_PARAMETER), classification, None)


def _found_elsewhere(classifiers: dict[str, Classifier]) -> None:
    """An AMI not found in its launch's region is looked up in the plan's other regions; where it exists,
    the reason says so."""
    if len(classifiers) < 2:
        return
    for region, classifier in classifiers.items():
        missing = [ami for ami, verdict in classifier.verdicts.items() if verdict.reason.startswith(missing_reason(ami))]
        for ami in missing:
            found = []
            for other, elsewhere in classifiers.items():
                if other == region:
                    continue
                try:
                    verdict = elsewhere([ami])[ami]
                except (ClientError, BotoCoreError):
                    continue
                if not verdict.reason.startswith(missing_reason(ami)):
                    found.append(other)
            if found:
                classifier.verdicts[ami] = Classification(
                    classifier.verdicts[ami].verdict,
                    f"AMI not found in {region}; it exists in {', '.join(found)}, a region this plan also uses: AMI "
                    f"IDs are regional, so copy it to {region} (CopyImage) and launch the copy's ID",
                )


def _verdict(
    launch: PlannedLaunch, rule: ApprovalRule, classifiers: dict[str, Classifier], default_region: str | None
) -> Classification:
    classifier = classifiers.get(launch_region(launch, default_region))
    verdicts = classifier.verdicts if classifier is not None else {}
    verdict = classify_use(launch.kind, launch.ami_id, rule, verdicts, launch.unknown_reason or "AMI not known from the plan")
    if launch.kind == FLOATING_VERSION and launch.unknown_reason:
        return Classification(verdict.verdict, launch.unknown_reason)
    return verdict


def _finding(launch: PlannedLaunch, verdict: Classification, default_region: str | None) -> PlanFinding:
    reason = reason_via(verdict.reason, launch.via)
    if launch.region is None and default_region and launch.kind == AMI and launch.ami_id is not None:
        reason += f" [region {default_region} from --region/AWS_REGION: the plan does not show its provider's region]"
    return PlanFinding(
        resource_type=launch.resource_type,
        ami_id=launch.ami_id,
        verdict=verdict.verdict,
        reason=reason,
        address=launch.address,
        file=launch.location.path if launch.location else None,
        line=launch.location.line if launch.location else None,
        kind=launch.kind,
        sensitive=launch.sensitive,
        waiver=_inline_waiver(launch, verdict),
    )


def _inline_waiver(launch: PlannedLaunch, verdict: Classification) -> tuple[str, str] | None:
    if verdict.verdict is Verdict.APPROVED or launch.location is None:
        return None
    for waiver in launch.location.waivers:
        if waiver.covers(launch.kind):
            return "inSource", f"{waiver.reason} (approved-amis:ignore at {waiver.path}:{waiver.line})"
    return None
