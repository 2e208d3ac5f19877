"""Checks every record needs before its own schema: no NUL characters, bounded nesting,
and pydantic errors turned into `{field, reason}` pairs."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

MAX_DEPTH = 32


def scan_hostile(value: Any, path: str = "", depth: int = 0) -> dict[str, str] | None:
    """The first NUL character or over-deep nesting in a decoded record, or None.

    PostgreSQL cannot store NUL in text, and nothing legitimate sends it.
    """
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
            problem = scan_hostile(item, child, depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, list):
        for position, item in enumerate(value):
            problem = scan_hostile(item, f"{path}[{position}]", depth + 1)
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
