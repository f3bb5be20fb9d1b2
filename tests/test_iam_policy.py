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


# Every Deny statement the complete example renders (each on by default; the owner-account and parameter
# statements render when approved_ami_owners holds an account ID and ami_parameter_paths is set).
DENY_SIDS = {
    "DenyLaunchWithUnapprovedImage",
    "DenyLaunchWithoutImageCheck",
    "DenyUnpinnedLaunchTemplateVersion",
    "DenyGroupWithoutTemplateVersion",
    "DenyMixedInstancesWithoutVersion",
    "DenySpotFleetTemplateChange",
    "DenyLaunchConfigurationWithUnapprovedImage",
    "DenyImagePublishingByNonPublishers",
    "DenyImageCreationInApprovedOwnerAccounts",
    "DenyImageParameterChangeByNonPublishers",
    "DenyChangesToProtectedPrincipals",
    "DenyApprovalTagChangeOnImage",
    "DenyDeleteAllTagsOnImage",
    "DenyProtectedTagOnInstance",
}
WHEN_CONFIGURED = {"DenyImageCreationInApprovedOwnerAccounts", "DenyImageParameterChangeByNonPublishers", "DenyProtectedTagOnInstance"}
# How the identity policy and the boundary guard themselves (complete: both are created); the SCPs need none.
POLICY_GUARD_SIDS = {"DenyGuardChange", "DenyGuardPolicyDetach"}
BOUNDARY_GUARD_SIDS = {"DenyGuardChange", "DenyPrincipalWithoutBoundary"}


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


def test_run_instances_is_allowed_once_and_the_deny_decides_the_image(basic) -> None:
    """One Allow for every resource RunInstances authorizes; which images may launch is DenyLaunchWithUnapprovedImage's
    to say (the approval is written once, in the Deny, which keeps the policy within 6,144 characters)."""
    allow = basic["AllowRunInstances"]
    assert allow == {"Sid": "AllowRunInstances", "Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "arn:aws:ec2:*:*:*"}
    assert [sid for sid, s in basic.items() if s["Effect"] == "Allow"] == ["AllowRunInstances", "AllowTagOnLaunch"]


def test_tags_may_be_created_only_by_run_instances(basic) -> None:
    tag = basic["AllowTagOnLaunch"]
    assert tag["Effect"] == "Allow"
    assert tag["Action"] == "ec2:CreateTags"
    assert tag["Resource"] == "*"
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
    assert set(basic["DenyLaunchWithUnapprovedImage"]["Condition"]["StringNotEquals"]) == {"ec2:ResourceTag/Environment"}
    assert not WHEN_CONFIGURED & set(basic)


def test_images_approved_by_id_and_owner_when_configured(complete) -> None:
    """Amazon's images are approved by the value IAM sees in ec2:Owner for them, amazon."""
    assert complete["DenyLaunchWithUnapprovedImage"]["Condition"] == {
        "StringNotEquals": {
            "ec2:ResourceTag/Environment": ["Prod", "Production"],
            "ec2:ImageID": ["ami-0123456789abcdef0"],
            "ec2:Owner": ["amazon", "444455556666"],
        }
    }


def test_only_publishers_make_images_in_an_account_approved_by_owner(complete) -> None:
    """The account IDs of approved_ami_owners, not amazon: in them every image made or shared is approved."""
    guard = complete["DenyImageCreationInApprovedOwnerAccounts"]
    assert guard["Condition"] == {
        "StringEquals": {"aws:PrincipalAccount": ["444455556666"]},
        "ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/ami-publisher", "arn:aws:iam::*:role/image-builder-*"]},
    }
    assert {"ec2:CreateImage", "ec2:RegisterImage", "ec2:CopyImage", "ec2:ImportImage", "ec2:ModifyImageAttribute"} <= set(guard["Action"])


def test_only_publishers_change_the_ami_parameters(complete) -> None:
    guard = complete["DenyImageParameterChangeByNonPublishers"]
    assert guard["Resource"] == ["arn:aws:ssm:*:*:parameter/golden-ami/*"]
    assert guard["Action"] == ["ssm:PutParameter", "ssm:LabelParameterVersion"]
    assert set(guard["Condition"]) == {"ArnNotLike"}


def test_several_publishers_are_all_exempt_from_the_tag_guard(complete) -> None:
    assert complete["DenyApprovalTagChangeOnImage"]["Condition"]["ArnNotLike"] == {
        "aws:PrincipalArn": ["arn:aws:iam::*:role/ami-publisher", "arn:aws:iam::*:role/image-builder-*"]
    }


def test_custom_tag_key_and_values_reach_every_statement(plan_summary) -> None:
    plan = plan_summary(REPO_ROOT, **CUSTOM_TAG)
    policy = statements(plan.policy(POLICY))
    assert policy["DenyLaunchWithUnapprovedImage"]["Condition"] == {
        "StringNotEquals": {"ec2:ResourceTag/CostCenter": ["Golden", "Hardened"]}
    }
    assert policy["DenyApprovalTagChangeOnImage"]["Condition"] == {
        "ForAnyValue:StringEqualsIgnoreCase": {"aws:TagKeys": ["CostCenter"]}
    }
    assert "Environment" not in plan.values[POLICY]["policy"]


def test_the_two_scp_documents_hold_exactly_the_policy_denials(plan_summary, complete) -> None:
    plan = plan_summary(EXAMPLES / "complete")
    parts = {part: statements(json.loads(document)) for part, document in plan.outputs["scp_policy_jsons"].items()}
    assert set(parts) == {"launch", "approval"}
    assert not set(parts["launch"]) & set(parts["approval"])
    denials = {sid: s for sid, s in complete.items() if s["Effect"] == "Deny" and sid not in POLICY_GUARD_SIDS}
    assert POLICY_GUARD_SIDS <= set(complete)
    assert {**parts["launch"], **parts["approval"]} == denials
    assert set(denials) == DENY_SIDS
    assert set(parts["launch"]) == {
        "DenyLaunchWithUnapprovedImage", "DenyLaunchWithoutImageCheck", "DenyUnpinnedLaunchTemplateVersion",
        "DenyGroupWithoutTemplateVersion", "DenyMixedInstancesWithoutVersion", "DenySpotFleetTemplateChange",
        "DenyLaunchConfigurationWithUnapprovedImage",
    }  # fmt: skip


def test_boundary_allows_everything_but_the_denials(plan_summary, complete) -> None:
    boundary = statements(plan_summary(EXAMPLES / "complete").policy(BOUNDARY))
    assert boundary.pop("AllowEverythingWithinBoundary") == {
        "Sid": "AllowEverythingWithinBoundary",
        "Effect": "Allow",
        "Action": "*",
        "Resource": "*",
    }
    assert {sid: s for sid, s in boundary.items() if sid != "DenyPrincipalWithoutBoundary"} == {
        sid: s for sid, s in complete.items() if s["Effect"] == "Deny" and sid != "DenyGuardPolicyDetach"
    }
    assert BOUNDARY_GUARD_SIDS <= set(boundary)


def test_policy_output_is_the_document_of_the_managed_policy(plan_summary) -> None:
    plan = plan_summary(EXAMPLES / "basic")
    assert plan.outputs["policy_json"] == plan.values[f"module.approved_amis.{POLICY}"]["policy"]


################################################################################
# Sizes, as AWS counts them
################################################################################

REALISTIC = REPO_ROOT / "tests" / "fixtures" / "realistic-input"


def test_every_document_fits_its_limit_for_a_large_input(plan_summary) -> None:
    """3 tag values, 21 AMI IDs, 3 owners, 3 publishers, 2 exempt principals, 1 IAM administrator, 2 AMI parameter
    paths: every document still fits (python -m scripts.policy_sizes prints the margins)."""
    outputs = plan_summary(REALISTIC).outputs
    sizes = outputs["characters"]
    assert sizes["policy"] == len(re.sub(r"\s", "", outputs["policy_json"])) <= 6144
    assert sizes["boundary"] == len(re.sub(r"\s", "", outputs["boundary_policy_json"])) <= 6144
    for part, document in outputs["scp_policy_jsons"].items():
        assert sizes["scp"][part] == len(document) <= 5120, part
    assert sum(sizes["scp"].values()) > 5120, "one SCP would not hold them: the split is needed"
    # launch_configurations = "none" there: DenyGroupOnLaunchConfiguration, and no DenyLaunchConfigurationWithUnapprovedImage
    # (DenyLaunchWithoutImageCheck takes every launch configuration).
    assert len(json.loads(outputs["policy_json"])["Statement"]) == 2 + len(DENY_SIDS) + len(POLICY_GUARD_SIDS)


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
    "restrict_data_lifecycle_manager_to_publishers": False,
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
    (EXAMPLES / "basic", {}),
    (EXAMPLES / "complete", {}),
]


def test_each_door_toggle_takes_its_statement_out(plan_summary, complete) -> None:
    policy = statements(plan_summary(REPO_ROOT, **TOGGLED_OFF).policy(POLICY))
    denials = {sid for sid, s in policy.items() if s["Effect"] == "Deny"}
    assert denials == DENY_SIDS - WHEN_CONFIGURED - {
        "DenyUnpinnedLaunchTemplateVersion", "DenyMixedInstancesWithoutVersion", "DenyChangesToProtectedPrincipals",
        "DenyLaunchConfigurationWithUnapprovedImage",
    } | POLICY_GUARD_SIDS | {"DenyGroupOnLaunchConfiguration"}  # fmt: skip
    assert policy["DenyImagePublishingByNonPublishers"]["Action"] == ["ec2:RestoreImageFromRecycleBin", "ec2:EnableImage"]
    assert "autoscaling:CreateLaunchConfiguration" in policy["DenyLaunchWithoutImageCheck"]["Action"], "none: every launch configuration"
    assert "DenyLaunchConfigurationWithUnapprovedImage" not in policy
    assert complete["DenyLaunchConfigurationWithUnapprovedImage"]["Condition"] == {
        "StringNotEquals": {"autoscaling:ImageId": ["ami-0123456789abcdef0"]}
    }
    assert any(a.startswith("imagebuilder:") for a in complete["DenyImagePublishingByNonPublishers"]["Action"])
    assert {"dlm:CreateLifecyclePolicy", "dlm:UpdateLifecyclePolicy"} <= set(complete["DenyImagePublishingByNonPublishers"]["Action"])

    anything = statements(plan_summary(REPO_ROOT, **{**TOGGLED_OFF, "launch_configurations": "any"}).policy(POLICY))
    assert "DenyLaunchConfigurationWithUnapprovedImage" not in anything and "DenyGroupOnLaunchConfiguration" not in anything


def test_the_role_guard_names_exactly_the_publisher_and_exempt_patterns(complete) -> None:
    guard = complete["DenyChangesToProtectedPrincipals"]
    assert guard["Resource"] == ["arn:aws:iam::*:role/ami-publisher", "arn:aws:iam::*:role/image-builder-*"]
    assert {"iam:CreateRole", "iam:UpdateAssumeRolePolicy", "iam:PassRole", "iam:PutRolePermissionsBoundary"} <= set(guard["Action"])
    assert not any(a.endswith("User") or "UserPolicy" in a for a in guard["Action"]), "no user patterns, no user actions"
    assert "Condition" not in guard, "nobody holding the policy may change them"
