"""Saved queries: named read-only SQL over the published views."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from carebase.models.base import Base, UTCDateTime


class SavedQuery(Base):
    """A named query, checked by the SQL gate when saved; run again by id (and, from S9, by
    activations)."""

    __tablename__ = "saved_queries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text)
    sql: Mapped[str] = mapped_column(Text)
    # The token (or user) that saved it.
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
