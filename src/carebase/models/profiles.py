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
    # Folding state: lets a new ticket update the attributes without reading the others.
    first_reply_time_sum: Mapped[float] = mapped_column()
    first_reply_time_n: Mapped[int] = mapped_column(Integer)
    duration_sum: Mapped[float] = mapped_column()
    duration_n: Mapped[int] = mapped_column(Integer)
    last_ticket_action_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_ticket_id: Mapped[str | None] = mapped_column(String(255))
    last_satisfaction_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_satisfaction_ticket_id: Mapped[str | None] = mapped_column(String(255))
