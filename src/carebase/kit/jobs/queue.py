"""Enqueueing: a job is inserted in the caller's transaction, so it exists iff that commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.ids import new_id
from carebase.kit.jobs import repository
from carebase.kit.jobs.registry import JobSpec
from carebase.kit.jobs.wakeup import wake_after_commit


def enqueue(
    session: Session,
    spec: JobSpec,
    payload: dict[str, Any],
    *,
    now: datetime,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    concurrency_key: str | None = None,
    sooner: bool = False,
) -> tuple[str, bool]:
    """Queue a job of `spec` in the caller's transaction: (job id, whether it was added). With
    a `dedupe_key` held by a live (queued or running) job, that job's id is returned instead.
    Jobs sharing a `concurrency_key` (the service they call) take at most half of a worker's
    threads at once, so that one slow or unreachable service cannot hold them all. With
    `sooner`, a queued job holding the dedupe key but due later is brought forward to this
    job's `run_at` (a scheduled refresh asked for now runs now, once)."""
    job_id, added = repository.add_job(
        session,
        {
            "id": new_id("job"),
            "kind": spec.name,
            "payload": payload,
            "status": "queued",
            "attempts": 0,
            "max_attempts": spec.retry.max_attempts,
            "run_at": run_at or now,
            "lease_owner": None,
            "lease_expires_at": None,
            "cancel_requested": False,
            "progress": None,
            "result": None,
            "error": None,
            "dedupe_key": dedupe_key,
            "concurrency_key": concurrency_key,
            "created_at": now,
            "started_at": None,
            "finished_at": None,
        },
    )
    if not added and sooner:
        if repository.bring_forward(session, job_id, run_at or now):
            wake_after_commit(session)
        return job_id, False
    if added:
        wake_after_commit(session)
    return job_id, added
