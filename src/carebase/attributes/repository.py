"""Every SQL statement of the attributes domain."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, case, delete, func, select
from sqlalchemy.orm import Session

from carebase.db import bulk
from carebase.models import (
    CommerceAttributes,
    CustomerAttributes,
    CustomerRecord,
    EngagementAttributes,
    SupportAttributes,
    Ticket,
)
from carebase.models.base import Base, table

# Every family's table, for deleting a profile's attributes in one place.
TABLES: tuple[Table, ...] = tuple(
    table(model)
    for model in (SupportAttributes, CommerceAttributes, EngagementAttributes, CustomerAttributes)
)
# Prebuilt: building a statement per batch costs more than running it.
_DELETE_IN = {
    attributes: delete(attributes).where(
        attributes.c.profile_id.in_(bindparam("ids", expanding=True))
    )
    for attributes in TABLES
}
_DELETE_ONE = [
    delete(attributes).where(attributes.c.profile_id == bindparam("_profile"))
    for attributes in TABLES
]
_GET_ONE = {
    attributes: select(attributes).where(attributes.c.profile_id == bindparam("profile_id"))
    for attributes in TABLES
}


def replace(
    session: Session,
    model: type[Base],
    rows: dict[str, dict[str, Any]],
    *,
    new_profiles: Collection[str] = (),
) -> None:
    """Store freshly computed rows of one family, replacing the old ones; `new_profiles`
    were created in this transaction, so they have none to delete."""
    attributes = table(model)
    ids = sorted(rows)
    stale = [profile_id for profile_id in ids if profile_id not in new_profiles]
    for chunk in bulk.chunks(stale):
        session.connection().execute(_DELETE_IN[attributes], {"ids": list(chunk)})
    for profile_id in ids:  # the rows are the caller's, built for this call
        rows[profile_id]["profile_id"] = profile_id
    bulk.insert_rows(session, attributes, [rows[profile_id] for profile_id in ids])


def rows_of(
    session: Session, model: type[Base], profile_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Stored rows of one family for `profile_ids`, by profile id (one query per 500)."""
    attributes = table(model)
    columns = [c.name for c in attributes.columns]
    found = bulk.select_in(session, attributes, columns, "profile_id", profile_ids)
    return {row["profile_id"]: row for row in found}


def row_of(session: Session, model: type[Base], profile_id: str) -> dict[str, Any] | None:
    """One profile's stored row of one family."""
    statement = _GET_ONE[table(model)]
    row = session.connection().execute(statement, {"profile_id": profile_id}).first()
    return dict(row._mapping) if row is not None else None


def delete_profiles(session: Session, profile_ids: list[str]) -> None:
    """Drop every family of attributes of these profiles."""
    params = [{"_profile": profile_id} for profile_id in profile_ids]
    for statement in _DELETE_ONE:
        session.connection().execute(statement, params)


# Customer records are the records domain's table, read here in bulk because records/ offers
# them one profile at a time; these two move there once the record-type registry lands.
_CUSTOMER_RECORD_COLUMNS = ("profile_id", "record", "updated_at", "pk")
_CHANGED_AT = (
    select(CustomerRecord.profile_id)
    .where(CustomerRecord.updated_at == bindparam("now", type_=CustomerRecord.updated_at.type))
    .distinct()
)


def customer_records(session: Session, profile_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Customer records of these profiles, each profile's least recently changed first."""
    found = bulk.select_in(
        session, table(CustomerRecord), _CUSTOMER_RECORD_COLUMNS, "profile_id", list(profile_ids)
    )
    return sorted(found, key=lambda row: (row["profile_id"], row["updated_at"], row["pk"]))


# The tickets table is the records domain's; read here grouped by profile because records/
# counts one profile at a time. Moves to records/ with the two above.
_CREATED = table(Ticket).c.created_at
_WINDOWS = (
    select(
        Ticket.profile_id,
        func.coalesce(
            func.sum(case((bindparam("near", type_=_CREATED.type) <= _CREATED, 1), else_=0)), 0
        ),
        func.count(),
    )
    .where(
        Ticket.profile_id.in_(bindparam("ids", expanding=True)),
        bindparam("far", type_=_CREATED.type) <= _CREATED,
    )
    .group_by(Ticket.profile_id)
)


def ticket_windows(
    session: Session, profile_ids: Sequence[str], near: datetime, far: datetime
) -> dict[str, tuple[int, int]]:
    """Per profile with any, its tickets created since `near`, and since `far` (earlier)."""
    found: dict[str, tuple[int, int]] = {}
    for chunk in bulk.chunks(sorted(set(profile_ids))):
        params = {"ids": list(chunk), "near": near, "far": far}
        for profile_id, recent, total in session.connection().execute(_WINDOWS, params):
            found[profile_id] = (int(recent), int(total))
    return found
