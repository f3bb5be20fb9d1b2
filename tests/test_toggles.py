"""Each toggle removes exactly its own resources: plans compared by resource type and by address."""

from __future__ import annotations

import pytest

from conftest import EXAMPLES
from support.layer_inputs import ALL_ON
from support.planning import PlanSummary
from harness.tfcli import REPO_ROOT

RECORDER = {
    "aws_config_configuration_recorder": 1,
    "aws_config_configuration_recorder_status": 1,
    "aws_config_delivery_channel": 1,
    "aws_iam_role": 1,
    "aws_iam_role_policy": 1,
    "aws_iam_role_policy_attachment": 1,
    "aws_s3_bucket": 1,
    "aws_s3_bucket_policy": 1,
    "aws_s3_bucket_public_access_block": 1,
    "aws_s3_bucket_versioning": 1,
    "aws_s3_bucket_server_side_encryption_configuration": 1,
}
ALERTS = {
    "aws_kms_key": 1,
    "aws_kms_alias": 1,
    "aws_sns_topic": 1,
    "aws_sns_topic_policy": 1,
    "aws_sns_topic_subscription": 2,
    "aws_cloudwatch_event_rule": 1,
    "aws_cloudwatch_event_target": 1,
    "aws_sqs_queue": 1,
    "aws_sqs_queue_policy": 1,
    "aws_cloudwatch_metric_alarm": 1,
}
REMEDIATION_CONFIGURATIONS = {"aws_config_remediation_configuration": 2}
REMEDIATION = {"aws_iam_role": 1, "aws_iam_role_policy": 1, **REMEDIATION_CONFIGURATIONS}
RULES = {"aws_config_config_rule": 2}
IAM = {"aws_iam_policy": 1}

# toggle inputs -> (resources they remove, by type; module whose resources those are)
TOGGLES = {
    "recorder": ({"create_config_recorder": False}, RECORDER, "module.config_rule."),
    "alerts": ({"create_sns_alerts": False}, ALERTS, "module.sns_alerts."),
    "remediation": ({"create_ssm_remediation": False}, REMEDIATION, "module.ssm_remediation."),
    "remediation-configuration": (
        {"create_ssm_remediation_configuration": False},
        REMEDIATION_CONFIGURATIONS,
        "module.ssm_remediation.",
    ),
    "iam": ({"create_iam_policy": False}, IAM, "module.iam_policy."),
}
# 60 characters: too long for the alert rule (<name>-non-compliant, 64) and the remediation role,
# fine for the Config rules and the IAM policy.
LONG_NAME = {"name": "approved-amis-" + "x" * 46, "create_sns_alerts": False}

PLANNED = [
    (REPO_ROOT, ALL_ON),
    *((REPO_ROOT, {**ALL_ON, **inputs}) for inputs, _, _ in TOGGLES.values()),
    (REPO_ROOT, LONG_NAME),
    *((EXAMPLES / name, {}) for name in ("basic", "disabled", "detect-only")),
]


def merged(*parts: dict[str, int]) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in parts:
        for resource_type, count in part.items():
            total[resource_type] = total.get(resource_type, 0) + count
    return total


def removed(before: PlanSummary, after: PlanSummary) -> dict[str, int]:
    difference = {t: n - after.counts.get(t, 0) for t, n in before.counts.items()}
    return {t: n for t, n in difference.items() if n}


def test_every_layer_on_plans_every_layer(plan_summary) -> None:
    assert plan_summary(REPO_ROOT, **ALL_ON).counts == merged(RULES, RECORDER, ALERTS, REMEDIATION, IAM)


# Resources of other layers a toggle changes by design: with the remediation, its exemption key is guarded on
# instances (DenyProtectedTagOnInstance) in the identity policy.
ALSO_CHANGES = {"remediation": ["module.iam_policy.aws_iam_policy.this[0]"]}


@pytest.mark.parametrize("toggle", sorted(TOGGLES))
def test_toggle_removes_exactly_its_resources(toggle: str, plan_summary) -> None:
    inputs, expected, module = TOGGLES[toggle]
    everything = plan_summary(REPO_ROOT, **ALL_ON)
    without = plan_summary(REPO_ROOT, **{**ALL_ON, **inputs})
    assert removed(everything, without) == expected
    assert set(without.counts) <= set(everything.counts)
    gone = set(everything.values) - set(without.values)
    assert gone and all(address.startswith(module) for address in gone), sorted(gone)
    changed = [a for a in without.values if without.values[a] != everything.values.get(a)]
    assert changed == ALSO_CHANGES.get(toggle, []), f"{toggle} changed resources it does not own: {changed}"


def test_config_layer_off_leaves_the_iam_layer_only(plan_summary) -> None:
    plan = plan_summary(EXAMPLES / "basic")  # create_config_rule = false, create_sns_alerts = false
    assert plan.counts == {"aws_iam_policy": 1, "aws_iam_role": 1, "aws_iam_role_policy_attachment": 1}
    assert all(not address.startswith("module.approved_amis.module.") or ".iam_policy." in address for address in plan.values)


def test_create_false_plans_nothing_whatever_the_toggles_say(plan_summary) -> None:
    plan = plan_summary(EXAMPLES / "disabled")  # create = false, every layer toggle on
    assert plan.counts == {}
    assert plan.outputs == {
        "approval_rule": None,
        "policy_arn": None,
        "config_rule_names": [],
        "sns_topic_arn": None,
        "ssm_remediation_role_arn": None,
    }


def test_detect_only_plans_config_rule_and_alerts_only(plan_summary) -> None:
    plan = plan_summary(EXAMPLES / "detect-only")
    single_subscription = {**ALERTS, "aws_sns_topic_subscription": 1}
    assert plan.counts == merged({"aws_config_config_rule": 1}, single_subscription)


def test_name_limits_of_a_layer_apply_only_when_it_is_on(plan_summary) -> None:
    name = LONG_NAME["name"]
    plan = plan_summary(REPO_ROOT, **LONG_NAME)
    assert plan.counts == {"aws_iam_policy": 1, "aws_config_config_rule": 1}
    assert plan.values['module.config_rule.aws_config_config_rule.this["by_tag"]']["name"] == f"{name}-by-tag"
