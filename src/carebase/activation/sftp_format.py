"""What an SFTP destination writes, and under which name: record values made plain (JSON's
types; the webhook sends the same), rows as CSV or NDJSON, and the file name pattern filled in
and made safe (one name in one directory, never a path)."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import string
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import orjson

from carebase.activation.channel import RecordInvalid

PLACEHOLDERS = ("orchestration", "date", "time", "run", "ext")
# The suffix a file carries while it is written: a reader ignores it, the rename publishes.
PART_SUFFIX = ".part"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_FIELD_NAME = 200


def plain_value(value: Any, field: str) -> Any:
    """A record's value as JSON can carry it (dates and times as ISO 8601, decimals as numbers,
    UUIDs as text); RecordInvalid for what has no faithful form (NaN, infinity, bytes…)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | Decimal):
        if not math.isfinite(value):
            raise RecordInvalid("invalid_number", f"{value} cannot be written", field=field)
        return float(value) if isinstance(value, Decimal) else value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [plain_value(item, field) for item in value]
    if isinstance(value, Mapping):
        return {str(key): plain_value(item, field) for key, item in value.items()}
    raise RecordInvalid(
        "unsupported_value", f"a {type(value).__name__} value cannot be written", field=field
    )


def plain_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Every field of a record made plain, its name checked (text, no line breaks)."""
    plain: dict[str, Any] = {}
    for name, value in fields.items():
        if not isinstance(name, str) or not name or len(name) > MAX_FIELD_NAME:
            raise RecordInvalid(
                "invalid_field_name",
                f"field names are 1 to {MAX_FIELD_NAME} characters",
                field=str(name)[:MAX_FIELD_NAME],
            )
        if any(char in name for char in "\r\n\x00"):
            raise RecordInvalid("invalid_field_name", "a field name holds a line break", field=name)
        plain[name] = plain_value(value, name)
    return plain


def csv_cell(value: Any) -> str:
    """One CSV cell: empty for null, `true`/`false`, numbers as written, lists and objects as
    compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def csv_line(values: Iterable[str]) -> str:
    """One CSV line (RFC 4180: comma, double quotes when needed, CRLF)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(list(values))
    return buffer.getvalue()


def ndjson_line(fields: Mapping[str, Any]) -> str:
    """One NDJSON line: the record's fields as a JSON object."""
    # Plain values only (`plain_fields`): orjson writes them as json.dumps would, faster;
    # json.dumps takes what orjson refuses (an integer past 64 bits).
    try:
        return orjson.dumps(fields).decode("utf-8") + "\n"
    except TypeError:
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":")) + "\n"


def validate_file_name(pattern: str) -> str:
    """The pattern, when it names one file: known placeholders only, no `/`, `\\` or `..`,
    not ending in `.part`; ValueError otherwise."""
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as error:
        raise ValueError(f"unbalanced braces: {error}") from error
    for literal, name, spec, conversion in parsed:
        if any(char in literal for char in "/\\\x00") or ".." in literal:
            raise ValueError("a file name, not a path: no '/', '\\' or '..'")
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            known = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            raise ValueError(f"unknown placeholder {{{name}}}: use {known}")
    sample = file_name(pattern, orchestration="o", run_id="r", started_at=None, ext="csv")
    if sample.startswith(".") or sample.endswith(PART_SUFFIX):
        raise ValueError(f"the name may not start with '.' or end with {PART_SUFFIX!r}")
    return pattern


def safe_part(text: str, fallback: str) -> str:
    """Text made safe inside a file name: letters, digits, `.`, `_` and `-`, no `..`."""
    cleaned = _UNSAFE.sub("-", text).strip("-.")
    cleaned = re.sub(r"\.{2,}", ".", cleaned)[:100]
    return cleaned or fallback


def file_name(
    pattern: str, *, orchestration: str, run_id: str, started_at: datetime | None, ext: str
) -> str:
    """The run's file name from the pattern: the same for every attempt of one run (a
    resumed run rewrites the same file), never a path."""
    moment = (started_at or datetime.now(UTC)).astimezone(UTC)
    name = pattern.format(
        orchestration=safe_part(orchestration, "orchestration"),
        date=moment.strftime("%Y%m%d"),
        time=moment.strftime("%H%M%S"),
        run=safe_part(run_id, "run"),
        ext=ext,
    )
    if "/" in name or "\\" in name or ".." in name or name in {"", "."}:
        raise ValueError(f"the file name pattern made {name!r}, which is not one file name")
    return name
