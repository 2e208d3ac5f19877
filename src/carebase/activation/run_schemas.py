"""What the API, the console and the CLI show of runs and their records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class RunCounts(BaseModel):
    """A run's counters: records read, invalid (not sent), new/changed/unchanged against
    the diff state, and sent/succeeded/rejected by the destination."""

    queried: int
    invalid: int
    new: int
    changed: int
    unchanged: int
    sent: int
    succeeded: int
    rejected: int


class RunProgress(BaseModel):
    """How far a sending run is: records answered for, of how many."""

    done: int
    total: int | None


class RunOut(BaseModel):
    """One run of an orchestration."""

    id: str
    orchestration_id: str
    status: str
    trigger: str
    dry_run: bool
    full_resync: bool
    only_failed: bool
    counts: RunCounts
    progress: RunProgress | None
    error: str | None
    details: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    requested_by: str | None


class RunRecordOut(BaseModel):
    """One record of a run that did not simply succeed: invalid (never sent, with why),
    rejected by the destination (with its own reason), or still pending/in flight."""

    seq: int
    record_key: str
    action: str
    status: str
    error_code: str | None
    message: str | None
    remote_id: str | None
