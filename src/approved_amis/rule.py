"""The approval rule: the same tag key, values, AMI IDs and owners that the module's IAM policy enforces."""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

OUTPUT_NAME = "approval_rule"

# The module's own validations of approved_ami_ids and approved_ami_owners (modules/approval-rule/variables.tf).
AMI_ID = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")
OWNER = re.compile(r"^([0-9]{12}|amazon|aws-marketplace)$")
MAX_AMI_IDS = 21  # AWS Config APPROVED_AMIS_BY_ID: up to 21 IDs, 1024 characters joined
MAX_AMI_IDS_CHARS = 1024
# The module's ami_parameter_paths: publisher-owned SSM parameter names a launch template may resolve.
PARAMETER_PATH = re.compile(r"^/[A-Za-z0-9_.*/-]+$")


class RuleError(ValueError):
    """The approval rule is missing or invalid; the message says what to fix."""


################################################################################
# The module's input checks, once: the flags are checked as modules/approval-rule/variables.tf checks its
# variables (tests/test_cli_inputs.py runs every bad input of tests/contracts/bad_inputs.yaml through them)
################################################################################

TAG_KEY_MAX = 128  # AWS's limit for a tag key
TAG_VALUE_MAX = 256  # ... and for a tag value
TAG_VALUES_MAX = 10  # AWS Config's APPROVED_AMIS_BY_TAG: up to 10 key:value entries
TAG_KEY_PUNCTUATION = frozenset("_.:/=+@-")
CONFIG_SEPARATORS = (",", ":")  # APPROVED_AMIS_BY_TAG separates entries with "," and key from value with ":"


def _tag_key_characters(key: str) -> bool:
    """The module's regex ^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]*$: letters, separators (spaces), numbers, _ . : / = + @ -."""
    return all(unicodedata.category(c)[0] in "LZN" or c in TAG_KEY_PUNCTUATION for c in key)


@dataclass(frozen=True)
class Check:
    """One validation of the module's variable `variable`, given as the CLI flag `flag`: `valid(value)`, and
    what to fix when it is not (said after the flag and its value)."""

    variable: str
    flag: str
    valid: Callable[[Any], bool]
    fix: str


CHECKS: tuple[Check, ...] = (
    Check("approval_tag_key", "--tag-key", lambda key: bool(key.strip()), "must not be empty: give the tag key that marks approved AMIs, for example Environment"),
    Check("approval_tag_key", "--tag-key", lambda key: len(key) <= TAG_KEY_MAX, f"is longer than the {TAG_KEY_MAX} characters AWS allows for a tag key"),
    Check("approval_tag_key", "--tag-key", lambda key: not key.lower().startswith("aws:"), 'must not start with "aws:": AWS reserves that prefix and it cannot be set on an AMI; use your own key, for example Environment'),
    Check("approval_tag_key", "--tag-key", lambda key: _tag_key_characters(key) and not any(s in key for s in CONFIG_SEPARATORS), 'may hold only letters, digits, spaces and _ . / = + - @, and no ":" or "," (AWS Config\'s APPROVED_AMIS_BY_TAG uses them as separators)'),
    Check("approval_tag_values", "--tag-value", lambda values: len(values) > 0, "no approval tag value: give at least one --tag-value (for example Prod)"),
    Check("approval_tag_values", "--tag-value", lambda values: len(values) <= TAG_VALUES_MAX, f"the module approves at most {TAG_VALUES_MAX} values (AWS Config's APPROVED_AMIS_BY_TAG limit); approve the rest by ID or owner"),
    Check("approval_tag_values", "--tag-value", lambda values: all(v.strip() for v in values), "must not be empty: remove it or give the tag value that approves an AMI"),
    Check("approval_tag_values", "--tag-value", lambda values: all(len(v) <= TAG_VALUE_MAX for v in values), f"is longer than the {TAG_VALUE_MAX} characters AWS allows for a tag value"),
    Check("approval_tag_values", "--tag-value", lambda values: not any(s in v for v in values for s in CONFIG_SEPARATORS), 'must not contain "," or ":" (AWS Config\'s APPROVED_AMIS_BY_TAG uses them as separators): repeat --tag-value for each value'),
    Check("approval_tag_values", "--tag-value", lambda values: len(set(values)) == len(values), "lists a value twice: give each approved value once"),
    Check("approved_ami_ids", "--ami-id", lambda ids: all(AMI_ID.match(i) for i in ids), 'is not an AMI ID: give "ami-" then 8 or 17 lowercase hex digits, for example ami-0123456789abcdef0'),
    Check("approved_ami_ids", "--ami-id", lambda ids: len(ids) <= MAX_AMI_IDS and len(",".join(ids)) <= MAX_AMI_IDS_CHARS, f"the module approves at most {MAX_AMI_IDS} IDs ({MAX_AMI_IDS_CHARS} characters joined, AWS Config's APPROVED_AMIS_BY_ID limit); approve the rest by tag or owner"),
    Check("approved_ami_ids", "--ami-id", lambda ids: len(set(ids)) == len(ids), "lists an AMI ID twice: give each ID once"),
    Check("approved_ami_owners", "--owner", lambda owners: all(OWNER.match(o) for o in owners), 'is not an AMI owner: give a 12-digit account ID, "amazon" or "aws-marketplace"'),
    Check("ami_parameter_paths", "--ami-parameter-path", lambda paths: all(PARAMETER_PATH.match(p) and not p.startswith("/aws/") for p in paths), "is not a publisher's SSM parameter name: give a name starting with / (letters, digits, _ . - / and the wildcard *), for example /golden-ami/*; /aws/ names are Amazon's public parameters"),
    Check("ami_parameter_paths", "--ami-parameter-path", lambda paths: len(set(paths)) == len(paths), "lists a path twice: give each parameter name once"),
)


def parameter_allowed(name: str, paths: tuple[str, ...]) -> bool:
    """Whether the SSM parameter `name` (as in resolve:ssm:<name>, a :version or :label suffix ignored) is
    one of `paths`, where * matches any characters, as in the policy's parameter ARNs."""
    bare = name.split(":", 1)[0]
    return any(fnmatch.fnmatchcase(bare, path) for path in paths)


def violations(inputs: Mapping[str, Any]) -> list[Check]:
    """The checks that the module's inputs (variable name -> value; absent ones are not checked) fail."""
    return [check for check in CHECKS if check.variable in inputs and not check.valid(inputs[check.variable])]


def _culprit(check: Check, value: Any) -> Any:
    """The one value of a list that a check fails on; None when no single value is at fault (too many, a
    duplicate) or the input is not a list."""
    if isinstance(value, (list, tuple)):
        return next((item for item in value if not check.valid([item])), None)
    return None


@dataclass(frozen=True)
class ApprovalRule:
    """An AMI is approved when its tag `tag_key` (key in any letter case, as IAM matches condition keys)
    has one of `tag_values` (case-sensitive), or its ID is in `ami_ids`, or its owner (account ID, or the
    alias "amazon" / "aws-marketplace") is in `ami_owners`."""

    tag_key: str
    tag_values: tuple[str, ...]
    ami_ids: tuple[str, ...] = ()
    ami_owners: tuple[str, ...] = ()
    # SSM parameter names (wildcards allowed) that launch templates may give as their image (resolve:ssm:).
    ami_parameter_paths: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        inputs = {
            "approval_tag_key": self.tag_key,
            "approval_tag_values": list(self.tag_values),
            "approved_ami_ids": list(self.ami_ids),
            "approved_ami_owners": list(self.ami_owners),
            "ami_parameter_paths": list(self.ami_parameter_paths),
        }
        failed = violations(inputs)
        if failed:
            check = failed[0]
            value = inputs[check.variable]
            if not value and isinstance(value, list):
                raise RuleError(check.fix)
            if isinstance(value, list):
                culprit = _culprit(check, value)
                if culprit is None:
                    raise RuleError(f"{len(value)} {check.flag} values: {check.fix}")
                value = culprit
            raise RuleError(f"{check.flag} {value!r} {check.fix}")

    @classmethod
    def from_terraform_outputs(cls, outputs: Mapping[str, Any]) -> ApprovalRule:
        """The rule from `terraform output -json` of a root that exposes the module's `approval_rule` output."""
        if OUTPUT_NAME not in outputs:
            raise RuleError(
                f"no `{OUTPUT_NAME}` output: apply a root that calls the module and exposes "
                f"`output \"{OUTPUT_NAME}\" {{ value = module.<name>.{OUTPUT_NAME} }}`"
            )
        value = outputs[OUTPUT_NAME].get("value") if isinstance(outputs[OUTPUT_NAME], Mapping) else None
        if not isinstance(value, Mapping):
            raise RuleError(f"the `{OUTPUT_NAME}` output is null: the module has create = false")
        try:
            return cls(
                tag_key=str(value["tag_key"]),
                tag_values=tuple(str(v) for v in value["tag_values"]),
                ami_ids=tuple(str(v) for v in value.get("ami_ids") or ()),
                ami_owners=tuple(str(v) for v in value.get("ami_owners") or ()),
                ami_parameter_paths=tuple(str(v) for v in value.get("ami_parameter_paths") or ()),
            )
        except (KeyError, TypeError) as error:
            raise RuleError(f"the `{OUTPUT_NAME}` output lacks {error}: is the module up to date?") from None

    @classmethod
    def from_terraform_root(
        cls, directory: Path | str, terraform: str = "terraform", env: Mapping[str, str] | None = None
    ) -> ApprovalRule:
        """Run `terraform output -json` in an applied Terraform root and read the rule from it."""
        directory = Path(directory)
        if not directory.is_dir():
            raise RuleError(f"--from-terraform {directory}: not a directory")
        try:
            result = subprocess.run(
                [terraform, "output", "-json"],
                cwd=directory,
                env=dict(env) if env is not None else None,
                capture_output=True,
                text=True,
                check=False,
            )
        except FileNotFoundError:
            raise RuleError(f"`{terraform}` is not on the PATH: install Terraform or give the rule as flags") from None
        if result.returncode != 0:
            detail = " ".join(result.stderr.split())[:300]
            raise RuleError(f"`terraform output -json` failed in {directory}: {detail}")
        try:
            outputs = json.loads(result.stdout or "{}")
        except json.JSONDecodeError:
            raise RuleError(f"`terraform output -json` in {directory} did not print JSON") from None
        return cls.from_terraform_outputs(outputs)
