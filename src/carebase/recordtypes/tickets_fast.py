"""A fast path for the ticket format: plain Python checks for the common, valid shape.

`TicketEvent` (pydantic) stays the definition of the format and the only source of error
messages. `fast_ticket` accepts only a subset of what the model accepts, and for that
subset gives exactly what the model gives; anything else (an error, or a form it does not
handle: booleans as numbers, numeric strings, date-only or Unix timestamps, NaN…) returns
None and the caller asks pydantic. `tests/ingest/test_ticket_fast_path.py` compares the two.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Field names of TicketEvent, TicketLink, Timeline and Channel (the tests check they match).
EVENT_FIELDS = frozenset(
    {
        "ticket_id",
        "action_at",
        "link",
        "timeline",
        "title",
        "ticket_url",
        "description",
        "channel",
        "status",
        "tags",
        "agents",
        "satisfaction_score",
        "custom_fields",
    }
)
LINK_FIELDS = ("email", "mobile", "customer_id", "system_name")
_LINK_KEYS = frozenset(LINK_FIELDS)
TIMELINE_FIELDS = frozenset(
    {"created_at", "closed_at", "duration", "reply_time", "first_reply_time"}
)
CHANNEL_FIELDS = frozenset({"type", "name"})
_LINK_LIMITS = {"email": 320, "mobile": 64, "system_name": 100}

# ISO 8601 as the bench, the docs and every helpdesk export write it; for these the standard
# library parses exactly as pydantic does (leap seconds, hour 24, lower-case separators,
# seven-digit fractions and offsets of a day or more are left to pydantic).
_TIMESTAMP = re.compile(
    r"\d{4}-\d\d-\d\d[T ](?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?",
    re.ASCII,  # \d is 0-9 only
).fullmatch
_MINUTES_MAX = 10_000_000
# Integers as ticket ids: at most 255 characters once written out.
_ID_MIN, _ID_MAX = -(10**254), 10**255
_INT64 = 2**63


class _Slow(Exception):
    """The record is not of the common shape: pydantic decides."""


@dataclass(slots=True)
class FastTicket:
    """What `parse_ticket` takes from a validated `TicketEvent`, without the model."""

    ticket_id: str
    action_at: datetime
    link: dict[str, str]
    created_at: datetime
    closed_at: datetime | None
    duration: float | None
    reply_time: float | None
    first_reply_time: float | None
    timeline_extra: dict[str, Any]
    channel_types: list[str]
    channel_names: list[str]
    channel_extra: dict[str, Any]
    title: str | None
    ticket_url: str | None
    description: str | None
    status: str | None
    tags: list[str]
    agents: list[str]
    satisfaction_score: str | int | float | None
    custom_fields: dict[str, Any] | None
    extra: dict[str, Any]


def fast_ticket(raw: dict[str, Any]) -> FastTicket | None:
    """The ticket as `TicketEvent` would validate it, or None when pydantic must decide.

    The caller has checked that orjson can encode `raw`: every key is a string, and no
    string holds a surrogate (which pydantic refuses).
    """
    try:
        return _ticket(raw)
    except _Slow:
        return None


def _ticket(raw: dict[str, Any]) -> FastTicket:
    extra = {key: value for key, value in raw.items() if key not in EVENT_FIELDS}
    get = raw.get
    ticket_id = _ticket_id(get("ticket_id"))
    action_at = _timestamp(get("action_at"))
    link = _link(get("link"))
    timeline = get("timeline")
    if type(timeline) is not dict:
        raise _Slow
    channel = get("channel")
    if channel is None:
        types: list[str] = []
        names: list[str] = []
        channel_extra: dict[str, Any] = {}
    elif type(channel) is dict:
        types = _labels(channel.get("type", []))
        names = _labels(channel.get("name", []))
        channel_extra = {k: v for k, v in channel.items() if k not in CHANNEL_FIELDS}
    else:
        raise _Slow
    custom = get("custom_fields")
    if custom is not None:
        if type(custom) is not dict:
            raise _Slow
        custom = dict(custom)
    closed_at = timeline.get("closed_at")
    return FastTicket(
        ticket_id=ticket_id,
        action_at=action_at,
        link=link,
        created_at=_timestamp(timeline.get("created_at")),
        closed_at=None if closed_at is None else _timestamp(closed_at),
        duration=_minutes(timeline.get("duration")),
        reply_time=_minutes(timeline.get("reply_time")),
        first_reply_time=_minutes(timeline.get("first_reply_time")),
        timeline_extra={k: v for k, v in timeline.items() if k not in TIMELINE_FIELDS},
        channel_types=types,
        channel_names=names,
        channel_extra=channel_extra,
        title=_text(get("title"), 2_000),
        ticket_url=_text(get("ticket_url"), 2_083),
        description=_text(get("description"), 100_000),
        status=_text(get("status"), 100),
        tags=_labels(get("tags", [])),
        agents=_labels(get("agents", [])),
        satisfaction_score=_score(get("satisfaction_score")),
        custom_fields=custom,
        extra=extra,
    )


def _ticket_id(value: Any) -> str:
    if type(value) is int and _ID_MIN < value < _ID_MAX:
        value = str(value)
    if type(value) is not str or not 1 <= len(value) <= 255:
        raise _Slow
    return value


def _timestamp(value: Any) -> datetime:
    if type(value) is not str or _TIMESTAMP(value) is None:
        raise _Slow
    try:
        parsed = datetime.fromisoformat(value)
        # As `timestamps._utc`: no offset means UTC.
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _Slow from None


def _link(value: Any) -> dict[str, str]:
    if type(value) is not dict:
        raise _Slow
    out: dict[str, str] = {}
    for name in LINK_FIELDS:  # model_dump's order: the fields' order
        item = value.get(name)
        if item is None:
            continue
        if name == "customer_id":
            item = _ticket_id(item)
        elif type(item) is not str or len(item) > _LINK_LIMITS[name]:
            raise _Slow
        out[name] = item
    if len(value) > len(out) and not _LINK_KEYS.issuperset(value):
        raise _Slow  # an unknown key: forbidden
    if "email" not in out and "mobile" not in out:
        raise _Slow
    if "system_name" in out and "customer_id" not in out:
        raise _Slow
    return out


def _minutes(value: Any) -> float | None:
    if value is None:
        return None
    kind = type(value)
    if (kind is float or kind is int) and 0 <= value <= _MINUTES_MAX:
        return float(value)
    raise _Slow


def _text(value: Any, limit: int) -> str | None:
    if value is None or (type(value) is str and len(value) <= limit):
        return value
    raise _Slow


def _labels(value: Any) -> list[str]:
    if type(value) is str:
        value = [value]
    elif type(value) is not list or len(value) > 500:
        raise _Slow
    for item in value:
        if type(item) is not str or not 1 <= len(item) <= 255:
            raise _Slow
    return list(value)


def _score(value: Any) -> str | int | float | None:
    kind = type(value)
    if (
        value is None
        or (kind is str and len(value) <= 255)
        or (kind is int and -_INT64 < value < _INT64)
        or (kind is float and math.isfinite(value))
    ):
        return value  # type: ignore[no-any-return]
    raise _Slow
