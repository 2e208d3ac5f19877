"""Scheduled runs: each cron orchestration has one `orchestration_tick` job queued for its
next fire time (dedupe key `orchestration-tick:{id}`), whatever the number of processes.

A tick completes its own job first, in the transaction that does its work: with the
orchestration's row locked, if it is still scheduled, enabled and due, it starts a run
(trigger `schedule`), sets `next_run_at` to the next fire time after the tick's time (or
after now, when the tick ran late: a fire missed while no worker ran is run once, not
caught up) and queues the next tick — all or nothing, so a fire starts at most one run.
When the orchestration still has a run in progress at a fire time, that fire starts
nothing (a log line says so) and the schedule moves on. A tick that finds its orchestration
not yet due (the schedule was edited to a later time) queues itself for `next_run_at`; one
that finds it disabled, manual or deleted does nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.activation import run_service
from carebase.activation import runs_repository as repository
from carebase.activation.schedule import next_fire
from carebase.kit.jobs import JobContext, JobKind, JobSpec, RetryPolicy, enqueue
from carebase.settings import Settings

logger = logging.getLogger(__name__)

TICK = JobSpec(
    "orchestration_tick", RetryPolicy(max_attempts=5, first_seconds=10.0, max_seconds=300.0)
)


def dedupe_key(orchestration_id: str) -> str:
    """The key that keeps one tick of an orchestration live at a time."""
    return f"orchestration-tick:{orchestration_id}"


def _queue(
    session: Session, orchestration_id: str, revision: int, run_at: datetime, *, now: datetime
) -> None:
    enqueue(
        session,
        TICK,
        {"orchestration_id": orchestration_id, "revision": revision},
        now=now,
        run_at=run_at,
        dedupe_key=dedupe_key(orchestration_id),
        sooner=True,
    )


def schedule_next(session: Session, orchestration_id: str, *, now: datetime) -> datetime | None:
    """After an orchestration is created, edited, enabled or disabled: its next fire time
    (None when manual or disabled), recorded as `next_run_at`, with a tick queued for it (a
    tick queued for later is brought forward; one queued sooner finds it not due and
    queues itself again). In the caller's transaction."""
    row = repository.get_orchestration(session, orchestration_id)
    if row is None:
        return None
    fire = (
        next_fire(row.schedule_cron, row.schedule_timezone, now)
        if row.schedule_cron is not None and row.enabled
        else None
    )
    repository.set_next_run_at(session, orchestration_id, fire)
    if fire is not None:
        _queue(session, orchestration_id, row.revision, fire, now=now)
    return fire


def job_kind(settings: Settings) -> JobKind:
    """The `orchestration_tick` job kind."""
    del settings  # nothing of them is needed; the signature matches the other kinds

    def handle(context: JobContext) -> dict[str, Any] | None:
        orchestration_id = str(context.payload["orchestration_id"])
        with context.database.unit_of_work() as session:
            # Completed first, in the work's transaction: the dedupe key is free for the
            # next tick, and of two processes only the one holding the job's lease
            # commits, so a fire starts one run.
            context.complete(session, {"orchestration_id": orchestration_id})
            return tick(session, orchestration_id, now=context.clock())

    return JobKind(TICK, handle)


def tick(session: Session, orchestration_id: str, *, now: datetime) -> dict[str, Any]:
    """One tick's work, in the caller's transaction (see the module's docstring)."""
    row = repository.lock_orchestration(session, orchestration_id)
    if row is None:
        return {"tick": "gone"}
    if row.schedule_cron is None or not row.enabled or row.next_run_at is None:
        return {"tick": "not scheduled"}
    if row.next_run_at > now:
        _queue(session, orchestration_id, row.revision, row.next_run_at, now=now)
        return {"tick": "not due", "next_run_at": row.next_run_at.isoformat()}
    result: dict[str, Any]
    if row.active_run_id is not None:
        logger.info(
            "orchestration %s: scheduled run at %s not started, run %s still in progress",
            orchestration_id,
            row.next_run_at.isoformat(),
            row.active_run_id,
        )
        result = {"tick": "skipped", "active_run_id": row.active_run_id}
    else:
        started = run_service.start_run(session, orchestration_id, now=now, trigger="schedule")
        result = {"tick": "started", "run_id": started.id}
    fire = next_fire(row.schedule_cron, row.schedule_timezone, max(row.next_run_at, now))
    repository.set_next_run_at(session, orchestration_id, fire)
    _queue(session, orchestration_id, row.revision, fire, now=now)
    result["next_run_at"] = fire.isoformat()
    return result
