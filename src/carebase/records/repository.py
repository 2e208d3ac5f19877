"""Every SQL statement on stored records."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, case, delete, func, insert, select, update
from sqlalchemy.orm import Session

from carebase.models import Ticket

_CHUNK = 500

_UPDATE_TICKET = (
    update(Ticket)
    .where(Ticket.pk == bindparam("_pk"))
    .values(
        {
            column: bindparam(column, type_=Ticket.__table__.c[column].type)
            for column in (
                "profile_id",
                "action_at",
                "created_at",
                "closed_at",
                "duration",
                "reply_time",
                "first_reply_time",
                "status",
                "title",
                "ticket_url",
                "description",
                "channel_types",
                "channel_names",
                "tags",
                "agents",
                "satisfaction_score",
                "custom_fields",
                "link",
                "content_hash",
                "received_at",
            )
        }
    )
)


def existing_tickets(
    session: Session, dataset_id: str, ticket_ids: Sequence[str]
) -> dict[str, Row[Any]]:
    """(pk, ticket_id, action_at, content_hash, profile_id) of stored tickets, by ticket_id."""
    found: dict[str, Row[Any]] = {}
    ids = sorted(set(ticket_ids))
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(
                Ticket.pk,
                Ticket.ticket_id,
                Ticket.action_at,
                Ticket.content_hash,
                Ticket.profile_id,
            ).where(
                Ticket.dataset_id == dataset_id, Ticket.ticket_id.in_(ids[start : start + _CHUNK])
            )
        )
        found.update({row.ticket_id: row for row in rows})
    return found


def insert_tickets(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert new tickets."""
    if rows:
        session.execute(insert(Ticket), rows)


def update_tickets(session: Session, rows: list[dict[str, Any]]) -> None:
    """Overwrite stored tickets (each row carries its `_pk`)."""
    if rows:
        session.connection().execute(_UPDATE_TICKET, rows)


def move_profile(session: Session, from_id: str, to_id: str) -> None:
    """Give every ticket of one profile to another."""
    session.execute(update(Ticket).where(Ticket.profile_id == from_id).values(profile_id=to_id))


def delete_profile(session: Session, profile_id: str) -> None:
    """Delete every ticket of a profile."""
    session.execute(delete(Ticket).where(Ticket.profile_id == profile_id))


def attribute_inputs(session: Session, profile_ids: Iterable[str]) -> Sequence[Row[Any]]:
    """What attributes are computed from, for every ticket of `profile_ids`."""
    ids = sorted(set(profile_ids))
    rows: list[Row[Any]] = []
    for start in range(0, len(ids), _CHUNK):
        rows.extend(
            session.execute(
                select(
                    Ticket.profile_id,
                    Ticket.ticket_id,
                    Ticket.action_at,
                    Ticket.created_at,
                    Ticket.closed_at,
                    Ticket.status,
                    Ticket.satisfaction_score,
                    Ticket.duration,
                    Ticket.first_reply_time,
                    Ticket.channel_types,
                    Ticket.tags,
                    Ticket.agents,
                ).where(Ticket.profile_id.in_(ids[start : start + _CHUNK]))
            ).all()
        )
    return rows


def recent_tickets(session: Session, profile_id: str, limit: int) -> Sequence[Ticket]:
    """A profile's tickets, newest created first."""
    return session.scalars(
        select(Ticket)
        .where(Ticket.profile_id == profile_id)
        .order_by(Ticket.created_at.desc(), Ticket.pk.desc())
        .limit(limit)
    ).all()


def window_counts(session: Session, profile_id: str, since: Sequence[datetime]) -> list[int]:
    """How many of a profile's tickets were created at or after each of `since`."""
    earliest = min(since)
    columns = [
        func.coalesce(func.sum(case((Ticket.created_at >= moment, 1), else_=0)), 0)
        for moment in since
    ]
    row = session.execute(
        select(*columns).where(Ticket.profile_id == profile_id, Ticket.created_at >= earliest)
    ).one()
    return [int(value) for value in row]


def dataset_totals(session: Session, dataset_id: str) -> tuple[int, int]:
    """(records, distinct profiles) in one dataset."""
    row = session.execute(
        select(func.count(), func.count(func.distinct(Ticket.profile_id))).where(
            Ticket.dataset_id == dataset_id
        )
    ).one()
    return int(row[0]), int(row[1])
