"""SQL of the system domain."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def ping(session: Session) -> None:
    """Round-trip a trivial query."""
    session.execute(text("SELECT 1"))


def schema_revision(session: Session) -> str | None:
    """The revision in alembic_version, or None."""
    return session.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
