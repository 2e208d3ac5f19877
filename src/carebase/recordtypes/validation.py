"""Checks every record needs before its own schema: no NUL characters, bounded nesting
and number of values, and pydantic errors turned into `{field, reason}` pairs."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

MAX_DEPTH = 32
# JSON values (objects, arrays and scalars) one record may hold. Depth alone does not bound
# a record: a flat custom field of millions of empty objects passes any depth check and
# costs ~70 bytes per object, in memory and again in storage. A real ticket holds tens to
# a few hundred values; 10,000 leaves room for rich custom fields and keeps one record's
# decoded size under a megabyte.
MAX_VALUES = 10_000


def scan_hostile(value: Any, path: str = "") -> dict[str, str] | None:
    """The first NUL character, over-deep nesting or excess of values in a decoded record,
    or None.

    PostgreSQL cannot store NUL in text, and nothing legitimate sends it.
    """
    budget = [MAX_VALUES]
    return _scan(value, path, 0, budget)


def _scan(value: Any, path: str, depth: int, budget: list[int]) -> dict[str, str] | None:
    budget[0] -= 1
    if budget[0] < 0:
        return {"field": path or "(record)", "reason": f"holds more than {MAX_VALUES} values"}
    if depth > MAX_DEPTH:
        return {"field": path or "(record)", "reason": f"nested deeper than {MAX_DEPTH} levels"}
    if isinstance(value, str):
        if "\x00" in value:
            return {"field": path or "(record)", "reason": "contains a NUL character"}
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                return {"field": path or "(record)", "reason": "a key contains a NUL character"}
            problem = _scan(item, child, depth + 1, budget)
            if problem:
                return problem
        return None
    if isinstance(value, list):
        for position, item in enumerate(value):
            problem = _scan(item, f"{path}[{position}]", depth + 1, budget)
            if problem:
                return problem
    return None


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """Pydantic's errors as `{field: "timeline.created_at", reason: "..."}`; values not echoed."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        parts: list[str] = []
        for part in item["loc"]:
            if isinstance(part, int):
                parts.append(f"[{part}]")
            elif part in {"function-after[_utc()]", "function-before[_wrap_scalar()]"}:
                continue
            else:
                parts.append(("." if parts else "") + str(part))
        problems.append({"field": "".join(parts) or "(record)", "reason": item["msg"]})
    return problems
