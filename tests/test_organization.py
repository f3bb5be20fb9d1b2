"""Organization mode: the SCP, organization Config rules, the EC2 Allowed AMIs declarative policy, the aggregator.

Plan tests read examples/organization (and modules/organization with other inputs). The apply test runs
the example against a private emulator holding an organization with an OU and a member account; the
parts the emulator does not serve are switched off by the example's inputs in UNSERVED_BY_EMULATOR and
are covered by the plan tests only.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError

from conftest import EXAMPLES, MODULES, tf_var_values
from harness.emulator import client, running_emulator
from harness.tfcli import REPO_ROOT, terraform_env
from support.terraform_cli import run
from test_iam_policy import DENY_SIDS, POLICY_GUARD_SIDS, statements

EXAMPLE = EXAMPLES / "organization"
MODULE = MODULES / "organization"
PREFIX = "module.approved_amis_organization."
SCPS = {part: f'aws_organizations_policy.scp["{part}"]' for part in ("launch", "approval")}
ALLOWED_AMIS = "aws_organizations_policy.allowed_amis[0]"

# The approval rule examples/organization passes to the module (its main.tf), and its default inputs.
EXAMPLE_RULE = {
    "approval_tag_key": "Environment",
    "approval_tag_values": ["Prod"],
    "approved_ami_ids": ["ami-0123456789abcdef0"],
    "approved_ami_owners": ["amazon"],
    "ami_publisher_arns": ["arn:aws:iam::*:role/ami-publisher"],
    "ami_parameter_paths": ["/golden-ami/*"],
}
EXAMPLE_BREAK_GLASS = ["arn:aws:iam::*:role/break-glass"]
EXAMPLE_IAM_ADMINS = ["arn:aws:iam::*:role/iam-admin"]
EXAMPLE_TARGETS = ["ou-a1b2-c3d4e5f6", "ou-a1b2-f6e5d4c3"]
EXAMPLE_EXCLUDED_ACCOUNTS = ["444455556666", "777788889999"]

# What the local emulator (moto server) does not serve, and the example input that switches it off for
# the apply test. These parts are plan-tested only (README, "Organizations").
UNSERVED_BY_EMULATOR = {
    "create_config_rule": "organization Config rules (PutOrganizationConfigRule answers 500)",
    "create_allowed_amis_policy": "DECLARATIVE_POLICY_EC2 policies and their attachments (CreatePolicy rejects the type)",
}
# The aggregator is applied with a role made in the test: the emulator lacks the AWS managed policy
# AWSConfigRoleForOrganizations, so the role the module creates (and its attachment) is plan-tested only.
PLAN_TESTED_ONLY = [
    "aws_config_organization_managed_rule.this",
    "aws_organizations_policy.allowed_amis",
    "aws_organizations_policy_attachment.allowed_amis",
    "aws_iam_role.aggregator",
    "aws_iam_role_policy_attachment.aggregator",
]
APPLIED = [
    "aws_organizations_policy.scp",
    "aws_organizations_policy_attachment.scp",
    "aws_config_configuration_aggregator.this",
]


def denials(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {sid: s for sid, s in statements(document).items() if s["Effect"] == "Deny"}


def scp_denials(plan, prefix: str = PREFIX) -> dict[str, dict[str, Any]]:
    """The Deny statements of both SCPs, which hold none in common."""
    parts = [denials(json.loads(plan.values[prefix + address]["content"])) for address in SCPS.values()]
    assert not set(parts[0]) & set(parts[1])
    return {**parts[0], **parts[1]}


@pytest.fixture(scope="module")
def example(plan_summary):
    return plan_summary(EXAMPLE)


# modules/organization planned with another rule and every option the example leaves alone.
CUSTOM_RULE = {
    "approval_tag_key": "CostCenter",
    "approval_tag_values": ["Golden", "Hardened"],
    "approved_ami_owners": ["amazon", "123456789012"],
    "ami_publisher_arns": ["arn:aws:iam::*:role/publisher-*"],
}
LARGEST_CRITERION = {
    "image_providers": [f"{n:012d}" for n in range(200)],
    "image_names": [f"golden-{n}-*" for n in range(50)],
    "marketplace_product_codes": [f"code{n}" for n in range(50)],
}
CUSTOM = {
    **CUSTOM_RULE,
    "target_ids": ["r-a1b2"],
    "scp_target_ids": ["ou-a1b2-c3d4e5f6", "111122223333"],
    "allowed_amis_state": "enabled",
    "allowed_amis_criteria": [
        {"image_providers": ["aws-marketplace"], "marketplace_product_codes": ["abcdefgh1234567890"]},
        {"image_providers": ["aws-backup-vault", "amazon", "123456789012"]},
        {"image_providers": ["none"]},
        LARGEST_CRITERION,
    ],
    "create_aggregator": True,
    "aggregator_role_arn": "arn:aws:iam::111122223333:role/config-aggregator",
    "aggregator_regions": ["eu-west-1", "us-east-1"],
}
UNATTACHED = {"attach_scp": False, "attach_allowed_amis_policy": False, "create_config_rule": False}
NOT_CREATED = {"create": False, "create_aggregator": True}

# Planned together with the other test modules' inputs (conftest.py: plan_summary).
PLANNED = [
    (MODULE, CUSTOM),
    (MODULE, UNATTACHED),
    (MODULE, NOT_CREATED),
    (REPO_ROOT, {**EXAMPLE_RULE, "exempt_principal_arns": EXAMPLE_BREAK_GLASS}),
    (REPO_ROOT, CUSTOM_RULE),
    (EXAMPLE, {}),
]


@pytest.fixture(scope="module")
def custom(plan_summary):
    return plan_summary(MODULE, **CUSTOM)


def resource(plan, address: str) -> dict[str, Any]:
    assert PREFIX + address in plan.values, f"{address} not planned; plan has {sorted(plan.values)}"
    return plan.values[PREFIX + address]


################################################################################
# Service control policy
################################################################################


def test_policy_types(example) -> None:
    for address in SCPS.values():
        assert resource(example, address)["type"] == "SERVICE_CONTROL_POLICY"
    assert resource(example, ALLOWED_AMIS)["type"] == "DECLARATIVE_POLICY_EC2"
    assert example.counts["aws_organizations_policy"] == 3


def test_scp_denials_equal_the_iam_layers_plus_the_break_glass_and_iam_admin_exceptions(example, plan_summary) -> None:
    """The SCPs deny what the identity policy denies; break-glass is exempt from the launch denials, the IAM
    administrators from the guard, which protects them too: nobody else the SCP binds can become one."""
    iam = plan_summary(REPO_ROOT, **EXAMPLE_RULE, exempt_principal_arns=EXAMPLE_BREAK_GLASS).policy(
        "module.iam_policy.aws_iam_policy.this[0]"
    )
    for part, address in SCPS.items():
        scp = json.loads(resource(example, address)["content"])
        assert scp["Version"] == "2012-10-17"
        assert all(s["Effect"] == "Deny" for s in scp["Statement"]), f"an SCP from this module only denies ({part})"
    scp = scp_denials(example)
    launch = scp["DenyLaunchWithUnapprovedImage"]
    assert launch["Condition"]["ArnNotLike"] == {"aws:PrincipalArn": EXAMPLE_BREAK_GLASS}
    guard = scp["DenyChangesToProtectedPrincipals"]
    assert guard.pop("Condition") == {"ArnNotLike": {"aws:PrincipalArn": EXAMPLE_IAM_ADMINS}}
    assert guard.pop("Resource") == [*EXAMPLE_RULE["ami_publisher_arns"], *EXAMPLE_BREAK_GLASS, *EXAMPLE_IAM_ADMINS]
    iam_denials = {sid: s for sid, s in denials(iam).items() if sid not in POLICY_GUARD_SIDS}
    iam_guard = iam_denials["DenyChangesToProtectedPrincipals"]
    assert "Condition" not in iam_guard, "IAM admins are an SCP exception"
    assert iam_guard.pop("Resource") == [*EXAMPLE_RULE["ami_publisher_arns"], *EXAMPLE_BREAK_GLASS]
    # Break-glass is named in the SCP only (the identity policy binds only its holders): in every launch
    # statement, and beside the publishers as those who may set a protected instance tag.
    tagging = scp.pop("DenyProtectedTagOnInstance")
    assert tagging["Condition"]["ArnNotLike"] == {"aws:PrincipalArn": [*EXAMPLE_RULE["ami_publisher_arns"], *EXAMPLE_BREAK_GLASS]}
    exempted = set()
    for sid, statement in scp.items():
        if statement.get("Condition", {}).get("ArnNotLike") == {"aws:PrincipalArn": EXAMPLE_BREAK_GLASS}:
            exempted.add(sid)
            condition = {k: v for k, v in statement["Condition"].items() if k != "ArnNotLike"}
            statement.pop("Condition")
            if condition:
                statement["Condition"] = condition
    assert exempted == {sid for sid, s in scp.items() if sid.startswith(("DenyLaunch", "DenyGroup", "DenyUnpinned", "DenyMixed", "DenySpot"))}
    assert scp == iam_denials
    assert set(scp) | {"DenyProtectedTagOnInstance"} == DENY_SIDS - {
        "DenyImageCreationInApprovedOwnerAccounts", "DenyLaunchConfigurationWithUnapprovedImage"
    } | {"DenyGroupOnLaunchConfiguration"}  # fmt: skip


def test_scp_equals_the_iam_denials_for_another_rule(custom, plan_summary) -> None:
    iam = plan_summary(REPO_ROOT, **CUSTOM_RULE).policy("module.iam_policy.aws_iam_policy.this[0]")
    scp = scp_denials(custom, prefix="")
    assert scp == {sid: s for sid, s in denials(iam).items() if sid not in POLICY_GUARD_SIDS}
    assert set(scp) == DENY_SIDS - {
        "DenyImageParameterChangeByNonPublishers", "DenyLaunchConfigurationWithUnapprovedImage", "DenyProtectedTagOnInstance"
    } | {"DenyGroupOnLaunchConfiguration"}  # fmt: skip


def test_scp_sizes_are_reported_and_are_the_content_lengths(example) -> None:
    for part, address in SCPS.items():
        content = resource(example, address)["content"]
        assert example.outputs["scp_characters"][part] == len(content) <= 5120
        assert example.outputs["scp_policy_jsons"][part] == content


def test_both_policies_are_attached_to_every_target(example) -> None:
    attachments = example.only("aws_organizations_policy_attachment")
    for policy in ("scp", "allowed_amis"):
        targets = sorted(v["target_id"] for a, v in attachments.items() if f".{policy}[" in a)
        assert targets == sorted(EXAMPLE_TARGETS * (2 if policy == "scp" else 1)), policy
    assert example.outputs["scp_target_ids"] == sorted(EXAMPLE_TARGETS)


def test_separate_targets_per_policy(custom) -> None:
    assert sorted(custom.only("aws_organizations_policy_attachment")) == [
        'aws_organizations_policy_attachment.allowed_amis["r-a1b2"]',
        'aws_organizations_policy_attachment.scp["approval/111122223333"]',
        'aws_organizations_policy_attachment.scp["approval/ou-a1b2-c3d4e5f6"]',
        'aws_organizations_policy_attachment.scp["launch/111122223333"]',
        'aws_organizations_policy_attachment.scp["launch/ou-a1b2-c3d4e5f6"]',
    ]


def test_unattached_policies_need_no_targets(plan_summary) -> None:
    plan = plan_summary(MODULE, **UNATTACHED)
    assert plan.counts == {"aws_organizations_policy": 3}


def test_create_false_plans_nothing(plan_summary) -> None:
    plan = plan_summary(MODULE, **NOT_CREATED)
    assert plan.counts == {}
    assert plan.outputs["scp_policy_jsons"] is None


################################################################################
# Organization Config rules
################################################################################


def test_config_rules_use_the_approval_rule_parameters(example) -> None:
    rules = {v["rule_identifier"]: v for v in example.only("aws_config_organization_managed_rule").values()}
    assert sorted(rules) == ["APPROVED_AMIS_BY_ID", "APPROVED_AMIS_BY_TAG"]
    assert json.loads(rules["APPROVED_AMIS_BY_TAG"]["input_parameters"]) == {"amisByTagKeyAndValue": "Environment:Prod"}
    assert json.loads(rules["APPROVED_AMIS_BY_ID"]["input_parameters"]) == {"amiIds": "ami-0123456789abcdef0"}
    for rule in rules.values():
        assert sorted(rule["excluded_accounts"]) == EXAMPLE_EXCLUDED_ACCOUNTS
        assert rule["resource_types_scope"] == ["AWS::EC2::Instance"]
        assert rule.get("maximum_execution_frequency") is None
        assert all(isinstance(v, str) for v in json.loads(rule["input_parameters"]).values())
    assert {v["name"] for v in rules.values()} == {"approved-amis-org-by-tag", "approved-amis-org-by-id"}


def test_no_by_id_rule_without_approved_ids(custom) -> None:
    rule = custom.one("aws_config_organization_managed_rule")
    assert rule["rule_identifier"] == "APPROVED_AMIS_BY_TAG"
    assert json.loads(rule["input_parameters"]) == {"amisByTagKeyAndValue": "CostCenter:Golden,CostCenter:Hardened"}
    assert rule.get("excluded_accounts") in (None, [])


################################################################################
# EC2 Allowed AMIs (declarative policy)
################################################################################


def test_allowed_amis_policy_json_shape(example) -> None:
    assert json.loads(resource(example, ALLOWED_AMIS)["content"]) == {
        "ec2_attributes": {
            "allowed_images_settings": {
                "state": {"@@assign": "audit_mode"},
                "image_criteria": {
                    "criteria_1": {
                        "allowed_image_providers": {"@@assign": ["111122223333"]},
                        "image_names": {"@@assign": ["golden-*"]},
                        "creation_date_condition": {"maximum_days_since_created": {"@@assign": 180}},
                    },
                    "criteria_2": {
                        "allowed_image_providers": {"@@assign": ["amazon"]},
                        "deprecation_time_condition": {"maximum_days_since_deprecated": {"@@assign": 0}},
                    },
                },
            }
        }
    }


def test_allowed_amis_enabled_with_provider_aliases_in_policy_spelling(custom) -> None:
    settings = json.loads(custom.values[ALLOWED_AMIS]["content"])["ec2_attributes"]["allowed_images_settings"]
    assert settings["state"] == {"@@assign": "enabled"}
    assert settings["image_criteria"] == {
        "criteria_1": {
            "allowed_image_providers": {"@@assign": ["aws_marketplace"]},
            "marketplace_product_codes": {"@@assign": ["abcdefgh1234567890"]},
        },
        "criteria_2": {"allowed_image_providers": {"@@assign": ["aws_backup_vault", "amazon", "123456789012"]}},
        "criteria_3": {"allowed_image_providers": {"@@assign": ["none"]}},
        "criteria_4": {
            "allowed_image_providers": {"@@assign": LARGEST_CRITERION["image_providers"]},
            "image_names": {"@@assign": LARGEST_CRITERION["image_names"]},
            "marketplace_product_codes": {"@@assign": LARGEST_CRITERION["marketplace_product_codes"]},
        },
    }


REJECTED = [(MODULE, {"target_ids": ["r-a1b2"], "allowed_amis_criteria": [LARGEST_CRITERION] * 3})]


def test_allowed_amis_policy_over_the_size_limit_fails_the_plan(plan_error) -> None:
    output = plan_error(MODULE, target_ids=["r-a1b2"], allowed_amis_criteria=[LARGEST_CRITERION] * 3)
    assert "Resource precondition failed" in output
    assert "characters, over the 10000 AWS Organizations allows" in output


################################################################################
# Config aggregator
################################################################################


def test_aggregator_reads_the_whole_organization_with_its_own_role(example) -> None:
    aggregator = resource(example, "aws_config_configuration_aggregator.this[0]")
    assert aggregator["name"] == "approved-amis-org"
    assert len(aggregator["organization_aggregation_source"]) == 1
    assert aggregator["organization_aggregation_source"][0]["all_regions"] is True
    assert aggregator["account_aggregation_source"] == []

    role = resource(example, "aws_iam_role.aggregator[0]")
    assert role["name"] == "approved-amis-org-config-aggregator"
    trust = json.loads(role["assume_role_policy"])["Statement"]
    assert [(s["Action"], s["Principal"]) for s in trust] == [("sts:AssumeRole", {"Service": "config.amazonaws.com"})]
    attachment = resource(example, "aws_iam_role_policy_attachment.aggregator[0]")
    assert attachment["policy_arn"] == "arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations"


def test_aggregator_with_a_given_role_and_regions(custom) -> None:
    assert "aws_iam_role" not in custom.counts
    source = custom.one("aws_config_configuration_aggregator")["organization_aggregation_source"][0]
    assert source["role_arn"] == CUSTOM["aggregator_role_arn"]
    assert source["all_regions"] is False
    assert sorted(source["regions"]) == ["eu-west-1", "us-east-1"]


################################################################################
# Applied to the emulator
################################################################################


def _terraform(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run([*args, "-no-color"], cwd, env)


def _var_args(tf_vars: dict[str, Any]) -> list[str]:
    return [f"-var={name}={value}" for name, value in tf_var_values(tf_vars).items()]


@pytest.fixture(scope="module")
def organization(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A private emulator with an organization, an OU, a member account and an aggregator role; the example
    applied to it with the unserved parts switched off. Destroyed at the end."""
    with running_emulator() as url:
        env = terraform_env(url)
        clients = {
            name: client(name, url, retries={"max_attempts": 1})
            for name in ("organizations", "config", "iam")
        }
        org = clients["organizations"]
        org.create_organization(FeatureSet="ALL")
        root_id = org.list_roots()["Roots"][0]["Id"]
        ou_id = org.create_organizational_unit(ParentId=root_id, Name="workloads")["OrganizationalUnit"]["Id"]
        account_id = org.create_account(Email="app@example.com", AccountName="app")["CreateAccountStatus"]["AccountId"]
        role_arn = clients["iam"].create_role(
            RoleName="config-aggregator",
            AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"}, "Action": "sts:AssumeRole"}],
            }),
        )["Role"]["Arn"]

        # The example's module sources stay relative, as in the repository: mirror its layout.
        scratch = tmp_path_factory.mktemp("organization-apply")
        (scratch / "modules").symlink_to(REPO_ROOT / "modules", target_is_directory=True)
        workdir = scratch / "examples" / "organization"
        workdir.mkdir(parents=True)
        for tf_file in EXAMPLE.glob("*.tf"):
            shutil.copy(tf_file, workdir / tf_file.name)
        env["TF_DATA_DIR"] = str(scratch / ".terraform")

        tf_vars = {
            "region": "us-east-1",
            "target_ids": [ou_id, account_id],
            "aggregator_role_arn": role_arn,
            **{toggle: False for toggle in UNSERVED_BY_EMULATOR},
        }
        state = {"workdir": workdir, "env": env, "vars": _var_args(tf_vars), "clients": clients,
                 "ou_id": ou_id, "account_id": account_id, "role_arn": role_arn, "url": url}
        init = _terraform(["init", "-input=false"], workdir, env)
        assert init.returncode == 0, init.stdout + init.stderr
        try:
            applied = _terraform(["apply", "-input=false", "-auto-approve", *state["vars"]], workdir, env)
            assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr
            outputs = _terraform(["output", "-json"], workdir, env)
            state["outputs"] = {k: v["value"] for k, v in json.loads(outputs.stdout).items()}
            yield state
        finally:
            if not state.get("destroyed"):
                _terraform(["destroy", "-input=false", "-auto-approve", *state["vars"]], workdir, env)


def test_unserved_parts_really_are_unserved_by_the_emulator(organization) -> None:
    org, config = organization["clients"]["organizations"], organization["clients"]["config"]
    with pytest.raises(ClientError):
        org.create_policy(Name="probe", Description="probe", Type="DECLARATIVE_POLICY_EC2", Content="{}")
    with pytest.raises(ClientError):
        config.put_organization_config_rule(
            OrganizationConfigRuleName="probe",
            OrganizationManagedRuleMetadata={"RuleIdentifier": "APPROVED_AMIS_BY_TAG", "ResourceTypesScope": ["AWS::EC2::Instance"]},
        )


def test_applied_scps_hold_the_planned_documents(organization) -> None:
    org = organization["clients"]["organizations"]
    sids: set[str] = set()
    for part, policy_id in organization["outputs"]["scp_ids"].items():
        policy = org.describe_policy(PolicyId=policy_id)["Policy"]
        assert policy["PolicySummary"]["Type"] == "SERVICE_CONTROL_POLICY"
        assert policy["PolicySummary"]["Name"] == f"approved-amis-org-{part}"
        document = json.loads(policy["Content"])
        assert document == json.loads(organization["outputs"]["scp_policy_jsons"][part])
        sids |= set(statements(document))
    # The SCPs are the identity policy's Deny statements (no account ID is approved by owner in the example).
    # launch_configurations is "none" there: DenyGroupOnLaunchConfiguration, and DenyLaunchWithoutImageCheck takes
    # every launch configuration.
    assert sids == DENY_SIDS - {"DenyImageCreationInApprovedOwnerAccounts", "DenyLaunchConfigurationWithUnapprovedImage"} | {
        "DenyGroupOnLaunchConfiguration"
    }


def test_applied_scps_are_attached_to_the_ou_and_the_account(organization) -> None:
    org = organization["clients"]["organizations"]
    for policy_id in organization["outputs"]["scp_ids"].values():
        targets = org.list_targets_for_policy(PolicyId=policy_id)["Targets"]
        assert {(t["TargetId"], t["Type"]) for t in targets} == {
            (organization["ou_id"], "ORGANIZATIONAL_UNIT"),
            (organization["account_id"], "ACCOUNT"),
        }


def test_applied_aggregator_reads_the_organization(organization) -> None:
    aggregators = organization["clients"]["config"].describe_configuration_aggregators()["ConfigurationAggregators"]
    assert [a["ConfigurationAggregatorName"] for a in aggregators] == ["approved-amis-org"]
    assert aggregators[0]["OrganizationAggregationSource"] == {"RoleArn": organization["role_arn"], "AllAwsRegions": True}
    assert organization["outputs"]["aggregator_role_arn"] == organization["role_arn"]


def test_applied_what_the_emulator_serves_and_plan_tested_the_rest(organization, example) -> None:
    listed = _terraform(["state", "list"], organization["workdir"], organization["env"]).stdout.split()
    managed = [address.removeprefix(PREFIX) for address in listed if not address.removeprefix(PREFIX).startswith("data.")]
    in_state = {address.split("[")[0] for address in managed}
    planned = {address.removeprefix(PREFIX).split("[")[0] for address in example.values}
    assert in_state == set(APPLIED)
    assert planned == set(APPLIED) | set(PLAN_TESTED_ONLY)
    assert organization["outputs"]["config_rule_arns"] == {}
    assert organization["outputs"].get("allowed_amis_policy_id") is None


def test_second_plan_is_empty(organization) -> None:
    plan = _terraform(["plan", "-input=false", "-detailed-exitcode", *organization["vars"]], organization["workdir"], organization["env"])
    assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr


def test_destroy_detaches_and_deletes_the_scp(organization) -> None:
    org = organization["clients"]["organizations"]
    scp_ids = set(organization["outputs"]["scp_ids"].values())
    destroyed = _terraform(["destroy", "-input=false", "-auto-approve", *organization["vars"]], organization["workdir"], organization["env"])
    assert destroyed.returncode == 0, destroyed.stdout[-3000:] + destroyed.stderr
    organization["destroyed"] = True
    remaining = {p["Id"] for p in org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]}
    assert not scp_ids & remaining
    for target in (organization["ou_id"], organization["account_id"]):
        attached = org.list_policies_for_target(TargetId=target, Filter="SERVICE_CONTROL_POLICY")["Policies"]
        assert [p["Id"] for p in attached] == ["p-FullAWSAccess"]
