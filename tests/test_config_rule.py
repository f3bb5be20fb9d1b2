"""Detect: the AWS Config rules and the optional recorder, read from the plan.

Expected input_parameters are built here from the AWS Config rule documentation: APPROVED_AMIS_BY_TAG
takes `amisByTagKeyAndValue`, comma-separated `key:value` entries; APPROVED_AMIS_BY_ID takes `amiIds`,
comma-separated IDs; every parameter value is a JSON string.
"""

from __future__ import annotations

import json
from typing import Any

from conftest import EXAMPLES
from support.layer_inputs import ACCOUNT, ALL_ON, rule_address
from support.planning import PlanSummary
from harness.tfcli import REPO_ROOT

EXAMPLE = "module.approved_amis."
CONFIG = "module.config_rule."
# Planned together with the other test modules' inputs (conftest.py: plan_summary).
PLANNED = [(REPO_ROOT, {}), (REPO_ROOT, ALL_ON), (EXAMPLES / "complete", {})]


def by_tag(key: str, values: list[str]) -> dict[str, str]:
    return {"amisByTagKeyAndValue": ",".join(f"{key}:{value}" for value in values)}


def by_id(ids: list[str]) -> dict[str, str]:
    return {"amiIds": ",".join(ids)}


def parameters(rule: dict[str, Any]) -> dict[str, Any]:
    decoded = json.loads(rule["input_parameters"])
    assert all(isinstance(value, str) for value in decoded.values()), f"non-string parameter in {decoded}"
    return decoded


def rules(plan: PlanSummary) -> dict[str, dict[str, Any]]:
    return {address.split('"')[1]: values for address, values in plan.only("aws_config_config_rule").items()}


def test_default_rule_checks_the_default_approval_tag_only(plan_summary) -> None:
    found = rules(plan_summary(REPO_ROOT))
    assert set(found) == {"by_tag"}
    rule = found["by_tag"]
    assert rule["name"] == "approved-amis-by-tag"
    assert rule["source"] == [
        {"owner": "AWS", "source_identifier": "APPROVED_AMIS_BY_TAG", "source_detail": [], "custom_policy_details": []}
    ]
    assert parameters(rule) == by_tag("Environment", ["Prod"])
    assert rule["input_parameters"] == json.dumps(by_tag("Environment", ["Prod"]), separators=(",", ":"))


def test_rules_evaluate_ec2_instances_on_change_only(plan_summary) -> None:
    for plan in (plan_summary(REPO_ROOT), plan_summary(REPO_ROOT, **ALL_ON), plan_summary(EXAMPLES / "complete")):
        for rule in rules(plan).values():
            assert rule["scope"][0]["compliance_resource_types"] == ["AWS::EC2::Instance"]
            assert rule["maximum_execution_frequency"] is None


def test_custom_tag_values_become_the_tag_rule_parameter(plan_summary) -> None:
    rule = rules(plan_summary(REPO_ROOT, **ALL_ON))["by_tag"]
    assert rule["name"] == "guard-by-tag"
    assert parameters(rule) == by_tag("CostCenter", ["Golden", "Hardened"])


def test_id_rule_exists_only_with_ami_ids(plan_summary) -> None:
    found = rules(plan_summary(REPO_ROOT, **ALL_ON))
    assert found["by_id"]["name"] == "guard-by-id"
    assert found["by_id"]["source"][0]["source_identifier"] == "APPROVED_AMIS_BY_ID"
    assert parameters(found["by_id"]) == by_id(["ami-00000001", "ami-0123456789abcdef0"])
    complete = rules(plan_summary(EXAMPLES / "complete"))
    assert parameters(complete["by_id"]) == by_id(["ami-0123456789abcdef0"])
    assert parameters(complete["by_tag"]) == by_tag("Environment", ["Prod", "Production"])
    assert "by_id" not in rules(plan_summary(REPO_ROOT))


def test_rule_scope_by_tag_applies_to_every_rule(plan_summary) -> None:
    for rule in rules(plan_summary(REPO_ROOT, **ALL_ON)).values():
        assert rule["scope"][0]["tag_key"] == "Team"
        assert rule["scope"][0]["tag_value"] == "web"
    for rule in rules(plan_summary(REPO_ROOT)).values():
        assert rule["scope"][0]["tag_key"] is None


def test_iam_and_config_approve_the_same_tag(plan_summary) -> None:
    plan = plan_summary(REPO_ROOT, **ALL_ON)
    policy = plan.policy("module.iam_policy.aws_iam_policy.this[0]")
    deny = next(s for s in policy["Statement"] if s["Sid"] == "DenyLaunchWithUnapprovedImage")
    approved = deny["Condition"]["StringNotEquals"]
    ((condition_key, approved_values),) = [(k, v) for k, v in approved.items() if k.startswith("ec2:ResourceTag/")]
    tag_key = condition_key.removeprefix("ec2:ResourceTag/")
    assert parameters(rules(plan)["by_tag"]) == by_tag(tag_key, approved_values)
    assert parameters(rules(plan)["by_id"]) == by_id(approved["ec2:ImageID"])


def test_recorder_is_off_by_default(plan_summary) -> None:
    counts = plan_summary(REPO_ROOT).counts
    for resource_type in ("aws_config_configuration_recorder", "aws_config_delivery_channel", "aws_s3_bucket"):
        assert resource_type not in counts


def test_recorder_records_ec2_instances_and_delivers_to_its_bucket(plan_summary) -> None:
    plan = plan_summary(EXAMPLES / "complete")
    prefix = EXAMPLE + CONFIG
    recorder = plan.values[prefix + "aws_config_configuration_recorder.this[0]"]
    assert recorder["name"] == "default"
    assert recorder["recording_group"][0]["all_supported"] is False
    assert recorder["recording_group"][0]["resource_types"] == ["AWS::EC2::Instance"]
    status = plan.values[prefix + "aws_config_configuration_recorder_status.this[0]"]
    assert (status["name"], status["is_enabled"]) == ("default", True)
    bucket = f"approved-amis-complete-config-{ACCOUNT}-eu-west-1"
    assert plan.values[prefix + "aws_config_delivery_channel.this[0]"]["s3_bucket_name"] == bucket
    assert plan.values[prefix + "aws_s3_bucket.this[0]"]["bucket"] == bucket


def test_delivery_bucket_is_private_encrypted_versioned_and_tls_only(plan_summary) -> None:
    plan = plan_summary(EXAMPLES / "complete")
    prefix = EXAMPLE + CONFIG
    block = plan.values[prefix + "aws_s3_bucket_public_access_block.this[0]"]
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    assert plan.values[prefix + "aws_s3_bucket_versioning.this[0]"]["versioning_configuration"][0]["status"] == "Enabled"
    encryption = plan.values[prefix + "aws_s3_bucket_server_side_encryption_configuration.this[0]"]["rule"][0]
    assert encryption["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "aws:kms"
    bucket_arn = f"arn:aws:s3:::approved-amis-complete-config-{ACCOUNT}-eu-west-1"
    statements = {s["Sid"]: s for s in plan.policy(CONFIG + "aws_s3_bucket_policy.this[0]")["Statement"]}
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
    assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert sorted(statements["DenyInsecureTransport"]["Resource"]) == [bucket_arn, f"{bucket_arn}/*"]
    delivery = statements["AllowConfigDelivery"]
    assert delivery["Principal"] == {"Service": "config.amazonaws.com"}
    assert delivery["Resource"] == f"{bucket_arn}/AWSLogs/{ACCOUNT}/Config/*"
    assert delivery["Condition"]["StringEquals"] == {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceAccount": ACCOUNT}


def test_recorder_role_is_for_config_of_this_account(plan_summary) -> None:
    plan = plan_summary(EXAMPLES / "complete")
    trust = plan.policy(CONFIG + "aws_iam_role.recorder[0]", "assume_role_policy")
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "config.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    attachment = plan.values[EXAMPLE + CONFIG + "aws_iam_role_policy_attachment.recorder[0]"]
    assert attachment["policy_arn"] == "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"


def test_rules_wait_for_the_recorder(plan_summary) -> None:
    plan = plan_summary(EXAMPLES / "complete")
    config_module = plan.raw["configuration"]["root_module"]["module_calls"]["approved_amis"]["module"]["module_calls"]["config_rule"]
    rule = next(r for r in config_module["module"]["resources"] if r["address"] == "aws_config_config_rule.this")
    assert rule["depends_on"] == ["aws_config_configuration_recorder_status.this"]
    assert rule_address("by_tag", EXAMPLE) in plan.values
