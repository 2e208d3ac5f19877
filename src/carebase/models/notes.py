"""Notes agents leave on a profile."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from carebase.models.base import Base, UTCDateTime


class Note(Base):
    """A note on a profile, by a user. It follows the profile through merges and goes with
    it when it is forgotten; a deleted note is kept a day for Undo, then purged."""

    __tablename__ = "notes"
    # A profile's notes are read newest first, a page at a time.
    __table_args__ = (Index("ix_notes_profile_created", "profile_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    # Users are archived, never deleted: an author stays.
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
