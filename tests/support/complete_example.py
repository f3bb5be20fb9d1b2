"""One run of the demo (scripts/demo.py) on examples/complete, read between its steps: what the apply
created, observed through the AWS APIs, the second plan, the destroy and what it left behind.

tests/test_demo.py checks what the demo printed, tests/test_apply.py what it applied; conftest.py runs it
once per run for both (the two files share a worker). The demo runs in a thread of its own and waits
after apply, in its step that reads the applied account, until the tests of the applied account have
run: the apply and the rest of the demo are two fixtures, each well under the suite's 90 s per fixture.
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from harness import emulator
from scripts.demo import REGION, DemoRun, run_demo
from support.terraform_cli import local_state, managed_resources

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


class CompleteExample:
    """The demo on examples/complete, run in a thread: held after apply (`applied`), then let finish."""

    def __init__(self) -> None:
        self.lifecycle = Lifecycle()
        self._out = io.StringIO()
        self._applied = threading.Event()  # set after apply, or when the demo stopped
        self._resume = threading.Event()
        self._demo: DemoRun | None = None
        self._failure: str | None = None
        self._where: tuple[str, Path, dict[str, str]] = ("", Path(), {})  # emulator URL, applied root, its environment
        self._thread = threading.Thread(target=self._run, name="complete-example", daemon=True)

    def applied(self) -> None:
        """Start the demo and wait until it applied (it then waits until finish)."""
        self._thread.start()
        self._applied.wait()
        if self._failure is not None:
            raise AssertionError(self._failure)

    def finish(self) -> tuple[DemoRun, Lifecycle]:
        """Let the demo go on (audit, second plan, destroy, emulator stopped); what it printed, and the lifecycle."""
        self._resume.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._failure is not None:
            raise AssertionError(self._failure)
        assert self._demo is not None and self._demo.second_plan is not None, self._out.getvalue()[-3000:]
        self.lifecycle.second_plan_exit = self._demo.second_plan.returncode
        self.lifecycle.second_plan_output = self._demo.second_plan.stdout + self._demo.second_plan.stderr
        self.lifecycle.destroy_output = self._demo.destroy_output
        return self._demo, self.lifecycle

    def _run(self) -> None:
        try:
            self._demo = run_demo(self._out, on_applied=self._hold_after_apply, on_destroyed=self._read_leftovers)
        except BaseException as error:  # noqa: BLE001 (told to the test that waits, in the test's thread)
            self._failure = f"the demo stopped: {error}\n{self._out.getvalue()[-4000:]}"
        finally:
            self._applied.set()

    def _hold_after_apply(self, url: str, workdir: Path, env: dict[str, str]) -> None:
        self._where = (url, workdir, env)
        self._applied.set()
        self._resume.wait()  # while the tests of the applied account run; the demo says it is still at work

    def read_applied(self) -> Lifecycle:
        """What the account holds after apply, read from the state the apply wrote and through the AWS APIs,
        while the demo waits. The local state file, not `terraform show -json`: that process takes seconds of
        a loaded machine, on top of the apply, in the setup of the first test of tests/test_apply.py."""
        url, workdir, _ = self._where
        self.lifecycle.applied_types = {r["type"] for r in managed_resources(workdir)}
        self.lifecycle.outputs = {name: output["value"] for name, output in local_state(workdir)["outputs"].items()}
        account = Account(url)
        self.lifecycle.observed = observe(account)
        try:
            account.client("config").describe_remediation_configurations(ConfigRuleNames=[f"{NAME}-by-tag"])
        except ClientError as error:
            self.lifecycle.remediation_error = dict(error.response)
        return self.lifecycle

    def _read_leftovers(self, url: str) -> None:
        self.lifecycle.leftovers = leftovers(Account(url))
