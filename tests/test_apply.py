"""examples/complete applied to the emulator: every layer it serves, then an empty second plan, then a clean destroy.

The emulator does not serve AWS Config remediation configurations; the documented input
EMULATOR_INPUTS switches them off for this run, and they are covered by the plan tests only.
The apply is the demo's (`complete_applied` and `complete_example` fixtures, tests/support/complete_example.py):
one apply serves this file and tests/test_demo.py, which run on the same worker; the tests of the applied
account read it while the demo waits after apply, the last two read the second plan and the destroy. Its emulator is its own, so what is left
after destroy is exactly what this example left.
"""

from __future__ import annotations

import json

import pytest

from conftest import EXAMPLES
from support.complete_example import ACCOUNT, NAME, PLAN_TESTED_ONLY, REGION, CompleteExample, Lifecycle
from scripts.demo import DemoRun

# Planned together with the other test modules' inputs (conftest.py: plan_summary).
PLANNED = [(EXAMPLES / "complete", {})]


@pytest.fixture(scope="module")
def lifecycle(complete_applied: CompleteExample) -> Lifecycle:
    """What the account held after apply."""
    return complete_applied.read_applied()


@pytest.fixture(scope="module")
def finished(complete_example: tuple[DemoRun, Lifecycle]) -> Lifecycle:
    """The same, with the second plan and the destroy."""
    return complete_example[1]


def test_the_emulator_does_not_serve_what_is_plan_tested_only(lifecycle: Lifecycle) -> None:
    assert lifecycle.remediation_error is not None, "the emulator now serves Config remediation configurations"
    assert lifecycle.remediation_error["Error"]["Code"], lifecycle.remediation_error


def test_apply_creates_every_resource_type_of_the_plan_but_the_plan_tested_only(lifecycle: Lifecycle, plan_summary) -> None:
    planned = set(plan_summary(EXAMPLES / "complete").counts)
    assert PLAN_TESTED_ONLY <= planned
    assert lifecycle.applied_types == planned - PLAN_TESTED_ONLY


def test_applied_config_rules_carry_the_approval_rule(lifecycle: Lifecycle) -> None:
    assert lifecycle.observed["rules"] == {
        f"{NAME}-by-tag": {
            "identifier": "APPROVED_AMIS_BY_TAG",
            "parameters": {"amisByTagKeyAndValue": "Environment:Prod,Environment:Production"},
            "scope": ["AWS::EC2::Instance"],
        },
        f"{NAME}-by-id": {
            "identifier": "APPROVED_AMIS_BY_ID",
            "parameters": {"amiIds": "ami-0123456789abcdef0"},
            "scope": ["AWS::EC2::Instance"],
        },
    }
    assert [(r["name"], r["recording"]) for r in lifecycle.observed["recorders"]] == [("default", True)]


def test_applied_alerts_reach_an_encrypted_topic_with_a_dead_letter_queue_and_an_alarm(lifecycle: Lifecycle) -> None:
    observed = lifecycle.observed
    assert observed["key_rotation"] is True
    assert observed["event_pattern"]["detail"]["configRuleName"] == [f"{NAME}-by-tag", f"{NAME}-by-id"]
    topic_arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{NAME}-alerts"
    rule_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{NAME}-non-compliant"
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{NAME}-alerts-dead-letter"
    (target,) = observed["targets"]
    assert target["Arn"] == topic_arn and "InputTransformer" in target
    assert target["DeadLetterConfig"] == {"Arn": queue_arn}
    allow = next(s for s in observed["topic_policy"]["Statement"] if s["Effect"] == "Allow")
    assert allow["Principal"] == {"Service": "events.amazonaws.com"} and "Condition" not in allow
    assert observed["subscriptions"] == ["secops@example.com"]
    assert lifecycle.outputs["sns_topic_arn"] == topic_arn

    queue = observed["queue"]
    assert queue["QueueArn"] == queue_arn
    assert queue["KmsMasterKeyId"] == observed["topic_key"]
    queue_allow = next(s for s in json.loads(queue["Policy"])["Statement"] if s["Effect"] == "Allow")
    assert queue_allow["Condition"] == {"ArnEquals": {"aws:SourceArn": rule_arn}}

    (alarm,) = observed["alarms"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Events", "FailedInvocations")
    assert alarm["Dimensions"] == [{"Name": "RuleName", "Value": f"{NAME}-non-compliant"}]


def test_second_plan_shows_no_changes(finished: Lifecycle) -> None:
    assert finished.second_plan_exit == 0, finished.second_plan_output[-4000:]


def test_destroy_leaves_nothing_behind(finished: Lifecycle) -> None:
    assert "Destroy complete!" in finished.destroy_output
    assert finished.leftovers == {}
