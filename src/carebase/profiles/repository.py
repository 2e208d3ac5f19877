"""Every SQL statement of the profiles domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from carebase.models import SupportAttributes

_CHUNK = 500


def replace_attributes(session: Session, rows: dict[str, dict[str, Any]]) -> None:
    """Store freshly computed attributes, replacing the old ones."""
    ids = sorted(rows)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        session.execute(delete(SupportAttributes).where(SupportAttributes.profile_id.in_(chunk)))
    if ids:
        session.execute(
            insert(SupportAttributes), [{"profile_id": pid, **rows[pid]} for pid in ids]
        )


def delete_attributes(session: Session, profile_id: str) -> None:
    """Drop one profile's attributes."""
    session.execute(delete(SupportAttributes).where(SupportAttributes.profile_id == profile_id))


def get_attributes(session: Session, profile_id: str) -> SupportAttributes | None:
    """One profile's stored attributes."""
    return session.scalar(
        select(SupportAttributes).where(SupportAttributes.profile_id == profile_id)
    )
