"""The jobs admin operations (API and CLI): list, show, cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.errors import Conflict, NotFound, ValidationFailed
from carebase.kit import pagination
from carebase.kit.jobs import repository
from carebase.kit.jobs.registry import Failure, Registry

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")


def _bad(field: str, message: str) -> ValidationFailed:
    return ValidationFailed.on(field, message)


def list_jobs(
    session: Session,
    *,
    status: str | None,
    kind: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Any], str | None]:
    """A page of jobs, newest first, and the cursor of the next page."""
    if status is not None and status not in STATUSES:
        raise _bad("status", "must be one of " + ", ".join(STATUSES))
    before = pagination.decode(cursor, datetime, str) if cursor else None
    rows = repository.jobs_page(session, status=status, kind=kind, before=before, limit=limit + 1)
    return pagination.split(rows, limit, lambda row: pagination.encode(row.created_at, row.id))


def status_counts(session: Session) -> dict[str, int]:
    """{status: count} over every job."""
    return repository.status_counts(session)


def get_job(session: Session, job_id: str) -> Any:
    """One job, or NotFound."""
    row = repository.get_job(session, job_id)
    if row is None:
        raise NotFound(f"No job with id {job_id!r}.")
    return row


def cancel_job(session: Session, registry: Registry, job_id: str, *, now: datetime) -> Any:
    """Cancel a queued job now, or ask a running one to stop (it stops at its next progress
    report, or its lease lapses); Conflict when it already ended. The job after."""
    before = get_job(session, job_id)
    if before.status in ("succeeded", "failed", "cancelled"):
        raise Conflict(f"Job {job_id} already ended ({before.status}); nothing to cancel.")
    after = repository.cancel(session, job_id, now)
    assert after is not None
    kind = registry.get(after.kind)
    if after.status == "cancelled" and kind is not None and kind.on_failure is not None:
        failure = Failure(after.error or "cancelled", True, after.attempts, now)
        kind.on_failure(session, after.payload, failure)
    return after
