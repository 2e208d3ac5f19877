"""Fast JSON for storage and hashing: orjson, falling back to the standard library for the
values orjson refuses (integers beyond 64 bits)."""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any, *, sort_keys: bool = False) -> bytes:
    """Compact UTF-8 JSON."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0)
    except (orjson.JSONEncodeError, TypeError):
        text = json.dumps(value, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")


def dumps_text(value: Any) -> str:
    """Compact JSON as text (what SQLAlchemy's JSON columns store)."""
    return dumps(value).decode("utf-8")


def loads(text: str | bytes | float) -> Any:
    """Parse JSON. SQLite hands back a JSON number as a number (its column affinity
    converted the text), which is already the parsed value."""
    if isinstance(text, int | float):
        return text
    return orjson.loads(text)
