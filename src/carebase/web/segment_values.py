"""The segment builder's values: what people type in a condition's box, read as a
definition's JSON value, and written back; and the words the builder uses for operators."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from carebase.segments import fields as f

# Operators as people read them, after the field's label.
OPERATOR_WORDS: dict[str, str] = {
    f.EQ: "is",
    f.NE: "is not",
    f.IN: "is one of",
    f.CONTAINS: "contains",
    f.GT: "is more than",
    f.GTE: "is at least",
    f.LT: "is less than",
    f.LTE: "is at most",
    f.BETWEEN: "is between",
    f.IS_SET: "is known",
    f.IS_NOT_SET: "is not known",
    f.WITHIN_LAST_DAYS: "is within the last … days",
}
# Times read better as before and after.
TIME_WORDS: dict[str, str] = {
    f.GT: "is after",
    f.GTE: "is on or after",
    f.LT: "is before",
    f.LTE: "is on or before",
}
COUNT_WORDS: dict[str, str] = {
    f.GTE: "at least",
    f.GT: "more than",
    f.EQ: "exactly",
    f.NE: "not exactly",
    f.LTE: "at most",
    f.LT: "fewer than",
}


def operator_word(kind: str, op: str) -> str:
    """`gt` on a timestamp → `is after`; on a number → `is more than`."""
    if kind in (f.TIMESTAMP, f.DATE) and op in TIME_WORDS:
        return TIME_WORDS[op]
    return OPERATOR_WORDS.get(op, op)


def value_hint(kind: str, op: str) -> str:
    """What to type in the value box, for its label's description."""
    if op in f.PRESENCE:
        return ""
    if op == f.WITHIN_LAST_DAYS:
        return "a number of days"
    if op == f.IN:
        return "values separated by commas"
    pair = op == f.BETWEEN
    single = {
        f.TIMESTAMP: "a date, YYYY-MM-DD",
        f.DATE: "a date, YYYY-MM-DD",
        f.INTEGER: "a whole number",
        f.NUMBER: "a number",
        f.MONEY: "an amount and currency, like 500 AUD",
        f.BOOLEAN: "yes or no",
    }.get(kind, "")
    if pair:
        return f"two of: {single or 'text'}, separated by a comma"
    return single


class _Bad(ValueError):
    """A value that cannot be read; its message is for the person who typed it."""


def read_number(text: str, *, whole: bool) -> int | float:
    cleaned = text.strip().replace(",", "").replace(" ", "")
    try:
        number = float(cleaned)
    except ValueError:
        raise _Bad("Enter a whole number." if whole else "Enter a number.") from None
    if not math.isfinite(number):
        raise _Bad("Enter a number.")
    if number.is_integer():
        return int(number)
    if whole:
        raise _Bad("Enter a whole number.")
    return number


def _money(text: str) -> dict[str, Any]:
    parts = text.replace(",", "").split()
    amounts = [p for p in parts if re.fullmatch(r"-?\d+(\.\d+)?", p)]
    currencies = [p for p in parts if re.fullmatch(r"[A-Za-z]{3}", p)]
    if len(parts) != 2 or len(amounts) != 1 or len(currencies) != 1:
        raise _Bad("Enter an amount and a currency, like 500 AUD.")
    return {"currency": currencies[0].upper(), "amount": read_number(amounts[0], whole=False)}


def _timestamp(text: str, zone: ZoneInfo) -> str:
    cleaned = text.strip()
    try:
        day = date.fromisoformat(cleaned)
    except ValueError:
        try:
            moment = datetime.fromisoformat(cleaned)
        except ValueError:
            raise _Bad("Enter a date, like 2026-01-31.") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.isoformat()
    # A day means its start in the viewer's time zone.
    return datetime.combine(day, time(0), tzinfo=zone).isoformat()


def _scalar(kind: str, text: str, zone: ZoneInfo) -> Any:
    cleaned = text.strip()
    if not cleaned:
        raise _Bad("Enter a value.")
    if kind == f.INTEGER:
        return read_number(cleaned, whole=True)
    if kind == f.NUMBER:
        return read_number(cleaned, whole=False)
    if kind == f.STRING_OR_NUMBER:
        try:
            return read_number(cleaned, whole=False)
        except _Bad:
            return cleaned
    if kind == f.BOOLEAN:
        lowered = cleaned.lower()
        if lowered in {"yes", "true"}:
            return True
        if lowered in {"no", "false"}:
            return False
        raise _Bad("Choose yes or no.")
    if kind == f.MONEY:
        return _money(cleaned)
    if kind == f.TIMESTAMP:
        return _timestamp(cleaned, zone)
    return cleaned


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def condition_value(kind: str, op: str, text: str, zone: ZoneInfo) -> Any:
    """The JSON value of `op` on a field of type `kind`, from what was typed; ValueError with
    a message for people when it cannot be read."""
    if op in f.PRESENCE:
        return None
    if op == f.WITHIN_LAST_DAYS:
        return read_number(text, whole=True) if text.strip() else _raise("Enter a number of days.")
    element = f.STRING if kind == f.STRING_LIST else kind
    if op == f.IN:
        parts = _split(text)
        if not parts:
            raise _Bad("Enter one or more values, separated by commas.")
        return [_scalar(element, part, zone) for part in parts]
    if op == f.BETWEEN:
        parts = _split(text.replace(" and ", ",")) if kind != f.MONEY else _split(text)
        if len(parts) != 2:
            raise _Bad("Enter two values separated by a comma, low first.")
        return [_scalar(element, part, zone) for part in parts]
    return _scalar(element, text, zone)


def _raise(message: str) -> Any:
    raise _Bad(message)


def value_text(kind: str, value: Any) -> str:
    """A definition's value as the builder's text box shows it (read back by condition_value)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value_text(kind, each) for each in value)
    if isinstance(value, dict) and set(value) == {"currency", "amount"}:
        return f"{value_text(f.NUMBER, value['amount'])} {value['currency']}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def fits_text_box(value: Any) -> bool:
    """Whether a value can be written back into one text box and read the same."""
    if isinstance(value, list):
        return all(fits_text_box(each) and not isinstance(each, list) for each in value) and not (
            any(isinstance(each, str) and "," in each for each in value)
        )
    return not isinstance(value, dict) or set(value) == {"currency", "amount"}
