"""Prevent: the IAM policy the module renders, read from the plan of each example."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from conftest import EXAMPLES
from harness.tfcli import REPO_ROOT

POLICY = "module.iam_policy.aws_iam_policy.this[0]"
BOUNDARY = "module.iam_policy.aws_iam_policy.boundary[0]"
IMAGES = "arn:aws:ec2:*::image/*"
LAUNCH_RESOURCES = sorted(
    f"arn:aws:ec2:*:*:{kind}/*"
    for kind in ("instance", "volume", "network-interface", "subnet", "security-group", "key-pair", "launch-template")
)


# Every Deny statement, each on by default.
DENY_SIDS = {
    "DenyLaunchWithUnapprovedImage",
    "DenyLaunchWithoutImageCheck",
    "DenyUnpinnedLaunchTemplateVersion",
    "DenyLaunchConfigurationWithUnapprovedImage",
    "DenyImagePublishingByNonPublishers",
    "DenyChangesToPublisherAndExemptRoles",
    "DenyApprovalTagChangeOnImage",
    "DenyDeleteAllTagsOnImage",
}


def statements(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    assert len(by_sid) == len(document["Statement"]), "statement Sids must be unique"
    return by_sid


@pytest.fixture(scope="module")
def basic(plan_summary) -> dict[str, dict[str, Any]]:
    return statements(plan_summary(EXAMPLES / "basic").policy(POLICY))


@pytest.fixture(scope="module")
def complete(plan_summary) -> dict[str, dict[str, Any]]:
    return statements(plan_summary(EXAMPLES / "complete").policy(POLICY))


def test_run_instances_allowed_only_on_images_with_the_approval_tag(basic) -> None:
    allow = basic["AllowRunInstancesWithApprovedImageTag"]
    assert allow["Effect"] == "Allow"
    assert allow["Action"] == "ec2:RunInstances"
    assert allow["Resource"] == IMAGES
    assert allow["Condition"] == {"StringEquals": {"ec2:ResourceTag/Environment": ["Prod"]}}


def test_other_launch_resources_are_allowed_in_their_own_statement(basic) -> None:
    other = basic["AllowRunInstancesOtherResources"]
    assert other["Effect"] == "Allow"
    assert other["Action"] == "ec2:RunInstances"
    assert sorted(other["Resource"]) == LAUNCH_RESOURCES
    assert "Condition" not in other
    assert IMAGES not in other["Resource"]


def test_tags_may_be_created_only_by_run_instances(basic) -> None:
    tag = basic["AllowTagOnLaunch"]
    assert tag["Effect"] == "Allow"
    assert tag["Action"] == "ec2:CreateTags"
    assert sorted(tag["Resource"]) == sorted(f"arn:aws:ec2:*:*:{k}/*" for k in ("instance", "volume", "network-interface"))
    assert tag["Condition"] == {"StringEquals": {"ec2:CreateAction": "RunInstances"}}


def test_launch_from_an_unapproved_image_is_explicitly_denied(basic) -> None:
    deny = basic["DenyLaunchWithUnapprovedImage"]
    assert deny["Effect"] == "Deny"
    assert deny["Action"][0] == "ec2:RunInstances"  # the others: test_sar_coverage.py
    assert deny["Resource"] == IMAGES
    assert deny["Condition"] == {"StringNotEquals": {"ec2:ResourceTag/Environment": ["Prod"]}}


def test_only_publishers_may_change_the_approval_tag_on_images(basic) -> None:
    guard = basic["DenyApprovalTagChangeOnImage"]
    assert guard["Effect"] == "Deny"
    assert sorted(guard["Action"]) == ["ec2:CreateTags", "ec2:DeleteTags"]
    assert guard["Resource"] == IMAGES
    assert guard["Condition"] == {
        "ForAnyValue:StringEqualsIgnoreCase": {"aws:TagKeys": ["Environment"]},
        "ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/ami-publisher"]},
    }
    delete_all = basic["DenyDeleteAllTagsOnImage"]
    assert delete_all["Action"] == "ec2:DeleteTags"
    assert delete_all["Condition"] == {
        "Null": {"aws:TagKeys": "true"},
        "ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/ami-publisher"]},
    }


def test_no_id_or_owner_approval_unless_configured(basic) -> None:
    assert "AllowRunInstancesWithApprovedImageId" not in basic
    assert "AllowRunInstancesWithApprovedImageOwner" not in basic


def test_images_approved_by_id_and_owner_when_configured(complete) -> None:
    assert complete["AllowRunInstancesWithApprovedImageId"]["Condition"] == {
        "StringEquals": {"ec2:ImageID": ["ami-0123456789abcdef0"]}
    }
    assert complete["AllowRunInstancesWithApprovedImageOwner"]["Condition"] == {
        "StringEquals": {"ec2:Owner": ["137112412989"]}
    }
    assert complete["DenyLaunchWithUnapprovedImage"]["Condition"] == {
        "StringNotEquals": {
            "ec2:ResourceTag/Environment": ["Prod", "Production"],
            "ec2:ImageID": ["ami-0123456789abcdef0"],
            "ec2:Owner": ["137112412989"],
        }
    }
    assert complete["AllowRunInstancesWithApprovedImageTag"]["Condition"] == {
        "StringEquals": {"ec2:ResourceTag/Environment": ["Prod", "Production"]}
    }


def test_several_publishers_are_all_exempt_from_the_tag_guard(complete) -> None:
    assert complete["DenyApprovalTagChangeOnImage"]["Condition"]["ArnNotLike"] == {
        "aws:PrincipalArn": ["arn:aws:iam::*:role/ami-publisher", "arn:aws:iam::*:role/image-builder-*"]
    }


def test_custom_tag_key_and_values_reach_every_statement(plan_summary) -> None:
    plan = plan_summary(REPO_ROOT, **CUSTOM_TAG)
    policy = statements(plan.policy(POLICY))
    assert policy["AllowRunInstancesWithApprovedImageTag"]["Condition"] == {
        "StringEquals": {"ec2:ResourceTag/CostCenter": ["Golden", "Hardened"]}
    }
    assert policy["DenyLaunchWithUnapprovedImage"]["Condition"] == {
        "StringNotEquals": {"ec2:ResourceTag/CostCenter": ["Golden", "Hardened"]}
    }
    assert policy["DenyApprovalTagChangeOnImage"]["Condition"] == {
        "ForAnyValue:StringEqualsIgnoreCase": {"aws:TagKeys": ["CostCenter"]}
    }
    assert "Environment" not in plan.values[POLICY]["policy"]


def test_scp_document_holds_exactly_the_policy_denials(plan_summary, complete) -> None:
    plan = plan_summary(EXAMPLES / "complete")
    scp = statements(json.loads(plan.outputs["scp_policy_json"]))
    denials = {sid: s for sid, s in complete.items() if s["Effect"] == "Deny"}
    assert scp == denials
    assert set(denials) == DENY_SIDS


def test_boundary_allows_everything_but_the_denials(plan_summary, complete) -> None:
    boundary = statements(plan_summary(EXAMPLES / "complete").policy(BOUNDARY))
    assert boundary.pop("AllowEverythingWithinBoundary") == {
        "Sid": "AllowEverythingWithinBoundary",
        "Effect": "Allow",
        "Action": "*",
        "Resource": "*",
    }
    assert boundary == {sid: s for sid, s in complete.items() if s["Effect"] == "Deny"}


def test_policy_output_is_the_document_of_the_managed_policy(plan_summary) -> None:
    plan = plan_summary(EXAMPLES / "basic")
    assert plan.outputs["policy_json"] == plan.values[f"module.approved_amis.{POLICY}"]["policy"]


################################################################################
# Sizes, as AWS counts them
################################################################################

REALISTIC = REPO_ROOT / "tests" / "fixtures" / "realistic-input"


def test_every_document_fits_its_limit_for_a_large_input(plan_summary) -> None:
    """3 tag values, 21 AMI IDs, 3 owners, 3 publishers, 2 exempt principals: every document still fits."""
    outputs = plan_summary(REALISTIC).outputs
    sizes = outputs["characters"]
    assert sizes["policy"] == len(re.sub(r"\s", "", outputs["policy_json"])) <= 6144
    assert sizes["boundary"] == len(re.sub(r"\s", "", outputs["boundary_policy_json"])) <= 6144
    assert sizes["scp"] == len(outputs["scp_policy_json"]) <= 5120
    assert len(json.loads(outputs["policy_json"])["Statement"]) == 5 + len(DENY_SIDS)


def test_sizes_are_outputs_of_the_root_module(plan_summary) -> None:
    root = plan_summary(REPO_ROOT)
    assert root.outputs["policy_characters"] == len(re.sub(r"\s", "", root.outputs["policy_json"]))
    assert root.outputs["boundary_policy_characters"] == len(re.sub(r"\s", "", root.outputs["boundary_policy_json"]))


################################################################################
# Toggles of the doors beyond RunInstances
################################################################################

TOGGLED_OFF = {
    "approved_ami_ids": ["ami-0123456789abcdef0"],
    "ami_publisher_arns": ["arn:aws:iam::*:role/ami-publisher"],
    "deny_unpinned_launch_template_versions": False,
    "restrict_image_builder_to_publishers": False,
    "protect_principal_roles": False,
    "launch_configurations": "none",
}
CUSTOM_TAG = {"approval_tag_key": "CostCenter", "approval_tag_values": ["Golden", "Hardened"]}

# Planned together with the other test modules' inputs (conftest.py: plan_summary).
PLANNED = [
    (REPO_ROOT, {}),
    (REPO_ROOT, CUSTOM_TAG),
    (REALISTIC, {}),
    (REPO_ROOT, TOGGLED_OFF),
    (REPO_ROOT, {**TOGGLED_OFF, "launch_configurations": "any"}),
]


def test_each_door_toggle_takes_its_statement_out(plan_summary, complete) -> None:
    policy = statements(plan_summary(REPO_ROOT, **TOGGLED_OFF).policy(POLICY))
    denials = {sid for sid, s in policy.items() if s["Effect"] == "Deny"}
    assert denials == DENY_SIDS - {"DenyUnpinnedLaunchTemplateVersion", "DenyChangesToPublisherAndExemptRoles"}
    assert policy["DenyImagePublishingByNonPublishers"]["Action"] == ["ec2:RestoreImageFromRecycleBin"]
    assert "Condition" not in policy["DenyLaunchConfigurationWithUnapprovedImage"], "none: every launch configuration"
    assert complete["DenyLaunchConfigurationWithUnapprovedImage"]["Condition"] == {
        "StringNotEquals": {"autoscaling:ImageId": ["ami-0123456789abcdef0"]}
    }
    assert any(a.startswith("imagebuilder:") for a in complete["DenyImagePublishingByNonPublishers"]["Action"])

    anything = statements(plan_summary(REPO_ROOT, **{**TOGGLED_OFF, "launch_configurations": "any"}).policy(POLICY))
    assert "DenyLaunchConfigurationWithUnapprovedImage" not in anything


def test_the_role_guard_names_exactly_the_publisher_and_exempt_patterns(complete) -> None:
    guard = complete["DenyChangesToPublisherAndExemptRoles"]
    assert guard["Resource"] == ["arn:aws:iam::*:role/ami-publisher", "arn:aws:iam::*:role/image-builder-*"]
    assert {"iam:CreateRole", "iam:UpdateAssumeRolePolicy", "iam:PassRole", "iam:PutRolePermissionsBoundary"} <= set(guard["Action"])
    assert not any(a.endswith("User") or "UserPolicy" in a for a in guard["Action"]), "no user patterns, no user actions"
    assert "Condition" not in guard, "nobody holding the policy may change them"
