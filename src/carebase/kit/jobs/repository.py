"""Every SQL statement of the job runner.

Writes by a worker are fenced by `lease_owner`: a worker whose lease lapsed (and whose job
another worker took) changes nothing, so a job's outcome is recorded once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carebase.models import Job
from carebase.models.base import table

JOBS = table(Job)
LIVE = ("queued", "running")
TERMINAL = ("succeeded", "failed", "cancelled")
_CLAIMED = (
    JOBS.c.id,
    JOBS.c.kind,
    JOBS.c.payload,
    JOBS.c.attempts,
    JOBS.c.max_attempts,
    JOBS.c.concurrency_key,
)


def add_job(session: Session, row: dict[str, Any]) -> tuple[str, bool]:
    """Insert a job unless a live one holds its dedupe key: (the job's id, whether added)."""
    key = row.get("dedupe_key")
    if key is None:
        session.execute(insert(JOBS), [row])
        return str(row["id"]), True
    find = select(JOBS.c.id).where(JOBS.c.dedupe_key == key)
    existing = session.execute(find).scalar()
    if existing is not None:
        return str(existing), False
    try:
        # A savepoint: a concurrent twin that won the unique key leaves this transaction usable.
        with session.begin_nested():
            session.execute(insert(JOBS), [row])
    except IntegrityError:
        return str(session.execute(find).scalar_one()), False
    return str(row["id"]), True


def bring_forward(session: Session, job_id: str, run_at: datetime) -> bool:
    """Make a queued job due at `run_at` if it was due later; whether it was."""
    result = session.execute(
        update(JOBS)
        .where(JOBS.c.id == job_id, JOBS.c.status == "queued", JOBS.c.run_at > run_at)
        .values(run_at=run_at)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def claim(
    session: Session,
    *,
    owner: str,
    now: datetime,
    lease_until: datetime,
    limit: int,
    kinds: Sequence[str],
    busy_keys: Sequence[str] = (),
) -> list[Row[Any]]:
    """Take up to `limit` due queued jobs of `kinds` for `owner`, oldest due first, passing
    over jobs whose concurrency key is in `busy_keys` (the claimer runs enough of those).

    PostgreSQL skips rows another claimer has locked, so many workers claim in parallel
    without waiting on each other; SQLite runs this under its write lock (BEGIN IMMEDIATE)."""
    due = (
        select(JOBS.c.id)
        .where(JOBS.c.status == "queued", JOBS.c.run_at <= now, JOBS.c.kind.in_(kinds))
        .order_by(JOBS.c.run_at, JOBS.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if busy_keys:
        due = due.where(
            or_(JOBS.c.concurrency_key.is_(None), JOBS.c.concurrency_key.not_in(busy_keys))
        )
    values = {
        "status": "running",
        "attempts": JOBS.c.attempts + 1,
        "lease_owner": owner,
        "lease_expires_at": lease_until,
        "run_at": lease_until,
        "started_at": func.coalesce(JOBS.c.started_at, now),
    }
    if session.get_bind().dialect.name == "postgresql":
        # A materialised CTE runs the locking SELECT once. Inside `IN (…)` PostgreSQL may run
        # it again per row, and each run skips the rows the UPDATE just changed: LIMIT 1 would
        # then claim every due row.
        chosen = due.cte("due").prefix_with("MATERIALIZED")
        statement = update(JOBS).where(JOBS.c.id == chosen.c.id).values(**values)
    else:
        statement = (
            update(JOBS)
            .where(JOBS.c.id.in_(due.scalar_subquery()), JOBS.c.status == "queued")
            .values(**values)
        )
    statement = statement.returning(*_CLAIMED)
    return list(session.execute(statement).all())


def renew(
    session: Session, owner: str, job_ids: Sequence[str], lease_until: datetime
) -> dict[str, bool]:
    """Extend the leases `owner` still holds: {job id: cancel requested} for each one held."""
    if not job_ids:
        return {}
    rows = session.execute(
        update(JOBS)
        .where(JOBS.c.id.in_(job_ids), JOBS.c.lease_owner == owner, JOBS.c.status == "running")
        .values(lease_expires_at=lease_until, run_at=lease_until)
        .returning(JOBS.c.id, JOBS.c.cancel_requested)
    ).all()
    return {str(job_id): bool(flag) for job_id, flag in rows}


def _finish(session: Session, job_id: str, owner: str, **values: Any) -> bool:
    result = session.execute(
        update(JOBS)
        .where(JOBS.c.id == job_id, JOBS.c.lease_owner == owner, JOBS.c.status == "running")
        .values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def succeed(
    session: Session, job_id: str, owner: str, now: datetime, result: dict[str, Any] | None
) -> bool:
    """Record success; False when `owner` no longer holds the job."""
    return _finish(
        session,
        job_id,
        owner,
        status="succeeded",
        finished_at=now,
        lease_expires_at=None,
        result=result,
        error=None,
        dedupe_key=None,
    )


def fail(session: Session, job_id: str, owner: str, now: datetime, error: str) -> bool:
    """Record the last attempt's failure; False when `owner` no longer holds the job."""
    return _finish(
        session,
        job_id,
        owner,
        status="failed",
        finished_at=now,
        lease_expires_at=None,
        error=error,
        dedupe_key=None,
    )


def retry(session: Session, job_id: str, owner: str, run_at: datetime, error: str) -> bool:
    """Queue the job again for `run_at`, keeping the error; False when not held."""
    return _finish(
        session,
        job_id,
        owner,
        status="queued",
        run_at=run_at,
        lease_expires_at=None,
        error=error,
    )


def acknowledge_cancel(session: Session, job_id: str, owner: str, now: datetime) -> bool:
    """A running job stopped because it was asked to; False when not held."""
    return _finish(
        session,
        job_id,
        owner,
        status="cancelled",
        finished_at=now,
        lease_expires_at=None,
        error="cancelled while running",
        dedupe_key=None,
    )


def release(session: Session, job_id: str, owner: str, now: datetime) -> bool:
    """Give a job back untouched (the worker is stopping): queued, the attempt not counted."""
    return _finish(
        session,
        job_id,
        owner,
        status="queued",
        run_at=now,
        attempts=JOBS.c.attempts - 1,
        lease_expires_at=None,
    )


def defer(session: Session, job_id: str, owner: str, run_at: datetime, note: str) -> bool:
    """Queue the job again for `run_at` without counting the attempt (it could not start:
    the service it calls has no room yet), keeping `note`; False when not held."""
    return _finish(
        session,
        job_id,
        owner,
        status="queued",
        run_at=run_at,
        attempts=JOBS.c.attempts - 1,
        lease_expires_at=None,
        error=note,
    )


def set_progress(
    session: Session, job_id: str, owner: str, progress: dict[str, Any]
) -> bool | None:
    """Store progress; whether cancellation was requested, or None when `owner` lost the job."""
    flag = session.execute(
        update(JOBS)
        .where(JOBS.c.id == job_id, JOBS.c.lease_owner == owner, JOBS.c.status == "running")
        .values(progress=progress)
        .returning(JOBS.c.cancel_requested)
    ).scalar()
    return None if flag is None else bool(flag)


def sweep_lapsed(session: Session, now: datetime) -> list[Row[Any]]:
    """End or requeue running jobs whose lease lapsed (their worker died or hung).

    A job asked to cancel becomes cancelled; one out of attempts fails, its error saying why;
    any other is queued again. Returns (id, kind, payload, attempts, status) of each one
    that ended, for the kinds' failure hooks."""
    lapsed = (JOBS.c.status == "running", JOBS.c.run_at < now)
    ended: list[Row[Any]] = []
    terminal = {"lease_expires_at": None, "finished_at": now, "dedupe_key": None}
    ended += session.execute(
        update(JOBS)
        .where(*lapsed, JOBS.c.cancel_requested)
        .values(status="cancelled", error="cancelled (its worker stopped answering)", **terminal)
        .returning(*_CLAIMED, JOBS.c.status)
    ).all()
    ended += session.execute(
        update(JOBS)
        .where(*lapsed, JOBS.c.attempts >= JOBS.c.max_attempts)
        .values(
            status="failed",
            error=func.coalesce(JOBS.c.error + "; ", "")
            + "the worker running the last attempt stopped answering (its lease lapsed)",
            **terminal,
        )
        .returning(*_CLAIMED, JOBS.c.status)
    ).all()
    session.execute(
        update(JOBS)
        .where(*lapsed)
        .values(
            status="queued",
            run_at=now,
            lease_expires_at=None,
            error="the worker running the previous attempt stopped answering (its lease lapsed)",
        )
    )
    return ended


def cancel(session: Session, job_id: str, now: datetime) -> Row[Any] | None:
    """Cancel a queued job at once, or ask a running one to stop; the row after, or None."""
    session.execute(
        update(JOBS)
        .where(JOBS.c.id == job_id, JOBS.c.status == "queued")
        .values(
            status="cancelled",
            cancel_requested=True,
            finished_at=now,
            error="cancelled before it ran",
            dedupe_key=None,
        )
    )
    session.execute(
        update(JOBS)
        .where(JOBS.c.id == job_id, JOBS.c.status == "running")
        .values(cancel_requested=True)
    )
    return get_job(session, job_id)


def get_job(session: Session, job_id: str) -> Row[Any] | None:
    """One job row."""
    return session.execute(select(JOBS).where(JOBS.c.id == job_id)).first()


def jobs_page(
    session: Session,
    *,
    status: str | None,
    kind: str | None,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[Row[Any]]:
    """Jobs newest first, optionally of one status or kind, before a (created_at, id) cursor."""
    query = select(JOBS)
    if status is not None:
        query = query.where(JOBS.c.status == status)
    if kind is not None:
        query = query.where(JOBS.c.kind == kind)
    if before is not None:
        created, job_id = before
        query = query.where(
            (JOBS.c.created_at < created) | ((JOBS.c.created_at == created) & (JOBS.c.id < job_id))
        )
    query = query.order_by(JOBS.c.created_at.desc(), JOBS.c.id.desc()).limit(limit)
    return list(session.execute(query).all())


def status_counts(session: Session) -> dict[str, int]:
    """{status: count} over every job."""
    rows = session.execute(select(JOBS.c.status, func.count()).group_by(JOBS.c.status)).all()
    return {str(status): int(count) for status, count in rows}
