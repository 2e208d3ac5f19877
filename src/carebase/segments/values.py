"""The values a condition's operator takes, checked and put into canonical form: a
timestamp as UTC ISO 8601 with `Z`, a currency code upper-cased, `between` as `[low, high]`."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any

from carebase.attributes.commerce import UNSPECIFIED
from carebase.segments import fields as f

MAX_LIST_VALUES = 100
MAX_TEXT = 1000
MAX_DAYS = 36_600
_CURRENCY = re.compile(r"^[A-Za-z0-9_]{1,20}$")


def canonical_value(kind: str, op: str, value: Any) -> Any:
    """The value an operator takes on a field of type `kind`, in canonical form; ValueError
    with the reason when it does not fit."""
    if op in f.PRESENCE:
        if value is not None:
            raise ValueError(f"must be absent (or null) for {op}")
        return None
    if op == f.WITHIN_LAST_DAYS:
        if not _is_int(value) or not 1 <= value <= MAX_DAYS:
            raise ValueError(f"must be a whole number of days between 1 and {MAX_DAYS}")
        return value
    element = f.STRING if kind == f.STRING_LIST else kind
    if op == f.IN:
        if not isinstance(value, list) or not value:
            raise ValueError("must be a non-empty list of values")
        if len(value) > MAX_LIST_VALUES:
            raise ValueError(f"may list at most {MAX_LIST_VALUES} values")
        return [_scalar(element, each, op) for each in value]
    if op == f.BETWEEN:
        if not isinstance(value, list) or len(value) != 2:
            raise ValueError("must be a list of two values, [low, high]")
        low, high = (_scalar(element, each, op) for each in value)
        if kind == f.MONEY and low["currency"] != high["currency"]:
            raise ValueError("must give both amounts in the same currency")
        if _order_key(kind, low) > _order_key(kind, high):
            raise ValueError("must have low ≤ high")
        return [low, high]
    return _scalar(element, value, op)


def _order_key(kind: str, value: Any) -> Any:
    return value["amount"] if kind == f.MONEY else value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return _is_int(value)


def _scalar(kind: str, value: Any, op: str) -> Any:
    if kind == f.STRING:
        if not isinstance(value, str) or (op == f.CONTAINS and not value):
            raise ValueError(
                "must be a (non-empty) string" if op == f.CONTAINS else "must be a string"
            )
        if len(value) > MAX_TEXT:
            raise ValueError(f"must be at most {MAX_TEXT} characters")
        return value
    if kind == f.INTEGER:
        if not _is_int(value):
            raise ValueError("must be a whole number")
        return value
    if kind == f.NUMBER:
        if not _is_number(value):
            raise ValueError("must be a number")
        return value
    if kind == f.STRING_OR_NUMBER:
        if op in f.ORDERING:
            if not _is_number(value):
                raise ValueError(f"must be a number for {op} (only numeric scores are ordered)")
            return value
        if _is_number(value):
            return value
        return _scalar(f.STRING, value, op)
    if kind == f.BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if kind == f.TIMESTAMP:
        return _timestamp(value).isoformat().replace("+00:00", "Z")
    if kind == f.DATE:
        if not isinstance(value, str):
            raise ValueError("must be a date, YYYY-MM-DD")
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValueError("must be a date, YYYY-MM-DD") from None
    if kind == f.MONEY:
        return _money(value)
    raise ValueError(f"cannot be compared ({kind})")  # pragma: no cover - registry guards it


def _timestamp(value: Any) -> datetime:
    reason = "must be an ISO 8601 timestamp with a time zone, e.g. 2026-01-31T09:00:00Z"
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError(reason)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(reason) from None
    if parsed.tzinfo is None:
        raise ValueError(reason)
    return parsed.astimezone(UTC)


def _money(value: Any) -> dict[str, Any]:
    reason = 'must be an amount in one currency, {"currency": "AUD", "amount": 500}'
    if not isinstance(value, dict) or set(value) != {"currency", "amount"}:
        raise ValueError(reason)
    currency, amount = value["currency"], value["amount"]
    if not isinstance(currency, str) or not _CURRENCY.match(currency.strip()):
        raise ValueError(reason)
    if not _is_number(amount):
        raise ValueError(reason)
    code = currency.strip().upper()
    # Amounts recorded without a currency are kept under "unspecified" (attributes/commerce).
    return {"currency": UNSPECIFIED if code == UNSPECIFIED.upper() else code, "amount": amount}


def timestamp_of(value: str) -> datetime:
    """A canonical timestamp value back as an aware datetime."""
    return _timestamp(value)
