"""Stored records: support tickets (one row per conversation)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carebase.models.base import Base, UTCDateTime
from carebase.models.types import BigIntegerKey, JSONType


class Ticket(Base):
    """The winning (newest `action_at`) state of one ticket in one dataset."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("dataset_id", "ticket_id"),
        Index("ix_tickets_profile_id_created_at", "profile_id", "created_at"),
    )

    pk: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    ticket_id: Mapped[str] = mapped_column(String(255))
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    action_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration: Mapped[float | None] = mapped_column()
    reply_time: Mapped[float | None] = mapped_column()
    first_reply_time: Mapped[float | None] = mapped_column()
    status: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(Text)
    ticket_url: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    channel_types: Mapped[list[str]] = mapped_column(JSONType)
    channel_names: Mapped[list[str]] = mapped_column(JSONType)
    tags: Mapped[list[str]] = mapped_column(JSONType)
    agents: Mapped[list[str]] = mapped_column(JSONType)
    satisfaction_score: Mapped[Any] = mapped_column(JSONType, nullable=True)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONType)
    link: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # SHA-256 of the canonical event: breaks ties between events with equal action_at.
    content_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
