"""A profile's tickets and events as one time-ordered stream (every SQL statement of it).

A ticket sits in the stream at its `timeline.created_at` (when the conversation began);
an event at its `action_at`. Ties are broken by source and row key, so a cursor (the last
item's position) pages through without skipping or repeating.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, literal, or_, select, union_all
from sqlalchemy.orm import Session

from carebase.db import bulk
from carebase.models import Event, Ticket
from carebase.models.base import table

TICKETS = "customer_support_ticket"
_TICKET_SOURCE, _EVENT_SOURCE = "t", "e"


@dataclass(frozen=True, slots=True)
class Position:
    """Where an item sits in the stream."""

    at: datetime
    source: str
    pk: int


def page(
    session: Session,
    profile_id: str,
    *,
    record_types: Sequence[str],
    newest_first: bool,
    after: Position | None,
    limit: int,
) -> list[tuple[Position, str, dict[str, Any]]]:
    """Up to `limit` items after `after`: (position, record_type, stored row)."""
    tickets, events = table(Ticket), table(Event)
    parts = []
    if TICKETS in record_types:
        parts.append(
            select(
                literal(_TICKET_SOURCE).label("source"),
                tickets.c.pk.label("pk"),
                tickets.c.created_at.label("at"),
                literal(TICKETS).label("record_type"),
            ).where(tickets.c.profile_id == profile_id)
        )
    event_types = [name for name in record_types if name != TICKETS]
    if event_types:
        parts.append(
            select(
                literal(_EVENT_SOURCE).label("source"),
                events.c.pk.label("pk"),
                events.c.action_at.label("at"),
                events.c.record_type.label("record_type"),
            ).where(events.c.profile_id == profile_id, events.c.record_type.in_(event_types))
        )
    if not parts:
        return []
    stream = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    query = select(stream)
    if after is not None:
        before = operator.lt if newest_first else operator.gt
        query = query.where(
            or_(
                before(stream.c.at, after.at),
                and_(
                    stream.c.at == after.at,
                    or_(
                        before(stream.c.source, after.source),
                        and_(stream.c.source == after.source, before(stream.c.pk, after.pk)),
                    ),
                ),
            )
        )
    order = [stream.c.at, stream.c.source, stream.c.pk]
    query = query.order_by(*(column.desc() if newest_first else column for column in order))
    found = session.execute(query.limit(limit)).all()
    rows = _rows(session, found)
    return [
        (Position(item.at, item.source, item.pk), item.record_type, rows[(item.source, item.pk)])
        for item in found
    ]


def _rows(session: Session, found: Sequence[Any]) -> dict[tuple[str, int], dict[str, Any]]:
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for source, model in ((_TICKET_SOURCE, Ticket), (_EVENT_SOURCE, Event)):
        keys = [item.pk for item in found if item.source == source]
        if keys:
            model_table = table(model)
            columns = [column.name for column in model_table.columns]
            for row in bulk.select_in(session, model_table, columns, "pk", keys):
                rows[(source, row["pk"])] = row
    return rows
