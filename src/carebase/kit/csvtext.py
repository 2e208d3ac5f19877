"""CSV for people: cells a spreadsheet shows as written (never runs as a formula), and lines
in RFC 4180's shape (comma, double quotes when needed, CRLF)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import orjson

# Leading characters a spreadsheet would read as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> str:
    """One cell: empty for null, `true`/`false`, ISO 8601 dates, compact sorted JSON for
    objects and lists, and text that would start a formula kept as text (a leading `'`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        # A customer's name or email typed as `=HYPERLINK(…)` stays text in a spreadsheet.
        return "'" + text
    return text


def csv_lines(rows: Iterable[Sequence[str]]) -> str:
    """Rows of cells as CSV text."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()
