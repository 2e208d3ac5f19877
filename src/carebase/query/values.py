"""Result values made JSON-safe and the same on both engines: timestamps as ISO 8601 in UTC,
JSON as JSON, booleans as booleans, numbers as numbers; and the CSV rendering of a result."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

# How SQLite holds a carebase timestamp (`models.base.UTCDateTime`).
_SQLITE_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?$")
_TIMESTAMP_TYPES = frozenset({"TIMESTAMPTZ", "TIMESTAMP", "DATETIME", "TIMESTAMPLTZ"})


def json_safe(value: Any, kind: str = "UNKNOWN", *, stored_text: bool = True) -> Any:
    """One value as the API answers it; `kind` is the gate's type for its column, which says
    how SQLite's text and integers are meant (`stored_text`; PostgreSQL's rows come typed)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return bool(value) if kind == "BOOLEAN" and stored_text else value
    if isinstance(value, str):
        return _sqlite_text(value, kind) if stored_text else value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        stamped = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return stamped.astimezone(UTC).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return str(value)


def _sqlite_text(value: str, kind: str) -> Any:
    if kind in _TIMESTAMP_TYPES and _SQLITE_TIMESTAMP.match(value):
        return datetime.fromisoformat(value).replace(tzinfo=UTC).isoformat()
    if kind == "JSON":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def rows_json_safe(
    rows: Sequence[Sequence[Any]], types: Sequence[str], *, stored_text: bool = True
) -> list[list[Any]]:
    """Every row's values made JSON-safe by their column's type."""
    width = len(types)
    return [
        [
            json_safe(value, types[index] if index < width else "UNKNOWN", stored_text=stored_text)
            for index, value in enumerate(row)
        ]
        for row in rows
    ]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def csv_chunks(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Iterator[str]:
    """The result as CSV text (a header, then a line per row), in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for index, row in enumerate(rows):
        writer.writerow([_csv_cell(value) for value in row])
        if index % 500 == 499:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
