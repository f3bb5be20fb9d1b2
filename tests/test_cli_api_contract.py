"""The CLI's contract with the AWS API as it answers today, not as the emulator answers.

tests/contracts/aws_api_reads.yaml declares every response member the CLI reads. Each is checked against the
output shape of its operation in the botocore model the project pins, and against that model's
documentation: a member that does not exist, or that AWS documents as retired or deprecated (Organizations'
`Account.Status` "will be retired on September 9, 2026"), fails here even while the emulator still returns
it. The declaration is tied to the code both ways: a member the code reads that no declared path ends with
fails, and so does a declared operation the code no longer calls.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from approved_amis import aws
from harness.emulator import client
from harness.tfcli import REPO_ROOT
from harness.yaml_files import read_yaml
from support.aws_api import UNSERVED

CONTRACT = read_yaml(REPO_ROOT / "tests" / "contracts" / "aws_api_reads.yaml")
READS: dict[str, dict[str, list[str]]] = CONTRACT["reads"]
OPERATIONS = [(service, operation) for service, operations in READS.items() for operation in operations]
SOURCE = REPO_ROOT / "src" / "approved_amis"

# How AWS's API references say that a member is going away.
RETIRED = re.compile(
    r"will be retired|has been retired|is retired|is deprecated|has been deprecated|will be deprecated"
    r"|no longer (?:supported|used|returned|available)|(?:member|parameter|field) is deprecated",
    re.IGNORECASE,
)


@cache
def model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


@cache
def raw_shapes(service: str) -> dict[str, Any]:
    loader = botocore.session.get_session().get_component("data_loader")
    return loader.load_service_model(service, "service-2")["shapes"]


def going_away(name: str, documentation: str) -> str | None:
    """The words by which `documentation` says that member `name` is retired or deprecated, else None. A
    sentence whose subject is another member (its first <code>, as in "The <code>Status</code> parameter
    in the API response will be retired", said of the list that holds it) does not count against `name`."""
    for sentence in re.split(r"(?<=\.)\s+|</p>", documentation):
        said = RETIRED.search(re.sub(r"<[^>]+>", "", sentence))
        subjects = re.findall(r"<code>([^<]+)</code>", sentence)
        if said and (not subjects or subjects[0] == name):
            return said.group(0)
    return None


def problems(service: str, operation: str, path: str) -> list[str]:
    """What is wrong with reading `path` from `operation`'s answer: a step the model does not have, or a
    member it marks deprecated or documents as retired. [] when the read is sound."""
    shape = model(service).operation_model(operation).output_shape
    where = f"{service} {operation} {path}"
    for step in path.split("."):
        name, lists = step.rstrip("[]"), step.count("[]")
        if shape is None or shape.type_name != "structure" or name not in shape.members:
            return [f"{where}: {name!r} is not a member of {getattr(shape, 'name', 'an empty answer')}"]
        reference = raw_shapes(service)[shape.name]["members"][name]
        member = shape.members[name]
        if reference.get("deprecated") or member.metadata.get("deprecated"):
            return [f"{where}: {name!r} is marked deprecated in the model"]
        said = going_away(name, member.documentation or "")
        if said:
            return [f"{where}: {name!r} is documented as going away: ...{said}..."]
        shape = member
        for _ in range(lists):
            if shape.type_name != "list":
                return [f"{where}: {name!r} is not a list"]
            shape = shape.member
    return []


################################################################################
# Every declared read against the model
################################################################################


@pytest.mark.parametrize(("service", "operation"), OPERATIONS, ids=[f"{s}-{o}" for s, o in OPERATIONS])
def test_every_member_read_is_in_today_s_model(service: str, operation: str) -> None:
    assert operation in model(service).operation_names
    found = [problem for path in READS[service][operation] for problem in problems(service, operation, path)]
    assert found == []


def test_the_check_fails_on_a_made_up_member_and_on_a_retired_one() -> None:
    assert problems("organizations", "ListAccounts", "Accounts[].Bogus") == [
        "organizations ListAccounts Accounts[].Bogus: 'Bogus' is not a member of Account"
    ]
    (retired,) = problems("organizations", "ListAccounts", "Accounts[].Status")
    assert retired.startswith("organizations ListAccounts Accounts[].Status: 'Status' is documented as going away")
    assert "will be retired" in retired
    # The list that holds the retired member is not itself going away.
    assert problems("organizations", "ListAccounts", "Accounts[].State") == []
    assert going_away("Accounts", "<p>The <code>Status</code> parameter will be retired.</p>") is None
    assert going_away("Status", "<p>This field is deprecated. Use X.</p>") == "field is deprecated"
    assert problems("ec2", "DescribeImages", "Images[].Tags.Key") == ["ec2 DescribeImages Images[].Tags.Key: 'Key' is not a member of TagList"]
    assert problems("ec2", "DescribeImages", "Images[].ImageAllowed") == []


@pytest.mark.parametrize("fallback", CONTRACT["fallbacks"], ids=lambda f: f"{f['operation']}-{f['member']}")
def test_a_retired_member_is_read_only_behind_its_live_replacement(fallback: dict[str, str]) -> None:
    service, operation = fallback["service"], fallback["operation"]
    assert fallback["replaced_by"] in READS[service][operation]
    assert problems(service, operation, fallback["replaced_by"]) == []
    (retired,) = problems(service, operation, fallback["member"])
    assert "going away" in retired
    parent, _, name = fallback["member"].rpartition(".")
    shape = model(service).operation_model(operation).output_shape
    for step in parent.split("."):
        shape = shape.members[step.rstrip("[]")]
        while shape.type_name == "list":
            shape = shape.member
    replacement = fallback["replaced_by"].rpartition(".")[2]
    assert replacement in shape.members[name].documentation, "the model does not name the replacement"


################################################################################
# The declaration against the code
################################################################################


def _sources() -> list[Path]:
    return sorted(SOURCE.rglob("*.py"))


def member_reads(tree: ast.AST) -> set[str]:
    """Keys the code reads with x["Key"], x.get("Key"), or "Key" in x, that look like AWS members (PascalCase)."""
    keys: set[str] = set()
    for node in ast.walk(tree):
        key: ast.expr | None = None
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            key = node.slice
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
            key = node.args[0]
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)):
            key = node.left
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and re.fullmatch(r"[A-Z][A-Za-z0-9]*", key.value):
            keys.add(key.value)
    return keys


def declared_names() -> set[str]:
    names = {step.rstrip("[]") for operations in READS.values() for paths in operations.values() for path in paths for step in path.split(".")}
    names |= {f["member"].rpartition(".")[2] for f in CONTRACT["fallbacks"]}
    return names | set(CONTRACT["botocore_error_keys"])


def test_the_code_reads_no_member_left_undeclared() -> None:
    read = {key: path.relative_to(REPO_ROOT) for path in _sources() for key in member_reads(ast.parse(path.read_text()))}
    undeclared = {key: str(where) for key, where in read.items() if key not in declared_names()}
    assert undeclared == {}, "declare these in tests/contracts/aws_api_reads.yaml"


def test_the_link_to_the_code_can_fail() -> None:
    tree = ast.parse('a.get("Status"); b["Bogus"]; "Tags" in c; d["lower"]')
    assert member_reads(tree) == {"Status", "Bogus", "Tags"}
    assert "Bogus" not in declared_names()


def test_every_declared_operation_is_still_called() -> None:
    code = "\n".join(path.read_text() for path in _sources())
    for service, operation in OPERATIONS:
        snake = botocore.xform_name(operation)
        assert re.search(rf"\b{snake}\b", code), f"{service} {operation} is declared but not called: remove it"


def test_figures() -> None:
    """The size of the contract, printed for the record (pytest -s)."""
    paths = sum(len(paths) for operations in READS.values() for paths in operations.values())
    print(f"\nAWS API contract: {len(OPERATIONS)} operations, {paths} member paths, {len(CONTRACT['fallbacks'])} fallback")
    assert OPERATIONS and paths


################################################################################
# What the emulator does not serve, and is therefore answered by validated stubs
################################################################################


@pytest.mark.parametrize("name", sorted(UNSERVED))
def test_the_emulator_still_does_not_serve(emulator: str, name: str) -> None:
    """Fails once the emulator serves one of these: its tests then belong on the emulator."""
    def unserved_client(service: str) -> Any:
        return client(service, emulator, retries={"max_attempts": 1})

    with pytest.raises(aws.AWS_ERRORS):
        UNSERVED[name](unserved_client, "ami-0123456789abcdef0")
