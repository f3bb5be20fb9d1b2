"""Helpers over the values of a plan: planned blocks with their after_unknown flags and configuration
expressions, references, instance keys and the `resolve:ssm:` prefix."""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

SSM_PREFIX = "resolve:ssm:"  # EC2 reads the AMI ID from this SSM parameter at each launch

Blocks = list[tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]]]


def blocks(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def nested(after: Mapping[str, Any], unknown: Any, expression: Mapping[str, Any], path: Sequence[str]) -> Blocks:
    """The planned blocks at `path`, each with its after_unknown flags and the configuration expressions
    that produce it. A block list that is unknown at plan time is left out: the plan shows an optional
    block that is not set, and a `dynamic` block over values only apply will know, in the same way.

    Several blocks of one kind (a set has no stable order) share their merged expressions: a resource
    launches from every template its blocks name, so the union of their references is what it uses.
    """
    flags = unknown if isinstance(unknown, Mapping) else {}
    if not path:
        return [(after, flags, expression)]
    planned = after.get(path[0]) if isinstance(after.get(path[0]), list) else []
    block_flags = flags.get(path[0]) if isinstance(flags.get(path[0]), list) else []
    expressions = [e for e in expression.get(path[0]) or [] if isinstance(e, Mapping)] if isinstance(
        expression.get(path[0]), list) else []
    merged: Mapping[str, Any] = expressions[0] if len(expressions) == 1 else _merge_expressions(expressions)
    found: Blocks = []
    for index, block in enumerate(planned):
        if isinstance(block, Mapping):
            block_unknown = block_flags[index] if index < len(block_flags) else {}
            found += nested(block, block_unknown, merged, path[1:])
    return found


def is_unknown(value: Any) -> bool:
    return value is True


def references(expression: Any) -> list[str]:
    if isinstance(expression, Mapping):
        return [str(r) for r in expression.get("references") or []]
    return []


def _merge_expressions(blocks: list[Any]) -> dict[str, Any]:
    """Blocks of a set merged key by key, so that each key's references are the union over the blocks."""
    merged: dict[str, Any] = {}
    for block in blocks:
        if not isinstance(block, Mapping):
            continue
        for key, value in block.items():
            if isinstance(value, list):
                merged[key] = [_merge_expressions([*(merged.get(key) or []), *value])] if value else merged.get(key, [])
            elif isinstance(value, Mapping):
                previous = merged.get(key) or {}
                merged[key] = {"references": references(previous) + references(value)}
    return merged


def most_specific(found: list[str]) -> list[str]:
    """Drop references that only restate a longer one (`aws_x.a` beside `aws_x.a.id`)."""
    unique = list(dict.fromkeys(found))
    return [r for r in unique if not any(o != r and (o.startswith(r + ".") or o.startswith(r + "[")) for o in unique)]


def split_index(part: str) -> tuple[str, str]:
    """`web[0]` -> ("web", "[0]"); `web` -> ("web", "")."""
    if "[" in part and part.endswith("]"):
        name, _, rest = part.partition("[")
        return name, "[" + rest
    return part, ""


def index_text(index: Any) -> str:
    if index is None:
        return ""
    return f"[{json.dumps(index)}]"


def ssm_parameter(value: Any) -> str | None:
    """The SSM parameter name of a `resolve:ssm:NAME[:VERSION|:LABEL]` image, None for any other value."""
    if not isinstance(value, str) or not value.startswith(SSM_PREFIX):
        return None
    return value[len(SSM_PREFIX):].split(":")[0] or None


def ssm_reason(value: str) -> str:
    return f"the AMI is read from SSM parameter {value[len(SSM_PREFIX):]} at launch, not known at plan time"


SENSITIVE = "(sensitive)"  # how findings show a value Terraform marks sensitive


def sensitive_strings(value: Any, flags: Any) -> set[str]:
    """The strings in `value` that `flags` (a plan's `after_sensitive` / `sensitive_values`, same shape,
    `true` where sensitive) marks sensitive."""
    if flags is True:
        if isinstance(value, str):
            return {value}
        if isinstance(value, Mapping):
            return {s for item in value.values() for s in sensitive_strings(item, True)}
        if isinstance(value, list):
            return {s for item in value for s in sensitive_strings(item, True)}
        return set()
    if isinstance(flags, Mapping) and isinstance(value, Mapping):
        return {s for key, item in value.items() for s in sensitive_strings(item, flags.get(key))}
    if isinstance(flags, list) and isinstance(value, list):
        return {s for item, flag in zip(value, flags) for s in sensitive_strings(item, flag)}
    return set()
