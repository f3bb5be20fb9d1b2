"""examples/complete applied to the emulator: every layer it serves, then an empty second plan, then a clean destroy.

The emulator does not serve AWS Config remediation configurations; the documented input
EMULATOR_INPUTS switches them off for this run, and they are covered by the plan tests only.
The run has an emulator of its own, so what is left after destroy is exactly what this example left.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import EXAMPLES
from harness.emulator import running_emulator
from harness.tfcli import emulator_credentials
from harness.workspace import copy_example
from support.terraform_cli import must, run

# What the emulator cannot serve, switched off through the example's documented input.
EMULATOR_INPUTS = {"create_ssm_remediation_configuration": "false"}
PLAN_TESTED_ONLY = {"aws_config_remediation_configuration"}

ACCOUNT = "123456789012"  # the emulator's default account
REGION = "eu-west-1"  # examples/complete's default region
NAME = "approved-amis-complete"


@dataclass
class Lifecycle:
    """What one apply, second plan and destroy of examples/complete produced."""

    applied_types: set[str] = field(default_factory=set)
    outputs: dict[str, Any] = field(default_factory=dict)
    observed: dict[str, Any] = field(default_factory=dict)
    second_plan_exit: int | None = None
    second_plan_output: str = ""
    destroy_output: str = ""
    leftovers: dict[str, list[str]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def own_emulator() -> Iterator[str]:
    """An emulator of its own: the check that destroy leaves nothing needs an account nobody else writes to.
    It serves AWS managed policies: the Config recorder's role attaches AWS_ConfigRole."""
    with running_emulator(aws_managed_policies=True) as url:
        yield url


def var_args() -> list[str]:
    return [f"-var={name}={value}" for name, value in EMULATOR_INPUTS.items()]


class Account:
    """boto3 clients for the emulator's account."""

    def __init__(self, url: str) -> None:
        self.url = url
        credentials = emulator_credentials(url)
        self.session = boto3.Session(
            aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=credentials["AWS_SESSION_TOKEN"],
            region_name=REGION,
        )

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.url, config=Config(retries={"max_attempts": 1}))


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


@pytest.fixture(scope="module")
def account(own_emulator: str) -> Account:
    return Account(own_emulator)


@pytest.fixture(scope="module")
def lifecycle(tf_env: dict[str, str], account: Account, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lifecycle]:
    scratch = tmp_path_factory.mktemp("apply-complete")
    workdir = copy_example(EXAMPLES / "complete", scratch / "complete")
    env = dict(tf_env, TF_DATA_DIR=str(scratch / ".terraform"), **emulator_credentials(account.url))
    result = Lifecycle()
    must(run(["init", "-input=false", "-no-color"], workdir, env))
    try:
        must(run(["apply", "-input=false", "-no-color", "-auto-approve", *var_args()], workdir, env))
        state = json.loads(must(run(["show", "-json"], workdir, env)))
        result.applied_types = {r["type"] for r in _state_resources(state["values"]["root_module"]) if r["mode"] == "managed"}
        result.outputs = {k: v["value"] for k, v in state["values"].get("outputs", {}).items()}
        result.observed = observe(account)
        plan = run(["plan", "-input=false", "-no-color", "-detailed-exitcode", *var_args()], workdir, env)
        result.second_plan_exit, result.second_plan_output = plan.returncode, plan.stdout + plan.stderr
    finally:
        result.destroy_output = must(run(["destroy", "-input=false", "-no-color", "-auto-approve", *var_args()], workdir, env))
    result.leftovers = leftovers(account)
    yield result


def _state_resources(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _state_resources(child)


def test_the_emulator_does_not_serve_what_is_plan_tested_only(account: Account) -> None:
    config = account.client("config")
    with pytest.raises(ClientError):
        config.describe_remediation_configurations(ConfigRuleNames=[f"{NAME}-by-tag"])


def test_apply_creates_every_resource_type_of_the_plan_but_the_plan_tested_only(lifecycle, plan_summary) -> None:
    planned = set(plan_summary(EXAMPLES / "complete").counts)
    assert PLAN_TESTED_ONLY <= planned
    assert lifecycle.applied_types == planned - PLAN_TESTED_ONLY


def test_applied_config_rules_carry_the_approval_rule(lifecycle) -> None:
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


def test_applied_alerts_reach_an_encrypted_topic_with_a_dead_letter_queue_and_an_alarm(lifecycle) -> None:
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


def test_second_plan_shows_no_changes(lifecycle) -> None:
    assert lifecycle.second_plan_exit == 0, lifecycle.second_plan_output[-4000:]


def test_destroy_leaves_nothing_behind(lifecycle) -> None:
    assert "Destroy complete!" in lifecycle.destroy_output
    assert lifecycle.leftovers == {}
