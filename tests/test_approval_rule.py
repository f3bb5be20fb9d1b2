"""modules/approval-rule planned alone: the rule, its documents, its Config parameters and their sizes;
and the root renders it once, for every layer."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import EXAMPLES, MODULES
from harness.tfcli import REPO_ROOT
from scripts.readme_tables import all_blocks

MODULE = MODULES / "approval-rule"

INPUTS: dict[str, Any] = {
    "approval_tag_key": "CostCenter",
    "approval_tag_values": ["Golden", "Hardened"],
    "approved_ami_ids": ["ami-00000001", "ami-0123456789abcdef0"],
    "approved_ami_owners": ["amazon", "111122223333"],
    "ami_publisher_arns": ["arn:aws:iam::*:role/ami-publisher"],
    "exempt_principal_arns": ["arn:aws:iam::*:role/break-glass"],
    "partition": "aws-us-gov",
}
# Planned together with the other test modules' inputs (conftest.py: plan_summary).
PLANNED = [(MODULE, {}), (MODULE, INPUTS), (EXAMPLES / "complete", {})]
OUTPUTS = {
    "rule",
    "config_rule_parameters",
    "policy_json",
    "boundary_policy_json",
    "scp_policy_jsons",
    "characters",
    "deny_statement_ids",
}
DOCUMENTS = {"policy": "policy_json", "boundary": "boundary_policy_json"}
SCP_PARTS = ("launch", "approval")


@pytest.fixture(scope="module")
def outputs(plan_summary) -> dict[str, Any]:
    return plan_summary(MODULE, **INPUTS).outputs


@pytest.fixture(scope="module")
def default_outputs(plan_summary) -> dict[str, Any]:
    return plan_summary(MODULE).outputs


def documents(outputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rendered = {mode: json.loads(outputs[name]) for mode, name in DOCUMENTS.items()}
    return {**rendered, **{f"scp_{part}": json.loads(outputs["scp_policy_jsons"][part]) for part in SCP_PARTS}}


def test_every_output_is_planned(outputs, default_outputs) -> None:
    assert set(outputs) == OUTPUTS
    assert set(default_outputs) == OUTPUTS


def test_the_rule_is_the_inputs(outputs, default_outputs) -> None:
    assert outputs["rule"] == {
        "tag_key": "CostCenter",
        "tag_values": ["Golden", "Hardened"],
        "ami_ids": ["ami-00000001", "ami-0123456789abcdef0"],
        "ami_owners": ["amazon", "111122223333"],
        "ami_parameter_paths": [],
    }
    assert default_outputs["rule"] == {
        "tag_key": "Environment", "tag_values": ["Prod"], "ami_ids": [], "ami_owners": [], "ami_parameter_paths": []
    }


def test_every_document_is_an_iam_policy(outputs) -> None:
    for mode, document in documents(outputs).items():
        assert document["Version"] == "2012-10-17", mode
        sids = [statement["Sid"] for statement in document["Statement"]]
        assert len(sids) == len(set(sids)), f"{mode} repeats a Sid: {sids}"


def test_every_document_renders_the_deny_statements_it_names(outputs) -> None:
    rendered = documents(outputs)
    for mode in DOCUMENTS:
        denied = {statement["Sid"] for statement in rendered[mode]["Statement"] if statement["Effect"] == "Deny"}
        assert denied == set(outputs["deny_statement_ids"]), mode
    in_scps = [statement["Sid"] for part in SCP_PARTS for statement in rendered[f"scp_{part}"]["Statement"]]
    assert sorted(in_scps) == sorted(outputs["deny_statement_ids"]), "each Deny statement in exactly one SCP"


def test_only_the_scp_allows_nothing(outputs) -> None:
    effects = {mode: {s["Effect"] for s in document["Statement"]} for mode, document in documents(outputs).items()}
    assert effects == {"policy": {"Allow", "Deny"}, "boundary": {"Allow", "Deny"}, "scp_launch": {"Deny"}, "scp_approval": {"Deny"}}


def test_the_documents_use_the_partition_given(outputs) -> None:
    for mode, name in DOCUMENTS.items():
        assert "arn:aws-us-gov:" in outputs[name], mode
    for part in SCP_PARTS:
        assert "arn:aws-us-gov:" in outputs["scp_policy_jsons"][part], part


def test_only_the_scp_names_the_exempt_principals(outputs) -> None:
    """The identity policy and the boundary bind only their holders (left off break-glass roles), so only the SCP,
    which binds everyone, carries the exemption; the roles themselves stay protected in every document."""
    rendered = documents(outputs)
    exempt = "arn:aws:iam::*:role/break-glass"
    for mode in ("policy", "boundary"):
        conditions = [json.dumps(s.get("Condition", {})) for s in rendered[mode]["Statement"]]
        assert not any(exempt in condition for condition in conditions), mode
    assert exempt in json.dumps([s.get("Condition", {}) for s in rendered["scp_launch"]["Statement"]])
    for mode in ("policy", "boundary", "scp_approval"):
        guard = next(s for s in rendered[mode]["Statement"] if s["Sid"] == "DenyChangesToProtectedPrincipals")
        assert exempt in guard["Resource"], mode


def test_config_rule_parameters(outputs, default_outputs) -> None:
    parameters = outputs["config_rule_parameters"]
    assert set(parameters) == {"by_tag", "by_id"}
    assert json.loads(parameters["by_tag"]) == {"amisByTagKeyAndValue": "CostCenter:Golden,CostCenter:Hardened"}
    assert json.loads(parameters["by_id"]) == {"amiIds": "ami-00000001,ami-0123456789abcdef0"}
    assert json.loads(default_outputs["config_rule_parameters"]["by_tag"]) == {"amisByTagKeyAndValue": "Environment:Prod"}
    assert default_outputs["config_rule_parameters"]["by_id"] is None


def test_sizes_are_counted_as_aws_counts_them(outputs) -> None:
    """IAM counts a managed policy without whitespace; Organizations counts an SCP with it."""
    characters = outputs["characters"]
    assert characters["policy"] == len(re.sub(r"\s", "", outputs["policy_json"]))
    assert characters["boundary"] == len(re.sub(r"\s", "", outputs["boundary_policy_json"]))
    assert characters["scp"] == {part: len(outputs["scp_policy_jsons"][part]) for part in SCP_PARTS}
    assert characters["policy"] <= 6144 and characters["boundary"] <= 6144 and max(characters["scp"].values()) <= 5120


################################################################################
# Rendered once per root
################################################################################


def module_calls(module: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every module call of a plan's `configuration`, by address, depth first."""
    for name, call in module.get("module_calls", {}).items():
        address = f"{prefix}module.{name}"
        yield address, call
        yield from module_calls(call.get("module", {}), f"{address}.")


def test_the_complete_example_renders_the_rule_once(plan_summary) -> None:
    plan = plan_summary(EXAMPLES / "complete")
    calls = dict(module_calls(plan.raw["configuration"]["root_module"]))
    rule_calls = [address for address, call in calls.items() if call["source"].rstrip("/").endswith("approval-rule")]
    assert rule_calls == ["module.approved_amis.module.approval_rule"]
    # No call repeats through count or for_each: one call is one instance.
    assert [address for address, call in calls.items() if "count_expression" in call or "for_each_expression" in call] == []


################################################################################
# Each shared input declared once
################################################################################

# The modules that call approval-rule and pass some of its inputs through from their own, and the inputs
# of approval-rule each of them does not take (it computes the partition; the root renders no SCP exemption
# for IAM administrators, since the identity policy and boundary bind only their holders, and names the
# managed policies it creates as guard_policy and adds its remediation's exemption key to
# protected_instance_tag_keys; the organization's SCPs need no guard of their own).
CALLERS = {REPO_ROOT: {"partition", "iam_admin_principal_arns", "guard_policy", "protected_instance_tag_keys"}, MODULES / "organization": {"partition", "guard_policy"}}


def passed_through(caller: Path) -> dict[str, str]:
    """The caller's approval_rule arguments that are its own variable of the same name: {argument: variable}."""
    (call,) = [body for name, body in all_blocks(caller, "module") if name == "approval_rule"]
    return {argument: value for argument, value in call.items() if value == f"var.{argument}"}


@pytest.mark.parametrize("caller", sorted(CALLERS), ids=lambda path: str(path.relative_to(REPO_ROOT)) or "root")
def test_inputs_passed_through_are_declared_as_the_approval_rule_declares_them(caller: Path) -> None:
    """Same description, type and default; the approval rule alone validates them."""
    rule = dict(all_blocks(MODULE, "variable"))
    declared = dict(all_blocks(caller, "variable"))
    shared = passed_through(caller)
    assert set(shared) == set(rule) - CALLERS[caller], "every input of the approval rule is passed through"
    for name in shared:
        mine = {key: declared[name].get(key) for key in ("description", "type", "default")}
        theirs = {key: rule[name].get(key) for key in ("description", "type", "default")}
        assert mine == theirs, f"{name} in {caller.relative_to(REPO_ROOT)}/variables.tf differs from modules/approval-rule"
        assert "validation" not in declared[name], f"{name}: validated once, in modules/approval-rule"
