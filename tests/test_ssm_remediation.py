"""Respond: the Config remediation configurations and the SSM Automation role, read from the plan.

Expectations follow the SSM runbooks AWS-StopEC2Instance / AWS-TerminateEC2Instance (parameters
InstanceId and AutomationAssumeRole) and the Config remediation API (target SSM_DOCUMENT, the
instance ID passed as RESOURCE_ID, manual unless automatic is asked for).
"""

from __future__ import annotations

from typing import Any

from conftest import EXAMPLES
from support.layer_inputs import ACCOUNT, AUTOMATIC
from support.planning import PlanSummary
from harness.tfcli import REPO_ROOT

RESPOND = "module.ssm_remediation."
COMPLETE_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/approved-amis-complete-ssm-remediation"
# Planned together with the other test modules' inputs (conftest.py: plan_summary).
PLANNED = [(REPO_ROOT, {}), (REPO_ROOT, AUTOMATIC), (EXAMPLES / "complete", {})]


def remediations(plan: PlanSummary) -> dict[str, dict[str, Any]]:
    return {address.split('"')[1]: values for address, values in plan.only("aws_config_remediation_configuration").items()}


def parameters(remediation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: {k: v for k, v in p.items() if k != "name" and v not in (None, [], "")} for p in remediation["parameter"]}


def role_statements(plan: PlanSummary) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in plan.policy(RESPOND + "aws_iam_role_policy.this[0]")["Statement"]}


def test_manual_stop_is_attached_to_every_rule(plan_summary) -> None:
    found = remediations(plan_summary(EXAMPLES / "complete"))
    assert sorted(found) == ["approved-amis-complete-by-id", "approved-amis-complete-by-tag"]
    for rule_name, remediation in found.items():
        assert remediation["config_rule_name"] == rule_name
        assert remediation["target_type"] == "SSM_DOCUMENT"
        assert remediation["target_id"] == "AWS-StopEC2Instance"
        assert remediation["resource_type"] == "AWS::EC2::Instance"
        assert remediation["automatic"] is False
        assert remediation["maximum_automatic_attempts"] is None
        assert remediation["retry_attempt_seconds"] is None


def test_remediation_passes_the_instance_and_the_role(plan_summary) -> None:
    for remediation in remediations(plan_summary(EXAMPLES / "complete")).values():
        assert parameters(remediation) == {
            "InstanceId": {"resource_value": "RESOURCE_ID"},
            "AutomationAssumeRole": {"static_value": COMPLETE_ROLE_ARN},
        }


def test_automatic_terminate_only_when_asked(plan_summary) -> None:
    (remediation,) = remediations(plan_summary(REPO_ROOT, **AUTOMATIC)).values()
    assert remediation["config_rule_name"] == "guard-auto-by-tag"
    assert remediation["target_id"] == "AWS-TerminateEC2Instance"
    assert remediation["automatic"] is True
    assert remediation["maximum_automatic_attempts"] == 3
    assert remediation["retry_attempt_seconds"] == 600


def test_remediation_is_off_by_default(plan_summary) -> None:
    counts = plan_summary(REPO_ROOT).counts
    assert "aws_config_remediation_configuration" not in counts
    assert "aws_iam_role" not in counts


def test_role_is_trusted_by_ssm_automation_of_this_account_only(plan_summary) -> None:
    plan = plan_summary(EXAMPLES / "complete")
    role = next(v for a, v in plan.values.items() if a.endswith(RESPOND + "aws_iam_role.this[0]"))
    assert role["name"] == "approved-amis-complete-ssm-remediation"
    trust = plan.policy(RESPOND + "aws_iam_role.this[0]", "assume_role_policy")
    (statement,) = trust["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "ssm.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:ssm:*:{ACCOUNT}:automation-execution/*"},
    }


def test_stop_role_may_only_stop_instances_without_the_exemption_tag(plan_summary) -> None:
    statements = role_statements(plan_summary(EXAMPLES / "complete"))
    assert statements == {
        "AllowRemediationOfInstancesNotExempt": {
            "Sid": "AllowRemediationOfInstancesNotExempt",
            "Effect": "Allow",
            "Action": "ec2:StopInstances",
            "Resource": f"arn:aws:ec2:*:{ACCOUNT}:instance/*",
            "Condition": {"Null": {"ec2:ResourceTag/AmiGuardExempt": "true"}},
        },
        "AllowWaitingForTheInstanceState": {
            "Sid": "AllowWaitingForTheInstanceState",
            "Effect": "Allow",
            "Action": "ec2:DescribeInstanceStatus",
            "Resource": "*",
        },
    }


def test_terminate_role_may_only_terminate_and_honours_a_custom_exemption_tag(plan_summary) -> None:
    statements = role_statements(plan_summary(REPO_ROOT, **AUTOMATIC))
    act = statements["AllowRemediationOfInstancesNotExempt"]
    assert act["Action"] == "ec2:TerminateInstances"
    assert act["Condition"] == {"Null": {"ec2:ResourceTag/Keep-Running": "true"}}
    actions = {s["Action"] for s in statements.values()}
    assert actions == {"ec2:TerminateInstances", "ec2:DescribeInstanceStatus"}
