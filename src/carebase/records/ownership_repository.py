"""Which profile a stored record belongs to, read and changed record by record: what
undoing a merge needs to send each record back where its own links point."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from carebase.db import bulk
from carebase.models import CustomerRecord, Event, Ticket
from carebase.models.base import table

# Each profile-owned record table, by the name `RecordLinks.source` carries.
SOURCES = {"tickets": Ticket, "events": Event, "customer_records": CustomerRecord}


def link_objects(session: Session, profile_id: str) -> list[tuple[str, int, list[dict[str, Any]]]]:
    """(source, pk, the record's link objects as given) of every record on a profile."""
    found: list[tuple[str, int, list[dict[str, Any]]]] = []
    connection = session.connection()
    for pk, link in connection.execute(
        select(Ticket.pk, Ticket.link).where(Ticket.profile_id == profile_id)
    ):
        found.append(("tickets", pk, [link] if isinstance(link, dict) else []))
    for pk, record in connection.execute(
        select(Event.pk, Event.record).where(Event.profile_id == profile_id)
    ):
        link = record.get("link") if isinstance(record, dict) else None
        found.append(("events", pk, [link] if isinstance(link, dict) else []))
    rows = connection.execute(
        select(
            CustomerRecord.pk,
            CustomerRecord.link_type,
            CustomerRecord.system_name,
            CustomerRecord.link_value,
        ).where(CustomerRecord.profile_id == profile_id)
    )
    for pk, link_type, system_name, value in rows:
        link = {link_type: value, **({"system_name": system_name} if system_name else {})}
        found.append(("customer_records", pk, [link]))
    return found


def reassign(session: Session, source: str, pks: Iterable[int], profile_id: str) -> None:
    """Give records of one table to a profile."""
    records = table(SOURCES[source])
    for chunk in bulk.chunks(sorted(set(pks))):
        session.connection().execute(
            update(records).where(records.c.pk.in_(chunk)).values(profile_id=profile_id)
        )
