"""Alert: EventBridge rule, KMS-encrypted SNS topic, dead-letter queue, alarm and their policies, read from the plan.

Expectations follow the EventBridge event AWS Config emits (source aws.config, detail-type
"Config Rules Compliance Change", detail.configRuleName, detail.newEvaluationResult.complianceType,
detail.resourceId); the rule that an encrypted topic or queue only receives EventBridge deliveries when
its customer-managed key lets events.amazonaws.com use it; EventBridge's SNS permissions, which take no
Condition; its dead-letter queue permissions, which name the rule (aws:SourceArn); and its metric
FailedInvocations, by RuleName.
"""

from __future__ import annotations

import json
from typing import Any

from conftest import EXAMPLES
from support.layer_inputs import ACCOUNT, ALL_ON, AUTOMATIC, EXISTING_TOPIC_ARN
from support.planning import PlanSummary
from harness.tfcli import REPO_ROOT

ALERTS = "module.sns_alerts."
EXAMPLE_REGION = "eu-west-1"
COMPLETE_RULE_ARN = f"arn:aws:events:{EXAMPLE_REGION}:{ACCOUNT}:rule/approved-amis-complete-non-compliant"
COMPLETE_TOPIC_ARN = f"arn:aws:sns:{EXAMPLE_REGION}:{ACCOUNT}:approved-amis-complete-alerts"
COMPLETE_QUEUE_ARN = f"arn:aws:sqs:{EXAMPLE_REGION}:{ACCOUNT}:approved-amis-complete-alerts-dead-letter"
# Planned together with the other test modules' inputs (conftest.py: plan_summary).
PAGER = f"arn:aws:sns:{EXAMPLE_REGION}:{ACCOUNT}:on-call"
WITH_ALARM_ACTIONS = {"alert_delivery_alarm_actions": [PAGER]}
PLANNED = [
    (REPO_ROOT, {}),
    (REPO_ROOT, AUTOMATIC),
    (REPO_ROOT, ALL_ON),
    (EXAMPLES / "complete", {}),
    (EXAMPLES / "complete", WITH_ALARM_ACTIONS),
]


def complete(plan_summary) -> PlanSummary:
    return plan_summary(EXAMPLES / "complete")


def by_suffix(plan: PlanSummary, suffix: str) -> dict[str, Any]:
    matches = [v for a, v in plan.values.items() if a.endswith(suffix)]
    assert len(matches) == 1, f"expected one resource ending {suffix!r}, found {len(matches)}"
    return matches[0]


def module_resource_config(plan: PlanSummary, path: list[str], address: str) -> dict[str, Any]:
    """The configuration block of a resource inside nested module calls."""
    module = plan.raw["configuration"]["root_module"]
    for name in path:
        module = module["module_calls"][name]["module"]
    return next(r for r in module["resources"] if r["address"] == address)


def test_event_pattern_matches_non_compliant_verdicts_of_exactly_these_rules(plan_summary) -> None:
    plan = complete(plan_summary)
    rule = by_suffix(plan, ALERTS + "aws_cloudwatch_event_rule.this[0]")
    assert rule["name"] == "approved-amis-complete-non-compliant"
    assert json.loads(rule["event_pattern"]) == {
        "source": ["aws.config"],
        "detail-type": ["Config Rules Compliance Change"],
        "detail": {
            "configRuleName": ["approved-amis-complete-by-tag", "approved-amis-complete-by-id"],
            "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]},
        },
    }
    assert json.loads(rule["event_pattern"])["detail"]["configRuleName"] == plan.outputs["config_rule_names"]


def test_event_pattern_follows_the_rules_that_exist(plan_summary) -> None:
    plan = plan_summary(REPO_ROOT)
    pattern = json.loads(plan.values[ALERTS + "aws_cloudwatch_event_rule.this[0]"]["event_pattern"])
    assert pattern["detail"]["configRuleName"] == ["approved-amis-by-tag"]


def test_target_sends_a_readable_message_to_the_topic(plan_summary) -> None:
    target = by_suffix(complete(plan_summary), ALERTS + "aws_cloudwatch_event_target.this[0]")
    (transformer,) = target["input_transformer"]
    assert transformer["input_paths"] == {
        "account": "$.detail.awsAccountId",
        "region": "$.detail.awsRegion",
        "rule": "$.detail.configRuleName",
        "instance": "$.detail.resourceId",
        "annotation": "$.detail.newEvaluationResult.annotation",
        "time": "$.detail.newEvaluationResult.resultRecordedTime",
    }
    message = json.loads(transformer["input_template"])
    assert isinstance(message, str), "SNS gets a plain-text message only from a template that is a JSON string"
    for placeholder in ("<instance>", "<account>", "<region>", "<rule>", "<time>", "<annotation>"):
        assert placeholder in message
    assert "NON_COMPLIANT" in message
    # AWS does not document what the managed rule writes there: it is labelled as Config's, not as the AMI.
    assert "Config's annotation: <annotation>" in message and "AMI: <annotation>" not in message


def test_target_is_the_created_topic(plan_summary) -> None:
    plan = complete(plan_summary)
    target = module_resource_config(plan, ["approved_amis", "sns_alerts"], "aws_cloudwatch_event_target.this")
    assert "aws_sns_topic.this[0].arn" in target["expressions"]["arn"]["references"]
    assert plan.outputs["sns_topic_arn"] == COMPLETE_TOPIC_ARN


def test_topic_is_encrypted_with_its_own_rotating_key(plan_summary) -> None:
    plan = complete(plan_summary)
    key = by_suffix(plan, ALERTS + "aws_kms_key.this[0]")
    assert key["enable_key_rotation"] is True
    topic = module_resource_config(plan, ["approved_amis", "sns_alerts"], "aws_sns_topic.this")
    assert "aws_kms_key.this[0].arn" in topic["expressions"]["kms_master_key_id"]["references"]
    assert by_suffix(plan, ALERTS + "aws_kms_alias.this[0]")["name"] == "alias/approved-amis-complete-alerts"


def test_key_policy_lets_eventbridge_use_the_key_and_the_account_administer_it(plan_summary) -> None:
    policy = complete(plan_summary).policy(ALERTS + "aws_kms_key.this[0]")
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert len(statements) == 2
    events = statements["AllowEventBridgeToPublishToTheEncryptedTopic"]
    assert (events["Effect"], events["Principal"]) == ("Allow", {"Service": "events.amazonaws.com"})
    assert sorted(events["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    admin = statements["AllowAccountToAdministerTheKey"]
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert admin["Action"] == "kms:*"


def test_topic_policy_lets_eventbridge_publish_without_a_condition_and_denies_plain_http(plan_summary) -> None:
    """EventBridge takes no Condition in SNS topic policies (EventBridge User Guide, Amazon SNS permissions):
    an aws:SourceArn condition would refuse every alert."""
    policy = complete(plan_summary).policy(ALERTS + "aws_sns_topic_policy.this[0]")
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["AllowPublishFromEventBridge"] == {
        "Sid": "AllowPublishFromEventBridge",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": COMPLETE_TOPIC_ARN,
    }
    assert statements["DenyInsecureTransport"] == {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sns:Publish",
        "Resource": COMPLETE_TOPIC_ARN,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    assert len(statements) == 2


################################################################################
# Dead-letter queue and alarm
################################################################################


def test_undelivered_alerts_go_to_a_dead_letter_queue_encrypted_with_the_topic_key(plan_summary) -> None:
    plan = complete(plan_summary)
    target = module_resource_config(plan, ["approved_amis", "sns_alerts"], "aws_cloudwatch_event_target.this")
    (dead_letter,) = target["expressions"]["dead_letter_config"]
    assert "aws_sqs_queue.dead_letter[0].arn" in dead_letter["arn"]["references"]
    queue = module_resource_config(plan, ["approved_amis", "sns_alerts"], "aws_sqs_queue.dead_letter")
    assert "aws_kms_key.this[0].arn" in queue["expressions"]["kms_master_key_id"]["references"]
    values = by_suffix(plan, ALERTS + "aws_sqs_queue.dead_letter[0]")
    assert values["name"] == "approved-amis-complete-alerts-dead-letter"
    assert values["fifo_queue"] is False  # EventBridge takes standard queues only
    assert values["message_retention_seconds"] == 1209600


def test_dead_letter_queue_policy_lets_only_this_rule_send(plan_summary) -> None:
    policy = complete(plan_summary).policy(ALERTS + "aws_sqs_queue_policy.dead_letter[0]")
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["AllowUndeliveredAlertsFromTheComplianceRule"] == {
        "Sid": "AllowUndeliveredAlertsFromTheComplianceRule",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": COMPLETE_QUEUE_ARN,
        "Condition": {"ArnEquals": {"aws:SourceArn": COMPLETE_RULE_ARN}},
    }
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
    assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(statements) == 2


def test_alarm_on_failed_deliveries_of_the_rule_notifies_its_own_actions(plan_summary) -> None:
    pager = PAGER
    plan = plan_summary(EXAMPLES / "complete", **WITH_ALARM_ACTIONS)
    alarm = by_suffix(plan, ALERTS + "aws_cloudwatch_metric_alarm.failed_invocations[0]")
    assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == ("AWS/Events", "FailedInvocations", "Sum")
    assert alarm["dimensions"] == {"RuleName": "approved-amis-complete-non-compliant"}
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["treat_missing_data"] == "notBreaching"
    assert alarm["alarm_actions"] == [pager]
    assert pager not in json.dumps(complete(plan_summary).values)  # the default: no action


def test_existing_topic_keeps_a_dead_letter_queue_with_sqs_owned_encryption(plan_summary) -> None:
    plan = plan_summary(REPO_ROOT, **AUTOMATIC)
    queue = plan.values[ALERTS + "aws_sqs_queue.dead_letter[0]"]
    assert queue["sqs_managed_sse_enabled"] is True
    assert queue.get("kms_master_key_id") in (None, "")
    policy = plan.policy(ALERTS + "aws_sqs_queue_policy.dead_letter[0]")
    (allow,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"].endswith(":rule/guard-auto-non-compliant")


def test_subscriptions_come_from_the_input(plan_summary) -> None:
    plan = plan_summary(REPO_ROOT, **ALL_ON)
    subscriptions = [v for a, v in plan.values.items() if a.startswith(ALERTS + "aws_sns_topic_subscription.this[")]
    assert sorted((s["protocol"], s["endpoint"]) for s in subscriptions) == [
        ("email", "secops@example.com"),
        ("https", "https://hooks.example.com/ami"),
    ]
    assert "aws_sns_topic_subscription" not in plan_summary(REPO_ROOT).counts


def test_existing_topic_replaces_topic_key_and_policy(plan_summary) -> None:
    plan = plan_summary(REPO_ROOT, **AUTOMATIC)
    for resource_type in ("aws_sns_topic", "aws_sns_topic_policy", "aws_kms_key", "aws_kms_alias"):
        assert resource_type not in plan.counts
    assert plan.values[ALERTS + "aws_cloudwatch_event_target.this[0]"]["arn"] == EXISTING_TOPIC_ARN
    assert plan.values[ALERTS + "aws_cloudwatch_event_rule.this[0]"]["name"] == "guard-auto-non-compliant"
    assert plan.outputs["sns_topic_arn"] == EXISTING_TOPIC_ARN
