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

from sqlalchemy import and_, literal, literal_column, or_, select, union_all
from sqlalchemy.orm import Session

from carebase.db import bulk
from carebase.models import Event, Mention, Response, Ticket
from carebase.models.base import table

TICKETS = "customer_support_ticket"
# Inbound messages of the agent inbox, with the responses sent to each.
MENTIONS = "mention"
_TICKET_SOURCE, _EVENT_SOURCE = "t", "e"
# A mention's key is text, not a number: its source is `m:<mention id>` (its pk is 0), which
# keeps (at, source, pk) unique and a cursor's shape unchanged.
_MENTION_PREFIX = "m:"


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
    if MENTIONS in record_types:
        mentions = table(Mention)
        parts.append(
            select(
                (literal(_MENTION_PREFIX) + mentions.c.id).label("source"),
                literal_column("0").label("pk"),
                mentions.c.published_at.label("at"),
                literal(MENTIONS).label("record_type"),
            ).where(mentions.c.profile_id == profile_id)
        )
    event_types = [name for name in record_types if name not in (TICKETS, MENTIONS)]
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
    mention_ids = [item.source[2:] for item in found if item.source.startswith(_MENTION_PREFIX)]
    if mention_ids:
        for mention_id, row in _mentions(session, mention_ids).items():
            rows[(_MENTION_PREFIX + mention_id, 0)] = row
    return rows


def _mentions(session: Session, mention_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Mentions by id, each with the responses sent to the customer (private notes and
    drafts are the agents' own)."""
    mentions, responses = table(Mention), table(Response)
    columns = [column.name for column in mentions.columns]
    found = {
        row["id"]: row for row in bulk.select_in(session, mentions, columns, "id", mention_ids)
    }
    for row in found.values():
        row["responses"] = []
    sent = session.execute(
        select(
            responses.c.id,
            responses.c.mention_id,
            responses.c.body,
            responses.c.author_id,
            responses.c.agent_name,
            responses.c.sent_at,
        )
        .where(
            responses.c.mention_id.in_(mention_ids),
            responses.c.status == "sent",
            responses.c.private.is_(False),
        )
        .order_by(responses.c.sent_at, responses.c.id)
    )
    for response in sent.mappings():
        found[response["mention_id"]]["responses"].append(dict(response))
    return found
