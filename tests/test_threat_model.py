"""The threat model (tests/contracts/threat_model.yaml) agrees with the template, the decision matrix and README.

Every Deny statement of the template closes some path; every path an IAM layer is said to close is refused by
that layer in the decision matrix beside broad grants; the README's table is the one the model generates.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scripts.threat_model import BEGIN, END, counts, load, markdown
from harness.tfcli import REPO_ROOT
from harness.yaml_files import read_yaml

MODEL = load()
PATHS = {path["id"]: path for path in MODEL["paths"]}
MATRIX = read_yaml(Path(__file__).parent / "contracts" / "policy_matrix.yaml")
ROWS = {row["id"]: row for row in MATRIX["rows"]}
TEMPLATE_SIDS = set(re.findall(r'Sid\s*=\s*"(Deny\w+)"', (REPO_ROOT / "modules" / "approval-rule" / "templates" / "approved-amis.json.tftpl").read_text()))
EXPLICITLY_DENIED = "explicitly denied"

# For each IAM layer, the matrix setups that put it beside broad grants.
LAYER_SETUPS = {
    "identity-policy": ["policy + broad", "policy + ec2:*"],
    "boundary": ["boundary + *"],
    "scp": ["scp + broad", "scp + ec2:*"],
}


# Paths no IAM layer is meant to close: the layers that are no IAM question (who is bound, what runs already).
NOT_AN_IAM_QUESTION = {"service-linked-roles", "exempt-principals", "instances-already-running"}


def test_the_model_is_well_formed() -> None:
    assert len(PATHS) == len(MODEL["paths"]), "path ids must be unique"
    for path in MODEL["paths"]:
        assert {"id", "path", "closed_by", "detected_by", "statements", "rows", "residual"} <= set(path), path["id"]
        assert set(path) <= {"id", "path", "closed_by", "detected_by", "statements", "rows", "residual", "source"}, path["id"]
        assert set(path["closed_by"]) | set(path["detected_by"]) <= set(MODEL["layers"]), path["id"]
        assert set(path["statements"]) <= TEMPLATE_SIDS, path["id"]
        assert set(path["rows"]) <= set(ROWS), path["id"]
        residual = path["residual"]
        assert residual.endswith(".") and ". " not in residual, f"{path['id']}: the residual risk is one sentence"


def test_the_issue_paths_are_all_there() -> None:
    assert {
        "run-instances", "fleets", "spot", "replace-root-volume", "auto-scaling-latest-or-default",
        "launch-configurations", "image-builder", "role-squatting", "image-created-with-the-tag", "tag-changes",
        "recycle-bin", "passed-roles", "service-linked-roles",
        "iam-admin-squatting", "instance-refresh", "spot-fleet-template-change", "ami-parameters", "data-lifecycle-manager",
        "aws-backup", "enable-image", "approved-owner-account", "root-volume-swap", "group-from-an-instance", "mixed-instances",
        "aws-managed-compute", "identity-policy-self-rewrite",
    } <= set(PATHS)  # fmt: skip


def test_every_path_no_iam_layer_closes_names_the_aws_page_that_shows_why() -> None:
    """A door left open is named with its reason: the page whose actions or condition keys cannot close it."""
    iam = set(LAYER_SETUPS)
    open_paths = [p for p in MODEL["paths"] if not set(p["closed_by"]) & iam and p["id"] not in NOT_AN_IAM_QUESTION]
    assert [p["id"] for p in open_paths if not p.get("source")] == []
    assert all(p["source"] for p in MODEL["paths"] if "source" in p)


def test_every_deny_statement_closes_a_path() -> None:
    used = {sid for path in MODEL["paths"] for sid in path["statements"]}
    assert TEMPLATE_SIDS - used == set()
    assert len(TEMPLATE_SIDS) >= 8


@pytest.mark.parametrize("path_id", sorted(PATHS))
def test_each_iam_layer_said_to_close_a_path_refuses_it_in_the_matrix(path_id: str) -> None:
    path = PATHS[path_id]
    iam_layers = [layer for layer in path["closed_by"] if layer in LAYER_SETUPS]
    if not iam_layers:
        assert not path["statements"], "a path closed by no IAM layer names no statement"
        return
    assert path["statements"] and path["rows"], "a path an IAM layer closes names its statements and rows"
    for layer in iam_layers:
        refusing = [
            row_id
            for row_id in path["rows"]
            for setup in LAYER_SETUPS[layer]
            if ROWS[row_id]["expect"].get(setup) == EXPLICITLY_DENIED
        ]
        assert refusing or (layer == "scp" and path_id == "management-account"), f"no row shows {layer} refusing it"


def test_what_no_layer_stops_is_said() -> None:
    assert counts(MODEL)["closed_by_no_layer"] >= 1
    assert "service-linked" in " ".join(MODEL["beyond_iam"]) and "management account" in " ".join(MODEL["beyond_iam"])
    assert PATHS["service-linked-roles"]["closed_by"] == ["allowed-amis"]
    assert "scp" not in PATHS["management-account"]["closed_by"]


def test_readme_holds_the_generated_table() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    assert readme[start:end] == markdown(MODEL), "README's threat model table is stale: python -m scripts.threat_model"
