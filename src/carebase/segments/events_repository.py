"""Every SQL statement of event search."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from carebase.segments import fields as f
from carebase.segments.compiler import EVENTS, TICKETS
from carebase.segments.predicates import Predicate


def page(
    session: Session,
    event: f.EventType,
    condition: Predicate | None,
    *,
    since: datetime,
    now: datetime,
    profile_id: str | None,
    after: tuple[datetime, int] | None,
    limit: int,
) -> Sequence[RowMapping]:
    """Up to `limit` rows of the event's table in the window matching `condition`, newest
    first (time, then the table's key), after a keyset; each with `occurred_at` and `key`."""
    ticket = event.name == f.TICKET
    source = TICKETS if ticket else EVENTS
    time = source.c[event.time_field]
    columns: list[Any] = [
        source.c.pk.label("key"),
        time.label("occurred_at"),
        source.c.profile_id,
        (source.c.ticket_id if ticket else source.c.event_key).label("id"),
    ]
    if ticket:
        columns += [TICKETS.c[field.column] for field in event.fields if field.column]
    else:
        columns.append(EVENTS.c.record)
    statement = sa.select(*columns).where(time >= since, time <= now)
    if not ticket:
        statement = statement.where(EVENTS.c.record_type == event.name)
    if condition is not None:
        statement = statement.where(condition)
    if profile_id is not None:
        statement = statement.where(source.c.profile_id == profile_id)
    if after is not None:
        at, key = after
        statement = statement.where(sa.or_(time < at, sa.and_(time == at, source.c.pk < key)))
    statement = statement.order_by(time.desc(), source.c.pk.desc()).limit(limit)
    return session.execute(statement).mappings().all()
