"""Every SQL statement about notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from carebase.models import Note, User

_NOTE = Note.__table__.c
_USER = User.__table__.c
_COLUMNS = (
    _NOTE.id,
    _NOTE.profile_id,
    _NOTE.body,
    _NOTE.created_at,
    _NOTE.updated_at,
    _NOTE.deleted_at,
    _NOTE.author_id,
    _USER.first_name.label("author_first_name"),
    _USER.last_name.label("author_last_name"),
    _USER.email.label("author_email"),
)


def add(session: Session, values: dict[str, Any]) -> None:
    """Store a new note."""
    session.execute(insert(Note).values(**values))


def get(session: Session, note_id: str) -> dict[str, Any] | None:
    """One note with its author's name, deleted or not."""
    row = (
        session.execute(
            select(*_COLUMNS).join(User, _USER.id == _NOTE.author_id).where(_NOTE.id == note_id)
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def page(
    session: Session, profile_id: str, *, after: tuple[datetime, str] | None, limit: int
) -> list[dict[str, Any]]:
    """A profile's live notes, newest first (created_at, then id), after a keyset."""
    statement = (
        select(*_COLUMNS)
        .join(User, _USER.id == _NOTE.author_id)
        .where(_NOTE.profile_id == profile_id, _NOTE.deleted_at.is_(None))
        .order_by(_NOTE.created_at.desc(), _NOTE.id.desc())
        .limit(limit)
    )
    if after is not None:
        created_at, note_id = after
        statement = statement.where(
            or_(
                _NOTE.created_at < created_at,
                and_(_NOTE.created_at == created_at, _NOTE.id < note_id),
            )
        )
    return [dict(row) for row in session.execute(statement).mappings()]


def set_fields(session: Session, note_id: str, **values: Any) -> None:
    """Change a note's columns."""
    session.execute(update(Note).where(_NOTE.id == note_id).values(**values))


def purge_deleted(session: Session, profile_id: str, before: datetime) -> None:
    """Drop a profile's notes deleted before `before` (past their Undo)."""
    session.execute(
        delete(Note).where(
            _NOTE.profile_id == profile_id, _NOTE.deleted_at.is_not(None), _NOTE.deleted_at < before
        )
    )


def active_user(session: Session, user_id: int) -> bool:
    """Whether a user exists and is not archived."""
    archived = session.execute(select(_USER.archived).where(_USER.id == user_id)).scalar()
    return archived is not None and not archived
