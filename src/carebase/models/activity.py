"""Activity CSV exports (`mention_sla_export`): the request and its status, and the CSV
itself as zlib-compressed chunks in the database, so that any carebase process can serve a
file any worker wrote, and writing it keeps memory flat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from carebase.models.base import Base, UTCDateTime
from carebase.models.types import JSONType


class ActivityExport(Base):
    """One requested export. `token` is what the API hands out (random, unguessable); the
    download URL is signed separately and expires (activity/exports.py)."""

    __tablename__ = "activity_exports"
    __table_args__ = (Index("ix_activity_exports_expires", "expires_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # SHA-256 of the token handed out: a leaked database does not give the status URL.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    # The validated request: window (ISO instants and zone) and filters.
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # pending (queued or running), complete, failed.
    status: Mapped[str] = mapped_column(String(20))
    requested_by: Mapped[str | None] = mapped_column(String(120))
    job_id: Mapped[str | None] = mapped_column(String(40))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # After this the export and its file are deleted.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ActivityExportChunk(Base):
    """A piece of an export's CSV, zlib-compressed; `seq` orders them from 0."""

    __tablename__ = "activity_export_chunks"

    export_id: Mapped[str] = mapped_column(
        ForeignKey("activity_exports.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
