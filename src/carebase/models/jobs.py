"""Durable jobs (work outside a request) and the shared pacing slots of outbound budgets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from carebase.models.base import Base, UTCDateTime
from carebase.models.types import JSONType


class Job(Base):
    """One unit of background work: queued -> running -> succeeded | failed | cancelled."""

    __tablename__ = "jobs"
    __table_args__ = (
        # The claim query: queued jobs in run_at order; the sweep: running jobs past run_at.
        Index("ix_jobs_status_run_at", "status", "run_at"),
        Index("ix_jobs_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer)
    max_attempts: Mapped[int] = mapped_column(Integer)
    # When a worker may take it next: the scheduled time (or the retry's) while queued, the
    # lease's end while running. One column, so one index serves the claim and the sweep.
    run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The worker holding (or, once finished, last holding) the job: host:pid:runner.
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_requested: Mapped[bool] = mapped_column(Boolean)
    # {"done": n, "total": n | null, "note": str | null}, written by the handler.
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    error: Mapped[str | None] = mapped_column(Text)
    # At most one live (queued or running) job per key; cleared when the job ends.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # Jobs sharing a key (`connector:{id}`) take at most half of one worker's threads, so
    # that one slow or hung service cannot hold every thread.
    concurrency_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PacingSlot(Base):
    """The next free request slot of one outbound budget (a helpdesk account), shared by every
    process; unlogged on PostgreSQL, in the counters file on SQLite (losing it is harmless)."""

    __tablename__ = "pacing_slots"

    bucket: Mapped[str] = mapped_column(String(120), primary_key=True)
    # Microseconds since the epoch: exact, and comparable on both engines.
    next_at_us: Mapped[int] = mapped_column(BigInteger)
