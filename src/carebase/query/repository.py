"""Every SQL statement on saved queries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from carebase.models import Orchestration, SavedQuery
from carebase.models.base import table

_QUERIES = table(SavedQuery)


def add(session: Session, values: dict[str, Any]) -> None:
    """Insert a saved query."""
    session.execute(_QUERIES.insert().values(**values))


def get(session: Session, query_id: str) -> dict[str, Any] | None:
    """One saved query by id, or None."""
    row = session.execute(select(_QUERIES).where(_QUERIES.c.id == query_id)).mappings().first()
    return dict(row) if row is not None else None


def lock(session: Session, query_id: str, *, shared: bool = False) -> bool:
    """Lock a saved query's row until the transaction ends (shared: it may not be deleted
    meanwhile; exclusive: no orchestration may start using it meanwhile); whether it exists."""
    statement = select(_QUERIES.c.id).where(_QUERIES.c.id == query_id)
    return session.execute(statement.with_for_update(read=shared)).first() is not None


def orchestrations_using(session: Session, query_id: str) -> list[str]:
    """The ids of the orchestrations whose source is this saved query."""
    statement = select(Orchestration.id).where(
        Orchestration.source_type == "query", Orchestration.source_id == query_id
    )
    return sorted(str(found) for found in session.execute(statement).scalars())


def name_taken(session: Session, name: str, *, other_than: str | None = None) -> bool:
    """Whether another saved query already has this name."""
    statement = select(_QUERIES.c.id).where(_QUERIES.c.name == name)
    if other_than is not None:
        statement = statement.where(_QUERIES.c.id != other_than)
    return session.execute(statement.limit(1)).first() is not None


def page(session: Session, *, after: tuple[str, str] | None, limit: int) -> list[dict[str, Any]]:
    """Saved queries by name, then id, after the keyset `(name, id)`."""
    statement = select(_QUERIES).order_by(_QUERIES.c.name, _QUERIES.c.id).limit(limit)
    if after is not None:
        name, query_id = after
        statement = statement.where(
            (_QUERIES.c.name > name) | ((_QUERIES.c.name == name) & (_QUERIES.c.id > query_id))
        )
    return [dict(row) for row in session.execute(statement).mappings()]


def set_fields(session: Session, query_id: str, **values: Any) -> None:
    """Change a saved query's fields."""
    session.execute(update(_QUERIES).where(_QUERIES.c.id == query_id).values(**values))


def remove(session: Session, query_id: str) -> None:
    """Delete a saved query."""
    session.execute(delete(_QUERIES).where(_QUERIES.c.id == query_id))
