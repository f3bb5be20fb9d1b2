"""Bad input is rejected at plan time with a message that says what to fix.

Contracts: tests/contracts/bad_inputs*.yaml, each case `{vars, message, directory?}` where directory
(relative to the repository, default the root module) is the configuration planned.

All cases are planned in one plan: each group of cases is a module instance of one generated root with
its own copy of the module tree (tests/support/instances.py). Terraform reports the failing validations
of every instance, and each diagnostic names the copy it comes from. A case that sets one variable, whose
message belongs only to validations that read nothing but their own variable, shares an instance with
such cases on other variables and other validations; every other case (several variables, a validation
that reads other variables) has an instance of its own. A case passes only if a diagnostic of its
instance, checked by its own validation rule (the rule's file and line, as Terraform names them), carries
its message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from support.instances import CHECKED_AT, repository_file
from harness.tfcli import REPO_ROOT
from harness.yaml_files import read_yaml

CONTRACTS = sorted((Path(__file__).parent / "contracts").glob("bad_inputs*.yaml"))
CASES = {
    f"{contract.stem}:{case}": spec
    for contract in CONTRACTS
    for case, spec in read_yaml(contract).items()
}
VARIABLES_FILES = [REPO_ROOT / "variables.tf", *sorted((REPO_ROOT / "modules").glob("*/variables.tf"))]


def normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Validation:
    file: Path
    line: int  # of the `validation {` block, as Terraform's diagnostics name it
    variable: str
    reads: frozenset[str]  # variables its condition reads
    message: str  # its error_message, whitespace normalised

    @property
    def self_contained(self) -> bool:
        return self.reads == {self.variable}


def validations(path: Path) -> list[Validation]:
    """The validation blocks of a variables.tf, read line by line (terraform fmt layout)."""
    found: list[Validation] = []
    variable, start, condition = "", 0, []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if match := re.match(r'variable "([^"]+)" \{', line):
            variable = match.group(1)
        elif line.strip() == "validation {":
            start, condition = number, []
        elif start and (match := re.match(r'\s*error_message\s*=\s*(".*")\s*$', line)):
            reads = frozenset(re.findall(r"\bvar\.(\w+)", " ".join(condition)))
            found.append(Validation(path.resolve(), start, variable, reads, normalized(json.loads(match.group(1)))))
            start = 0
        elif start:
            condition.append(line)
    return found


VALIDATIONS = [v for path in VARIABLES_FILES for v in validations(path)]


@cache
def rules_for(case: str) -> tuple[Validation, ...]:
    """The validation rules whose message the case expects."""
    message = normalized(CASES[case]["message"])
    return tuple(v for v in VALIDATIONS if message in v.message)


def batchable(case: str) -> bool:
    rules = rules_for(case)
    return len(CASES[case]["vars"]) == 1 and bool(rules) and all(v.self_contained for v in rules)


def batches() -> list[list[str]]:
    """Batchable cases of one directory, each batch with no variable and no validation rule twice."""
    result: list[tuple[str, set[str], set[tuple[Path, str]], list[str]]] = []
    for case in sorted(c for c in CASES if batchable(c)):
        directory = CASES[case].get("directory", ".")
        variables = set(CASES[case]["vars"])
        owners = {(v.file, v.variable) for v in rules_for(case)}
        for batch_directory, used_variables, used_owners, members in result:
            if batch_directory == directory and not variables & used_variables and not owners & used_owners:
                used_variables |= variables
                used_owners |= owners
                members.append(case)
                break
        else:
            result.append((directory, variables, owners, [case]))
    return [members for *_, members in result]


BATCHES = batches()
GROUPS = BATCHES + [[case] for case in sorted(CASES) if not batchable(case)]


# Each group's directory and inputs, planned with every other test module's REJECTED inputs in one plan.
REJECTED = [
    (REPO_ROOT / CASES[group[0]].get("directory", "."), {k: v for case in group for k, v in CASES[case]["vars"].items()})
    for group in GROUPS
]


@pytest.fixture(scope="module")
def case_diagnostics(rejection) -> dict[str, list[dict[str, Any]]]:
    """Each case's error diagnostics: those of its group's instance."""
    return {case: rejection(directory, **tf_vars) for group, (directory, tf_vars) in zip(GROUPS, REJECTED) for case in group}


def checked_by(diagnostic: dict[str, Any]) -> tuple[Path, int] | None:
    """The repository file and line of the validation rule that raised a diagnostic of an instance."""
    match = CHECKED_AT.search(diagnostic.get("detail", ""))
    return (repository_file(match.group(1)).resolve(), int(match.group(2))) if match else None


def test_the_contract_is_large_enough() -> None:
    assert len(CASES) >= 20


def test_every_case_is_planned_once_and_groups_keep_variables_and_rules_apart() -> None:
    assert sorted(case for group in GROUPS for case in group) == sorted(CASES)
    for members in BATCHES:
        variables = [name for case in members for name in CASES[case]["vars"]]
        assert len(variables) == len(set(variables)), members
        assert len({CASES[case].get("directory", ".") for case in members}) == 1, members
        owners = [(v.file, v.variable) for case in members for v in {(r.file, r.variable): r for r in rules_for(case)}.values()]
        assert len(owners) == len(set(owners)), members


@pytest.mark.parametrize("case", sorted(CASES), ids=sorted(CASES))
def test_bad_input_is_rejected_with_its_message(case: str, case_diagnostics) -> None:
    spec = CASES[case]
    diagnostics = case_diagnostics[case]
    rules = {(v.file, v.line) for v in rules_for(case)}
    assert rules, f"{case}: no validation rule of the module has the message {spec['message']!r}"
    own = [d for d in diagnostics if checked_by(d) in rules]
    assert any(
        normalized(spec["message"]) in normalized(d["detail"])
        and d["summary"] in ("Invalid value for variable", "Invalid value for input variable")
        for d in own
    ), (
        f"{case}: no diagnostic of its validation rule carries {spec['message']!r}; planned in one instance with {[c for g in GROUPS if case in g for c in g if c != case]}, whose diagnostics were:\n"
        + "\n".join(f"- {d['summary']}: {normalized(d.get('detail', ''))[:300]}" for d in diagnostics)
    )


GOOD_INPUT = {
    "approval_tag_key": "Team-Approval_1.x@y",
    "approval_tag_values": ["a" * 256],
    "approved_ami_ids": ["ami-00000001", "ami-0123456789abcdef0"],
    "approved_ami_owners": ["amazon", "aws-marketplace", "123456789012"],
    "ami_publisher_arns": ["arn:aws:iam::123456789012:role/publishers/*", "arn:aws-us-gov:iam::*:user/p"],
}
# Planned together with the other test modules' inputs (conftest.py: plan_summary).
PLANNED = [(REPO_ROOT, GOOD_INPUT)]


def test_good_input_is_accepted(plan_summary) -> None:
    plan = plan_summary(REPO_ROOT, **GOOD_INPUT)
    assert plan.counts.get("aws_iam_policy") == 1
