"""Response bodies of the jobs admin API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from carebase.kit.pagination import Page


class JobOut(BaseModel):
    """One job: what it is, where it stands, and how its last attempt ended."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    status: str = Field(description="queued, running, succeeded, failed or cancelled.")
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    run_at: datetime = Field(
        description="Queued: when it may run next. Running: when its lease ends."
    )
    lease_owner: str | None = Field(description="The worker (host:pid:id) running or that ran it.")
    lease_expires_at: datetime | None
    cancel_requested: bool
    progress: dict[str, Any] | None = Field(description='{"done", "total", "note"} when reported.')
    result: dict[str, Any] | None
    error: str | None = Field(description="The last failed attempt's error (kept when it failed).")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobList(Page[JobOut]):
    """A page of jobs, newest first."""

    counts: dict[str, int] = Field(description="{status: count} over every job.")
