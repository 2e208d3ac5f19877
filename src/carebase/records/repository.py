"""Every SQL statement on stored records."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, case, func, select, update
from sqlalchemy.orm import Session

from carebase.db import bulk
from carebase.models import Ticket
from carebase.models.base import table

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
) -> dict[str, dict[str, Any]]:
    """{pk, ticket_id, action_at, content_hash, profile_id} of stored tickets, by ticket_id."""
    rows = bulk.select_in(
        session,
        table(Ticket),
        ["pk", "ticket_id", "action_at", "content_hash", "profile_id"],
        "ticket_id",
        ticket_ids,
        where={"dataset_id": dataset_id},
    )
    return {row["ticket_id"]: row for row in rows}


def insert_tickets(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert new tickets."""
    if rows:
        bulk.insert_rows(session, table(Ticket), rows)


def update_tickets(session: Session, rows: list[dict[str, Any]]) -> None:
    """Overwrite stored tickets (each row carries its `_pk`)."""
    if rows:
        session.connection().execute(_UPDATE_TICKET, rows)


ATTRIBUTE_INPUTS = (
    "profile_id",
    "ticket_id",
    "action_at",
    "created_at",
    "closed_at",
    "status",
    "satisfaction_score",
    "duration",
    "first_reply_time",
    "channel_types",
    "tags",
    "agents",
)


def attribute_inputs(session: Session, profile_ids: Iterable[str]) -> list[dict[str, Any]]:
    """What attributes are computed from, for every ticket of `profile_ids`."""
    return bulk.select_in(session, table(Ticket), ATTRIBUTE_INPUTS, "profile_id", list(profile_ids))


_RECENT = (
    select(table(Ticket))
    .where(Ticket.profile_id == bindparam("profile_id"))
    .order_by(Ticket.created_at.desc(), Ticket.pk.desc())
    .limit(bindparam("limit"))
)
_CREATED = table(Ticket).c.created_at
_WINDOWS = select(
    func.coalesce(
        func.sum(case((bindparam("near", type_=_CREATED.type) <= _CREATED, 1), else_=0)), 0
    ),
    func.count(),
).where(
    Ticket.profile_id == bindparam("profile_id"),
    bindparam("far", type_=_CREATED.type) <= _CREATED,
)


def recent_tickets(session: Session, profile_id: str, limit: int) -> Sequence[Row[Any]]:
    """A profile's tickets, newest created first."""
    params = {"profile_id": profile_id, "limit": limit}
    return session.connection().execute(_RECENT, params).all()


def window_counts(
    session: Session, profile_id: str, near: datetime, far: datetime
) -> tuple[int, int]:
    """How many of a profile's tickets were created since `near`, and since `far` (earlier)."""
    params = {"profile_id": profile_id, "near": near, "far": far}
    row = session.connection().execute(_WINDOWS, params).one()
    return int(row[0]), int(row[1])


def dataset_totals(session: Session, dataset_id: str) -> tuple[int, int]:
    """(records, distinct profiles) in one dataset."""
    row = session.execute(
        select(func.count(), func.count(func.distinct(Ticket.profile_id))).where(
            Ticket.dataset_id == dataset_id
        )
    ).one()
    return int(row[0]), int(row[1])
