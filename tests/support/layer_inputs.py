"""Root-module inputs shared by the detect, alert and respond plan tests (each planned once per session)."""

from __future__ import annotations

from typing import Any

ACCOUNT = "123456789012"  # the emulator's account
REGION = "us-east-1"  # tf_env's region, used when the root module is planned directly

# Every layer on, with a custom approval rule, approval by ID, a rule scope and subscribers.
ALL_ON: dict[str, Any] = {
    "name": "guard",
    "approval_tag_key": "CostCenter",
    "approval_tag_values": ["Golden", "Hardened"],
    "approved_ami_ids": ["ami-00000001", "ami-0123456789abcdef0"],
    "config_rule_scope_tag_key": "Team",
    "config_rule_scope_tag_value": "web",
    "create_config_recorder": True,
    "create_ssm_remediation": True,
    "sns_subscriptions": [
        {"protocol": "email", "endpoint": "secops@example.com"},
        {"protocol": "https", "endpoint": "https://hooks.example.com/ami"},
    ],
}

# Alerts to a topic the account already has.
EXISTING_TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:security-alerts"

# Automatic remediation that terminates, with a custom exemption tag (tag approval only: one rule),
# and alerts to an existing topic.
AUTOMATIC: dict[str, Any] = {
    "name": "guard-auto",
    "sns_topic_arn": EXISTING_TOPIC_ARN,
    "create_ssm_remediation": True,
    "ssm_remediation_action": "terminate",
    "ssm_remediation_automatic": True,
    "ssm_remediation_maximum_automatic_attempts": 3,
    "ssm_remediation_retry_attempt_seconds": 600,
    "exemption_tag_key": "Keep-Running",
}


def rule_address(key: str, prefix: str = "") -> str:
    return f'{prefix}module.config_rule.aws_config_config_rule.this["{key}"]'
