"""One run of the demo (scripts/demo.py) on examples/complete, read between its steps: what the apply
created, observed through the AWS APIs, the second plan, the destroy and what it left behind.

tests/test_demo.py checks what the demo printed, tests/test_apply.py what it applied; conftest.py runs it
once per run for both (the two files share a worker).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from botocore.exceptions import ClientError

from harness import emulator
from harness.tfcli import must, run
from scripts.demo import REGION, DemoRun, run_demo

# What the emulator cannot serve, switched off through the example's documented input.
PLAN_TESTED_ONLY = {"aws_config_remediation_configuration"}

ACCOUNT = "123456789012"  # the emulator's default account
NAME = "approved-amis-complete"


@dataclass
class Lifecycle:
    """What one apply, second plan and destroy of examples/complete produced."""

    applied_types: set[str] = field(default_factory=set)
    outputs: dict[str, Any] = field(default_factory=dict)
    observed: dict[str, Any] = field(default_factory=dict)
    remediation_error: dict[str, Any] | None = None  # the emulator's answer to a remediation request
    second_plan_exit: int | None = None
    second_plan_output: str = ""
    destroy_output: str = ""
    leftovers: dict[str, list[str]] = field(default_factory=dict)


class Account:
    """boto3 clients for the emulator's account."""

    def __init__(self, url: str) -> None:
        self.url = url

    def client(self, service: str) -> Any:
        return emulator.client(service, self.url, REGION, retries={"max_attempts": 1})


def observe(account: Account) -> dict[str, Any]:
    """What the emulator holds after apply, read back through the AWS APIs."""
    config, sns, events, kms, sqs, cloudwatch = (
        account.client(s) for s in ("config", "sns", "events", "kms", "sqs", "cloudwatch")
    )
    rules = {r["ConfigRuleName"]: r for r in config.describe_config_rules()["ConfigRules"]}
    topic_arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{NAME}-alerts"
    topic = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    key_id = topic["KmsMasterKeyId"]
    return {
        "rules": {
            name: {
                "identifier": r["Source"]["SourceIdentifier"],
                "parameters": json.loads(r["InputParameters"]),
                "scope": r["Scope"]["ComplianceResourceTypes"],
            }
            for name, r in rules.items()
        },
        "recorders": config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"],
        "topic_policy": json.loads(topic["Policy"]),
        "key_rotation": kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"],
        "event_pattern": json.loads(events.describe_rule(Name=f"{NAME}-non-compliant")["EventPattern"]),
        "targets": events.list_targets_by_rule(Rule=f"{NAME}-non-compliant")["Targets"],
        "subscriptions": [s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]],
        "topic_key": kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"],
        "queue": sqs.get_queue_attributes(
            QueueUrl=sqs.get_queue_url(QueueName=f"{NAME}-alerts-dead-letter")["QueueUrl"], AttributeNames=["All"]
        )["Attributes"],
        "alarms": cloudwatch.describe_alarms(AlarmNamePrefix=f"{NAME}-non-compliant")["MetricAlarms"],
    }


def leftovers(account: Account) -> dict[str, list[str]]:
    """Everything of this example still in the account after destroy (KMS keys pending deletion excepted)."""
    config, sns, events, kms, iam, s3, sqs, cloudwatch = (
        account.client(s) for s in ("config", "sns", "events", "kms", "iam", "s3", "sqs", "cloudwatch")
    )
    keys = [k["KeyId"] for k in kms.list_keys()["Keys"]]
    found = {
        "config rules": [r["ConfigRuleName"] for r in config.describe_config_rules()["ConfigRules"]],
        "config recorders": [r["name"] for r in config.describe_configuration_recorders()["ConfigurationRecorders"]],
        "delivery channels": [c["name"] for c in config.describe_delivery_channels()["DeliveryChannels"]],
        "sns topics": [t["TopicArn"] for t in sns.list_topics()["Topics"]],
        "sns subscriptions": [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]],
        "eventbridge rules": [r["Name"] for r in events.list_rules()["Rules"]],
        "sqs queues": sqs.list_queues().get("QueueUrls", []),
        "cloudwatch alarms": [a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]],
        "kms keys not pending deletion": [
            k for k in keys if kms.describe_key(KeyId=k)["KeyMetadata"]["KeyState"] != "PendingDeletion"
        ],
        "kms aliases": [a["AliasName"] for a in kms.list_aliases()["Aliases"] if not a["AliasName"].startswith("alias/aws/")],
        "iam roles": [r["RoleName"] for r in iam.list_roles()["Roles"]],
        "iam policies": [p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]],
        "iam users": [u["UserName"] for u in iam.list_users()["Users"]],
        "iam groups": [g["GroupName"] for g in iam.list_groups()["Groups"]],
        "s3 buckets": [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(NAME)],
    }
    return {kind: names for kind, names in found.items() if names}


def _state_resources(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _state_resources(child)


def run_and_read() -> tuple[DemoRun, Lifecycle]:
    """Run the demo in this process; what it printed, and what the account held after apply and destroy."""
    lifecycle = Lifecycle()

    def applied(url: str, workdir: Path, env: dict[str, str]) -> None:
        state = json.loads(must(run(["show", "-json"], workdir, env)))
        root = state["values"]["root_module"]
        lifecycle.applied_types = {r["type"] for r in _state_resources(root) if r["mode"] == "managed"}
        lifecycle.outputs = {k: v["value"] for k, v in state["values"].get("outputs", {}).items()}
        account = Account(url)
        lifecycle.observed = observe(account)
        try:
            account.client("config").describe_remediation_configurations(ConfigRuleNames=[f"{NAME}-by-tag"])
        except ClientError as error:
            lifecycle.remediation_error = dict(error.response)

    def destroyed(url: str) -> None:
        lifecycle.leftovers = leftovers(Account(url))

    out = io.StringIO()
    try:
        demo = run_demo(out, on_applied=applied, on_destroyed=destroyed)
    except SystemExit as error:
        raise AssertionError(f"the demo stopped: {error}\n{out.getvalue()[-4000:]}") from None
    assert demo.second_plan is not None, demo.output[-3000:]
    lifecycle.second_plan_exit = demo.second_plan.returncode
    lifecycle.second_plan_output = demo.second_plan.stdout + demo.second_plan.stderr
    lifecycle.destroy_output = demo.destroy_output
    return demo, lifecycle
