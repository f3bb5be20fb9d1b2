"""Bad input is rejected at plan time with a message that says what to fix.

Contracts: tests/contracts/bad_inputs*.yaml, each case `{vars, message, directory?}` where directory
(relative to the repository, default the root module) is the configuration planned.

Terraform reports every failing `validation` of a plan, so cases share plans where that cannot change
what they prove: a case that sets one variable, whose message belongs only to validations that read
nothing but their own variable, joins a batch of such cases on other variables and other validations.
Each case is still its own test, and passes only if a diagnostic of its own validation rule (the rule's
file and line, as Terraform names them) carries its message. Every other case (several variables, a
validation that reads other variables, a precondition) is planned alone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tfcli import REPO_ROOT

CONTRACTS = sorted((Path(__file__).parent / "contracts").glob("bad_inputs*.yaml"))
CASES = {
    f"{contract.stem}:{case}": spec
    for contract in CONTRACTS
    for case, spec in yaml.safe_load(contract.read_text()).items()
}
VARIABLES_FILES = [REPO_ROOT / "variables.tf", *sorted((REPO_ROOT / "modules").glob("*/variables.tf"))]
CHECKED_AT = re.compile(r"This was checked by the validation rule at (\S+?):(\d+),")


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
BATCH_OF = {case: members for members in BATCHES for case in members}


@pytest.fixture(scope="module")
def batch_diagnostics(plan_diagnostics):
    """batch_diagnostics(case): the error diagnostics of the plan of the case's batch (planned once)."""
    planned: dict[tuple[str, ...], list[dict[str, Any]]] = {}

    def get(case: str) -> list[dict[str, Any]]:
        members = tuple(BATCH_OF[case])
        if members not in planned:
            tf_vars = {name: value for member in members for name, value in CASES[member]["vars"].items()}
            planned[members] = plan_diagnostics(REPO_ROOT / CASES[case].get("directory", "."), **tf_vars)
        return planned[members]

    return get


def checked_by(diagnostic: dict[str, Any], directory: Path) -> tuple[Path, int] | None:
    match = CHECKED_AT.search(diagnostic.get("detail", ""))
    return ((directory / match.group(1)).resolve(), int(match.group(2))) if match else None


def test_the_contract_is_large_enough() -> None:
    assert len(CASES) >= 20


def test_batches_keep_variables_and_rules_apart() -> None:
    for members in BATCHES:
        variables = [name for case in members for name in CASES[case]["vars"]]
        assert len(variables) == len(set(variables)), members
        assert len({CASES[case].get("directory", ".") for case in members}) == 1, members
        owners = [(v.file, v.variable) for case in members for v in {(r.file, r.variable): r for r in rules_for(case)}.values()]
        assert len(owners) == len(set(owners)), members


@pytest.mark.parametrize("case", sorted(CASES), ids=sorted(CASES))
def test_bad_input_is_rejected_with_its_message(case: str, plan_error, batch_diagnostics) -> None:
    spec = CASES[case]
    directory = REPO_ROOT / spec.get("directory", ".")
    if case not in BATCH_OF:
        output = plan_error(directory, **spec["vars"])
        assert spec["message"] in output, f"{case}: expected {spec['message']!r} in:\n{output[-1500:]}"
        assert "Invalid value for variable" in output or "Invalid value for input variable" in output
        return
    diagnostics = batch_diagnostics(case)
    rules = {(v.file, v.line) for v in rules_for(case)}
    own = [d for d in diagnostics if checked_by(d, directory) in rules]
    assert any(
        normalized(spec["message"]) in normalized(d["detail"])
        and d["summary"] in ("Invalid value for variable", "Invalid value for input variable")
        for d in own
    ), (
        f"{case}: no diagnostic of its validation rule carries {spec['message']!r}; planned in one batch with "
        f"{[c for c in BATCH_OF[case] if c != case]}, whose diagnostics were:\n"
        + "\n".join(f"- {d['summary']}: {normalized(d.get('detail', ''))[:300]}" for d in diagnostics)
    )


def test_good_input_is_accepted(plan_summary) -> None:
    plan = plan_summary(
        REPO_ROOT,
        approval_tag_key="Team-Approval_1.x@y",
        approval_tag_values=["a" * 256],
        approved_ami_ids=["ami-00000001", "ami-0123456789abcdef0"],
        approved_ami_owners=["amazon", "aws-marketplace", "123456789012"],
        ami_publisher_arns=["arn:aws:iam::123456789012:role/publishers/*", "arn:aws-us-gov:iam::*:user/p"],
    )
    assert plan.counts.get("aws_iam_policy") == 1
