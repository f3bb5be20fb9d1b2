"""The approval rule: the same tag key, values, AMI IDs and owners that the module's IAM policy enforces."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

OUTPUT_NAME = "approval_rule"

# The module's own validations of approved_ami_ids and approved_ami_owners (modules/approval-rule/variables.tf).
AMI_ID = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")
OWNER = re.compile(r"^([0-9]{12}|amazon|aws-marketplace)$")
MAX_AMI_IDS = 21  # AWS Config APPROVED_AMIS_BY_ID: up to 21 IDs, 1024 characters joined
MAX_AMI_IDS_CHARS = 1024


class RuleError(ValueError):
    """The approval rule is missing or invalid; the message says what to fix."""


@dataclass(frozen=True)
class ApprovalRule:
    """An AMI is approved when its tag `tag_key` (key in any letter case, as IAM matches condition keys)
    has one of `tag_values` (case-sensitive), or its ID is in `ami_ids`, or its owner (account ID, or the
    alias "amazon" / "aws-marketplace") is in `ami_owners`."""

    tag_key: str
    tag_values: tuple[str, ...]
    ami_ids: tuple[str, ...] = ()
    ami_owners: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.tag_key:
            raise RuleError("the approval tag key is empty: give --tag-key (for example Environment)")
        if not self.tag_values:
            raise RuleError("no approval tag value: give at least one --tag-value (for example Prod)")
        for ami_id in self.ami_ids:
            if not AMI_ID.match(ami_id):
                raise RuleError(
                    f"--ami-id {ami_id!r} is not an AMI ID: give \"ami-\" then 8 or 17 lowercase hex digits, "
                    "for example ami-0123456789abcdef0"
                )
        if len(self.ami_ids) > MAX_AMI_IDS or len(",".join(self.ami_ids)) > MAX_AMI_IDS_CHARS:
            raise RuleError(
                f"{len(self.ami_ids)} --ami-id values: the module approves at most {MAX_AMI_IDS} IDs "
                f"({MAX_AMI_IDS_CHARS} characters joined, AWS Config's APPROVED_AMIS_BY_ID limit); approve the rest by tag or owner"
            )
        for owner in self.ami_owners:
            if not OWNER.match(owner):
                raise RuleError(
                    f"--owner {owner!r} is not an AMI owner: give a 12-digit account ID, \"amazon\" or \"aws-marketplace\""
                )

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
