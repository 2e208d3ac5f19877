"""Event search: events of one type in the last N days, filtered by their fields (the same
`where` trees segments use, compiled by the same code), with the profile each belongs to,
newest first — the reference's "Event Search"."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from carebase.db.plans import plan_for_values
from carebase.errors import ValidationFailed
from carebase.identity import service as identity
from carebase.kit import pagination
from carebase.segments import events_repository as repository
from carebase.segments import fields as f
from carebase.segments.compiler import where_predicate
from carebase.segments.definition import check_where, parse_where
from carebase.segments.events_schemas import EventOut, EventPage, EventSearchIn


def search_events(
    session: Session, request: EventSearchIn, *, now: datetime, window_limit_days: int
) -> EventPage:
    """One page of matching events, newest first; ValidationFailed naming the field of a bad
    request (`event`, `window_days`, `where.children[0].op`, `profile_id`, `cursor`)."""
    event = f.event_type(request.event)
    if event is None:
        names = ", ".join(each.name for each in f.event_types())
        raise ValidationFailed.on("event", f"must be one of {names}")
    window = window_limit_days if request.window_days is None else request.window_days
    if window > window_limit_days:
        raise ValidationFailed.on(
            "window_days",
            f"must be at most {window_limit_days} (this installation's event window, "
            "CAREBASE_EVENT_WINDOW_DAYS)",
        )
    condition = None
    if request.where is not None:
        where = parse_where(request.where)
        check_where(where, event)
        condition = where_predicate(where, event, now=now)
    profile_id = None
    if request.profile_id is not None:
        profile_id = identity.live_profile_id(session, request.profile_id)
        if profile_id is None:
            raise ValidationFailed.on("profile_id", "is not a profile")
    after = pagination.decode(request.cursor, datetime, int) if request.cursor else None
    plan_for_values(session)
    rows = repository.page(
        session,
        event,
        condition,
        since=now - timedelta(days=window),
        now=now,
        profile_id=profile_id,
        after=after,
        limit=request.limit + 1,
    )
    shown, following = pagination.split(
        rows, request.limit, lambda row: pagination.encode(row["occurred_at"], row["key"])
    )
    return EventPage(items=[_out(event, row) for row in shown], next_cursor=following)


def _out(event: f.EventType, row: RowMapping) -> EventOut:
    if event.name == f.TICKET:
        values = {field.name: row[field.column] for field in event.fields if field.column}
    else:
        values = {
            field.name: row["occurred_at"] if field.column else _dig(row["record"], field.path)
            for field in event.fields
        }
    return EventOut(
        event=event.name,
        id=row["id"],
        profile_id=row["profile_id"],
        occurred_at=row["occurred_at"],
        fields=values,
    )


def _dig(record: Any, path: tuple[str, ...]) -> Any:
    value = record
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value
