"""Computed profile attributes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from carebase.models.base import Base, UTCDateTime
from carebase.models.types import JSONType


class SupportAttributes(Base):
    """Support attributes of one profile, recomputed in the transaction that changes its tickets."""

    __tablename__ = "support_attributes"

    profile_id: Mapped[str] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    ticket_count: Mapped[int] = mapped_column(Integer)
    open_ticket_count: Mapped[int] = mapped_column(Integer)
    first_ticket_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_ticket_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_ticket_status: Mapped[str | None] = mapped_column(String(100))
    last_satisfaction_score: Mapped[Any] = mapped_column(JSONType, nullable=True)
    avg_first_reply_time: Mapped[float | None] = mapped_column()
    avg_duration: Mapped[float | None] = mapped_column()
    channel_types: Mapped[list[str]] = mapped_column(JSONType)
    tags: Mapped[list[str]] = mapped_column(JSONType)
    agents: Mapped[list[str]] = mapped_column(JSONType)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
