"""Datasets and the ingestion log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from carebase.models.base import Base, UTCDateTime
from carebase.models.types import JSONType


class Dataset(Base):
    """A named stream of records of one record type."""

    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    record_type: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IngestionLog(Base):
    """One entry per batch or file: what arrived, what was kept, every rejection and why."""

    __tablename__ = "ingestion_logs"
    __table_args__ = (Index("ix_ingestion_logs_dataset_id_id", "dataset_id", "id"),)

    # ULID ids sort by time, so "newest first" is an index scan on the key.
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    token_id: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_ms: Mapped[float] = mapped_column()
    received: Mapped[int] = mapped_column(Integer)
    created: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)
    rejections: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
