"""IAM policy evaluation for the tests and the demo: principalmapper's local policy simulation, with one correction.

principalmapper (the `principalmapper-0ca` package) evaluates Effect, Action, Resource and the String*,
Null and ForAnyValue/ForAllValues condition operators as IAM does. Its ARN operators (ArnLike, ArnNotLike,
ArnEquals, ArnNotEquals) match case-insensitively and let `*` run across the colons of an ARN; IAM compares
ARNs case-sensitively, each of the six colon-separated parts on its own. So Arn* blocks are evaluated here,
following the IAM rules, and everything else is left to principalmapper (test_policy_matrix.py checks both).

Verdicts follow IAM's evaluation logic for one account: an explicit Deny in any policy wins; otherwise the
service control policies and the permissions boundary, when present, must allow, and then an identity policy
or a resource policy (whose Principal names the caller) must.
"""

from __future__ import annotations

import collections
import collections.abc
import functools
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

# principalmapper imports collections.Mapping and MutableMapping, which Python 3.10 removed.
for _name in ("Mapping", "MutableMapping"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

from principalmapper.querying.local_policy_simulation import policy_has_matching_statement  # noqa: E402
from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict  # noqa: E402

ALLOWED = "allowed"
EXPLICITLY_DENIED = "explicitly denied"
IMPLICITLY_DENIED = "implicitly denied"
VERDICTS = (ALLOWED, EXPLICITLY_DENIED, IMPLICITLY_DENIED)

Document = dict[str, Any]
ContextValue = str | list[str]


@dataclass(frozen=True)
class Request:
    """One authorization: an action on one resource, with the request context IAM would see.

    principal names the caller for resource policies: {"Service": "events.amazonaws.com"} or {"AWS": role ARN}.
    """

    action: str
    resource: str
    context: dict[str, ContextValue] = field(default_factory=dict)
    principal: dict[str, str] = field(default_factory=dict)


def _as_list(value: ContextValue | None) -> list[str]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


@functools.cache  # the matrix asks for the same few patterns millions of times
def _arn_part_pattern(pattern: str) -> re.Pattern[str]:
    """A wildcard pattern for one ARN part: * any run of characters, ? one character, case-sensitive."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL)


def arn_like(arn: str, pattern: str) -> bool:
    """IAM's ArnLike: the six colon-separated parts compared one by one, case-sensitively, with wildcards."""
    arn_parts, pattern_parts = arn.split(":", 5), pattern.split(":", 5)
    if len(arn_parts) != 6 or len(pattern_parts) != 6:
        return False
    return all(_arn_part_pattern(p).fullmatch(a) for a, p in zip(arn_parts, pattern_parts))


def _arn_block_holds(operator: str, keys: dict[str, ContextValue], context: CaseInsensitiveDict) -> bool:
    """One Arn* condition block: every key must hold (AND); the values of a key are alternatives (OR)."""
    base = operator.removesuffix("IfExists")
    if base not in ("ArnLike", "ArnEquals", "ArnNotLike", "ArnNotEquals"):
        raise ValueError(f"unsupported ARN condition operator {operator!r}")
    negated = "Not" in base
    for key, patterns in keys.items():
        values = _as_list(context.get(key))
        if not values:
            if negated or operator.endswith("IfExists"):
                continue
            return False
        matched = any(arn_like(value, pattern) for value in values for pattern in _as_list(patterns))
        if matched == negated:
            return False
    return True


def statement_matches(statement: Document, effect: str, request: Request) -> bool:
    """Whether one statement has this effect and applies to the request (action, resource and condition)."""
    if statement["Effect"] != effect:
        return False
    context = CaseInsensitiveDict(request.context)
    condition = statement.get("Condition", {})
    for operator, keys in condition.items():
        if operator.startswith(("Arn", "ForAnyValue:Arn", "ForAllValues:Arn")):
            if operator.startswith("For"):
                raise ValueError(f"unsupported ARN condition operator {operator!r}")
            if not _arn_block_holds(operator, keys, context):
                return False
    rest = {operator: keys for operator, keys in condition.items() if not operator.startswith("Arn")}
    remaining = {k: v for k, v in statement.items() if k != "Condition"}
    if rest:
        remaining["Condition"] = rest
    return policy_has_matching_statement({"Statement": [remaining]}, effect, request.action, request.resource, context)


def principal_matches(statement: Document, principal: dict[str, str]) -> bool:
    """Whether a resource policy statement's Principal names the caller: "*", the service, the ARN or its account."""
    if "NotPrincipal" in statement:
        raise ValueError("NotPrincipal is not supported")
    named = statement.get("Principal")
    if named == "*":
        return True
    for kind, value in principal.items():
        listed = _as_list(named.get(kind)) if isinstance(named, dict) else []
        if value in listed or (kind == "AWS" and "*" in listed):
            return True
        if kind == "AWS" and value.startswith("arn:"):
            _, partition, _, _, account, _ = value.split(":", 5)
            if account in listed or f"arn:{partition}:iam::{account}:root" in listed:
                return True
    return False


def matches(document: Document, effect: str, request: Request, resource_policy: bool = False) -> bool:
    """Whether any statement of a policy document has this effect and applies to the request."""
    statements = document["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    return any(
        statement_matches(statement, effect, request)
        and (not resource_policy or principal_matches(statement, request.principal))
        for statement in statements
    )


def decide(
    request: Request,
    identity: Sequence[Document] = (),
    boundary: Sequence[Document] | None = None,
    scps: Sequence[Document] | None = None,
    resource: Sequence[Document] = (),
) -> str:
    """IAM's verdict for a request in one account: explicit Deny wins; then SCPs and the boundary, when present,
    must allow; then an identity policy or a resource policy (same account) must allow."""
    every = [*identity, *(boundary or ()), *(scps or ())]
    if any(matches(document, "Deny", request) for document in every) or any(
        matches(document, "Deny", request, resource_policy=True) for document in resource
    ):
        return EXPLICITLY_DENIED
    for kind in (scps, boundary):
        if kind is not None and not any(matches(document, "Allow", request) for document in kind):
            return IMPLICITLY_DENIED
    if any(matches(document, "Allow", request) for document in identity) or any(
        matches(document, "Allow", request, resource_policy=True) for document in resource
    ):
        return ALLOWED
    return IMPLICITLY_DENIED
