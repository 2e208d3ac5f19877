"""Purchases and returns: orders with product lines, feeding the commerce attributes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from carebase.recordtypes.lexer import LexerFormat
from carebase.recordtypes.registry import HistoryLine, RecordType


def _line(name: str) -> HistoryLine:
    def history_line(row: Mapping[str, Any]) -> str:
        """`Purchase P1 — 3 items, 120.00 AUD (Sydney)` from a stored event row."""
        record = row["record"]
        lines = record.get("products") or []
        items = sum(abs(int(line.get("quantity", 0))) for line in lines)
        total = sum(float(line.get("price_paid", 0)) for line in lines)
        currency = record.get("currency") or ""
        key = record.get("purchase_id") or record.get("return_id")
        where = (record.get("store") or {}).get("name") or record.get("type")
        amount = f"{abs(total):.2f} {currency.upper()}".strip()
        line = f"{name} {key} — {items} item{'s' if items != 1 else ''}, {amount}"
        return f"{line} ({where})" if where else line

    return history_line


def _order(name: str, summary: str) -> RecordType:
    key_field = f"{name}_id"
    # The newest purchase model requires at least one product line.
    additions = ((("properties", "products"), "minItems", 1),) if name == "purchase" else ()
    form = LexerFormat(
        name, "event", key_field, (f"{name}.json", f"{name}.jsonschema"), (), additions
    )
    return RecordType(
        name=name,
        summary=summary,
        kind="event",
        parse=form.parse,
        openapi=form.openapi,
        schema=form.schema,
        id_field=key_field,
        timestamp_field="action_at",
        feeds=("commerce",),
        history_line=_line(name.title()),
    )


PURCHASE = _order("purchase", "An order with its lines; keyed by purchase_id.")
RETURN = _order("return", "A return (negative lines); keyed by return_id.")
