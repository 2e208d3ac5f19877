"""Refreshing a segment, as a job: compile its definition, materialise the members as a new
version, and switch to it in one transaction, so readers always see a complete version.

One refresh job per segment is live at a time (dedupe key `segment-refresh:{id}`), whatever
the number of processes; each refresh queues the next one for `next_refresh_at` (daily by
default), so a segment is recomputed on schedule even when no event arrives, and windowed
conditions move on with time. Asked for now (an edit, `POST …/refresh`), the queued job is
brought forward. A failure marks the segment `failed` with its error, and is retried by the
job policy; after the last attempt the next scheduled refresh is queued all the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from carebase.db.plans import plan_for_values
from carebase.errors import ValidationFailed
from carebase.kit.jobs import Failure, GiveUp, JobContext, JobKind, JobSpec, RetryPolicy, enqueue
from carebase.kit.jobs.runner import GIVEN_BACK
from carebase.segments import compiler, definition, repository
from carebase.settings import Settings

REFRESH = JobSpec(
    "segment_refresh", RetryPolicy(max_attempts=3, first_seconds=60.0, max_seconds=900.0)
)
MAX_ERROR = 2000
# How the job runner's errors for a cancelled job begin.
CANCELLED = "cancelled"


def dedupe_key(segment_id: str) -> str:
    """The key that keeps one refresh of a segment live (queued or running) at a time."""
    return f"segment-refresh:{segment_id}"


def queue_refresh(session: Session, segment_id: str, *, now: datetime, run_at: datetime) -> str:
    """Queue a refresh of the segment for `run_at`, in the caller's transaction; the job
    already queued for later is brought forward instead, and one queued sooner or running
    is kept. The id of the job that will refresh it."""
    job_id, _ = enqueue(
        session,
        REFRESH,
        {"segment_id": segment_id},
        now=now,
        run_at=run_at,
        dedupe_key=dedupe_key(segment_id),
        sooner=True,
    )
    return job_id


@dataclass(frozen=True, slots=True)
class Refreshed:
    """What one refresh computed."""

    segment_id: str
    version: int
    size: int
    entered: int
    left: int
    duration_ms: int


def job_kind(settings: Settings) -> JobKind:
    """The `segment_refresh` job kind, bound to this installation's event window."""

    def handle(context: JobContext) -> dict[str, Any] | None:
        segment_id = str(context.payload["segment_id"])
        with context.database.unit_of_work() as session:
            if not repository.update_segment(session, segment_id, {"status": "refreshing"}):
                context.complete(session, {"segment": "gone"})
                return None
        context.check()
        with context.database.unit_of_work() as session:
            done = refresh(
                session,
                segment_id,
                now=context.clock(),
                window_limit_days=settings.event_window_days,
                then=context.complete,
            )
        return None if done is None else {"version": done.version, "size": done.size}

    return JobKind(REFRESH, handle, on_failure=_mirror_failure)


Complete = Callable[[Session, "dict[str, Any] | None"], None]


def refresh(
    session: Session,
    segment_id: str,
    *,
    now: datetime,
    window_limit_days: int,
    then: Complete | None = None,
) -> Refreshed | None:
    """Compute a new version of a segment and make it current, in the caller's transaction;
    None when the segment no longer exists. `then(session, result)` runs last in the same
    transaction (the job's completion, which frees the dedupe key for the next refresh)."""
    started = time.perf_counter()
    repository.lock_refresh(session, segment_id)
    row = repository.get_segment(session, segment_id)
    if row is None:
        if then is not None:
            then(session, {"segment": "gone"})
        return None
    try:
        node = definition.parse_definition(row.definition, window_limit_days=window_limit_days)
    except ValidationFailed as invalid:
        # Saved valid, but no longer (the window limit was lowered): no retry will help.
        reasons = "; ".join(f"{p['field']}: {p['reason']}" for p in invalid.details or [])
        raise GiveUp(f"the definition is no longer valid: {reasons}") from invalid
    members = compiler.member_select(node, now=now, segment_members=repository.current_members)
    plan_for_values(session)
    previous = row.current_version
    version = (previous or 0) + 1
    size = repository.insert_version_members(session, segment_id, version, members)
    if previous is None:
        entered, left = size, 0
    else:
        entered, left = repository.entered_and_left(session, segment_id, version, previous)
    next_at = now + timedelta(hours=row.refresh_every_hours)
    exists, requested = repository.switch_version(
        session,
        segment_id,
        {
            "current_version": version,
            "status": "ready",
            "computed_at": now,
            "last_error": None,
            "last_error_at": None,
            "next_refresh_at": next_at,
        },
    )
    if not exists:
        # Deleted while this refresh ran: leave nothing of it behind.
        repository.prune_members(session, segment_id, version + 1)
        if then is not None:
            then(session, {"segment": "gone"})
        return None
    duration_ms = round((time.perf_counter() - started) * 1000)
    repository.insert_version(
        session,
        {
            "segment_id": segment_id,
            "version": version,
            "revision": row.revision,
            "computed_at": now,
            "size": size,
            "entered": entered,
            "left": left,
            "duration_ms": duration_ms,
        },
    )
    repository.prune_members(session, segment_id, version - 1)
    done = Refreshed(segment_id, version, size, entered, left, duration_ms)
    if then is not None:
        then(session, {"version": version, "size": size, "entered": entered, "left": left})
    # Asked for (or edited) after this refresh began: another one now, else on schedule.
    again = requested is not None and requested > now
    if again:
        repository.update_segment(session, segment_id, {"status": "pending"})
    queue_refresh(session, segment_id, now=now, run_at=now if again else next_at)
    # The segments that use this one follow it, so they never lag a day behind it (one of
    # them running now read the old members: it is followed by another, as after a request).
    for user in sorted(users_of(session, segment_id)):
        repository.update_segment(session, user, {"refresh_requested_at": now})
        queue_refresh(session, user, now=now, run_at=now)
    return done


def users_of(session: Session, segment_id: str) -> set[str]:
    """The segments whose definitions refer to this one."""
    return {user for user, used in repository.references(session).items() if segment_id in used}


def _mirror_failure(session: Session, payload: dict[str, Any], failure: Failure) -> None:
    """The segment shows its refresh's failure: `failed` with the error (the last version is
    still served); after the last attempt the next scheduled refresh is queued anyway, so a
    failing segment keeps being tried and is never silently left stale."""
    segment_id = str(payload["segment_id"])
    row = repository.get_segment(session, segment_id)
    if row is None:
        return
    if failure.error == GIVEN_BACK:
        # Its worker stopped before it did anything: queued again, not a failure.
        repository.update_segment(session, segment_id, {"status": "pending"})
        return
    values: dict[str, Any] = {
        "status": "failed",
        "last_error": failure.error[:MAX_ERROR],
        "last_error_at": failure.at,
    }
    if failure.error.startswith(CANCELLED):
        # Someone cancelled this run (jobs API): not the segment's failure, and the schedule
        # goes on.
        before = "ready" if row.current_version is not None else "pending"
        values = {"status": before if row.status == "refreshing" else row.status}
    if failure.final:
        next_at = failure.at + timedelta(hours=row.refresh_every_hours)
        values["next_refresh_at"] = next_at
        queue_refresh(session, segment_id, now=failure.at, run_at=next_at)
    repository.update_segment(session, segment_id, values)
