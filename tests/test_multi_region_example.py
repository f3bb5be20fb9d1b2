"""examples/multi-region: IAM once, detection in each region, every region's alerts in one topic.

An EventBridge rule reaches an SNS topic of its own region only, and an event bus of another region
(EventBridge User Guide, "Sending and receiving events between AWS Regions"): the secondary region
forwards to the primary region's default bus, where the module's alerts rule must match what arrives.
"""

from __future__ import annotations

import json
from typing import Any

from conftest import EXAMPLES
from support.planning import PlanSummary

EXAMPLE = EXAMPLES / "multi-region"
# Planned together with the other test modules' inputs (conftest.py: plan_summary).
PLANNED = [(EXAMPLE, {})]
PRIMARY_BUS = "arn:aws:events:eu-west-1:123456789012:event-bus/default"


def plan(plan_summary) -> PlanSummary:
    return plan_summary(EXAMPLE)


def providers(summary: PlanSummary) -> dict[str, str]:
    """The provider configuration of every managed resource in the configuration, by address."""
    found: dict[str, str] = {}

    def walk(module: dict[str, Any], prefix: str, inherited: str) -> None:
        for resource in module.get("resources", []):
            if resource.get("mode") == "managed":
                found[prefix + resource["address"]] = resource.get("provider_config_key", inherited)
        for name, call in module.get("module_calls", {}).items():
            walk(call["module"], f"{prefix}module.{name}.", inherited if prefix else name)

    walk(summary.raw["configuration"]["root_module"], "", "aws")
    return found


def test_forwarded_verdicts_match_the_primary_alerts_rule(plan_summary) -> None:
    summary = plan(plan_summary)
    forward = summary.values["aws_cloudwatch_event_rule.forward"]
    alerts = summary.values["module.primary.module.sns_alerts.aws_cloudwatch_event_rule.this[0]"]
    assert json.loads(forward["event_pattern"]) == json.loads(alerts["event_pattern"])
    assert json.loads(forward["event_pattern"])["detail"]["configRuleName"] == ["approved-amis-by-tag"]


def test_the_secondary_region_forwards_to_the_primary_bus_through_a_role_that_may_only_put_events_there(plan_summary) -> None:
    summary = plan(plan_summary)
    assert summary.values["aws_cloudwatch_event_target.forward"]["arn"] == PRIMARY_BUS
    policy = json.loads(summary.values["aws_iam_role_policy.forward"]["policy"])
    assert [(s["Effect"], s["Action"], s["Resource"]) for s in policy["Statement"]] == [("Allow", "events:PutEvents", PRIMARY_BUS)]
    trust = json.loads(summary.values["aws_iam_role.forward"]["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_iam_once_detection_in_each_region_one_topic(plan_summary) -> None:
    summary = plan(plan_summary)
    by_module = {address.split(".")[1] for address in summary.only("aws_iam_policy")}
    assert by_module == {"primary"}
    assert {a.split(".")[1] for a in summary.only("aws_config_config_rule")} == {"primary", "secondary"}
    assert {a.split(".")[1] for a in summary.only("aws_sns_topic")} == {"primary"}
    configured = providers(summary)
    assert configured["aws_cloudwatch_event_rule.forward"] == configured["aws_cloudwatch_event_target.forward"] == "aws.secondary"
    assert configured["aws_iam_role.forward"] == "aws"


REJECTED = [(EXAMPLE, {"secondary_region": "eu-west-1"})]


def test_the_same_region_twice_is_refused(plan_error) -> None:
    error = plan_error(EXAMPLE, secondary_region="eu-west-1")
    assert "secondary_region must be a region name such as us-east-1, other than primary_region" in error
