"""Fast JSON for storage and hashing: orjson, falling back to the standard library for the
values orjson refuses (integers beyond 64 bits)."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from carebase.errors import PayloadTooLarge


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


# Values one request body may hold. orjson builds a Python object for every value before
# any schema sees it, and an empty object costs about 70 bytes: one 16 MiB body of `{},`
# is 5.6 million objects, about 400 MB. 500,000 values keep one request's decoded body
# near 35 MB, and are 500 per event in a full batch of 1,000: far more than a real
# ticket carries (a record's own bound, 10,000 values, is in recordtypes.validation).
MAX_VALUES_PER_REQUEST = 500_000

# A JSON string, escapes included: what the precise count skips over.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def count_values(body: bytes) -> int:
    """An upper bound of the JSON values in `body`, counted before decoding it.

    A value is the top one, or the first in its container, or follows a `,`: so there are
    1 + (commas) + (non-empty containers) of them. Counted over the whole body first,
    brackets of empty containers included (cheap, C-speed, at most twice the truth); only
    when that passes the bound are strings, whose commas and brackets are no structure,
    and whitespace dropped, empty containers told apart, and the count made again.
    """
    quick = body.count(b"[") + body.count(b"{") + body.count(b",") + 1
    if quick <= MAX_VALUES_PER_REQUEST:
        return quick
    bare = _STRING.sub(b"", body).translate(None, b" \t\r\n")
    empty = bare.count(b"[]") + bare.count(b"{}")
    return bare.count(b"[") + bare.count(b"{") + bare.count(b",") + 1 - empty


def check_value_count(body: bytes) -> None:
    """Refuse, with 413, a body holding more than MAX_VALUES_PER_REQUEST JSON values."""
    if count_values(body) > MAX_VALUES_PER_REQUEST:
        raise PayloadTooLarge(
            f"The body holds more than {MAX_VALUES_PER_REQUEST} JSON values.",
            details={"max_values": MAX_VALUES_PER_REQUEST},
        )
