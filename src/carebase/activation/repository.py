"""Every SQL statement of destinations and orchestrations (runs: runs_repository)."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Row, delete, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carebase.models.activation import Destination, Orchestration
from carebase.models.base import table

DESTINATIONS = table(Destination)
ORCHESTRATIONS = table(Orchestration)


def _unique_violation(error: IntegrityError) -> bool:
    if isinstance(error.orig, sqlite3.IntegrityError):
        return "UNIQUE constraint failed" in str(error.orig)
    return getattr(error.orig, "sqlstate", None) == "23505"


def _guarded(session: Session, statement: Any, values: Any = None) -> bool:
    """Run a write in a savepoint; False (the rest of the transaction intact) when a unique
    constraint refuses it, as a concurrent create of the same name does."""
    try:
        with session.begin_nested():
            if values is None:
                session.execute(statement)
            else:
                session.execute(statement, values)
    except IntegrityError as error:
        if not _unique_violation(error):
            raise
        return False
    return True


# -- destinations ---------------------------------------------------------------------------


def insert_destination(session: Session, row: dict[str, Any]) -> bool:
    """Add a destination; False when its name is taken."""
    return _guarded(session, insert(DESTINATIONS), [row])


def get_destination(session: Session, destination_id: str) -> Row[Any] | None:
    """One destination's row (secrets still encrypted)."""
    return session.execute(select(DESTINATIONS).where(DESTINATIONS.c.id == destination_id)).first()


def destination_id_of_name(session: Session, name: str) -> str | None:
    """The id of the destination called `name`, if any."""
    found = session.execute(select(DESTINATIONS.c.id).where(DESTINATIONS.c.name == name)).scalar()
    return None if found is None else str(found)


def destinations_page(
    session: Session, after: tuple[str, str] | None, limit: int
) -> list[Row[Any]]:
    """Up to `limit` destinations by name after the keyset (name, id)."""
    statement = select(DESTINATIONS).order_by(DESTINATIONS.c.name, DESTINATIONS.c.id)
    if after is not None:
        statement = statement.where(tuple_(DESTINATIONS.c.name, DESTINATIONS.c.id) > after)
    return list(session.execute(statement.limit(limit)).all())


def update_destination(session: Session, destination_id: str, values: dict[str, Any]) -> bool:
    """Change a destination's columns; False when its new name is taken."""
    statement = update(DESTINATIONS).where(DESTINATIONS.c.id == destination_id).values(values)
    return _guarded(session, statement)


def delete_destination(session: Session, destination_id: str) -> bool:
    """Delete a destination; whether it existed."""
    result = session.execute(delete(DESTINATIONS).where(DESTINATIONS.c.id == destination_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def orchestrations_using(session: Session, destination_id: str) -> list[tuple[str, str]]:
    """(id, name) of the orchestrations sending to a destination."""
    rows = session.execute(
        select(ORCHESTRATIONS.c.id, ORCHESTRATIONS.c.name)
        .where(ORCHESTRATIONS.c.destination_id == destination_id)
        .order_by(ORCHESTRATIONS.c.name)
    ).all()
    return [(str(row.id), str(row.name)) for row in rows]


# -- orchestrations -------------------------------------------------------------------------


def insert_orchestration(session: Session, row: dict[str, Any]) -> bool:
    """Add an orchestration; False when its name is taken."""
    return _guarded(session, insert(ORCHESTRATIONS), [row])


def get_orchestration(session: Session, orchestration_id: str) -> Row[Any] | None:
    """One orchestration's row."""
    return session.execute(
        select(ORCHESTRATIONS).where(ORCHESTRATIONS.c.id == orchestration_id)
    ).first()


def orchestration_id_of_name(session: Session, name: str) -> str | None:
    """The id of the orchestration called `name`, if any."""
    found = session.execute(
        select(ORCHESTRATIONS.c.id).where(ORCHESTRATIONS.c.name == name)
    ).scalar()
    return None if found is None else str(found)


def orchestrations_page(
    session: Session, after: tuple[str, str] | None, limit: int
) -> list[Row[Any]]:
    """Up to `limit` orchestrations by name after the keyset (name, id)."""
    statement = select(ORCHESTRATIONS).order_by(ORCHESTRATIONS.c.name, ORCHESTRATIONS.c.id)
    if after is not None:
        statement = statement.where(tuple_(ORCHESTRATIONS.c.name, ORCHESTRATIONS.c.id) > after)
    return list(session.execute(statement.limit(limit)).all())


def update_orchestration(session: Session, orchestration_id: str, values: dict[str, Any]) -> bool:
    """Change an orchestration's columns (bumping its revision); False when its new name is
    taken."""
    statement = (
        update(ORCHESTRATIONS)
        .where(ORCHESTRATIONS.c.id == orchestration_id)
        .values(revision=ORCHESTRATIONS.c.revision + 1, **values)
    )
    return _guarded(session, statement)


def delete_idle_orchestration(session: Session, orchestration_id: str) -> bool:
    """Delete an orchestration with no run in progress (checked in the same statement, so a
    run starting meanwhile keeps it); whether it was deleted. Its runs, their records and its
    diff state go with it (foreign keys cascade)."""
    result = session.execute(
        delete(ORCHESTRATIONS).where(
            ORCHESTRATIONS.c.id == orchestration_id, ORCHESTRATIONS.c.active_run_id.is_(None)
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
