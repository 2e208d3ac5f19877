"""Runs of orchestrations, as the API, the console and the CLI see them: start one (one at
a time per orchestration, whatever the number of processes), list, follow, cancel, retry
what failed, and read the per-record results. Sessions come from the caller; nothing here
commits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from carebase.activation import runs, runs_query
from carebase.activation import runs_repository as repository
from carebase.activation.run_schemas import RunCounts, RunOut, RunProgress, RunRecordOut
from carebase.errors import Conflict, NotFound, RunInProgress, ValidationFailed
from carebase.ids import new_id
from carebase.kit import pagination
from carebase.kit.csvtext import csv_lines, spreadsheet_cell
from carebase.kit.jobs import repository as jobs

RECORD_COLUMNS = ("seq", "record_key", "action", "status", "error_code", "message", "remote_id")


def _orchestration(session: Session, orchestration_id: str) -> Any:
    found = repository.get_orchestration(session, orchestration_id)
    if found is None:
        raise NotFound(f"No orchestration with id {orchestration_id!r}.")
    return found


def _run(session: Session, orchestration_id: str, run_id: str) -> Row[Any]:
    row = repository.get_run(session, run_id)
    if row is None or row.orchestration_id != orchestration_id:
        raise NotFound(f"No run {run_id!r} of orchestration {orchestration_id!r}.")
    return row


def start_run(
    session: Session,
    orchestration_id: str,
    *,
    now: datetime,
    trigger: str = "manual",
    dry_run: bool = False,
    full_resync: bool = False,
    only_failed: bool = False,
    requested_by: str | None = None,
) -> RunOut:
    """Start a run: it waits for a worker (its job is queued in the caller's transaction).
    RunInProgress (409 `run_in_progress`) when the orchestration has one that has not
    ended: the active run is claimed by compare-and-set, so of two concurrent starts, in
    any processes, exactly one wins."""
    orchestration = _orchestration(session, orchestration_id)
    if full_resync and only_failed:
        raise ValidationFailed.on("only_failed", "cannot be combined with full_resync")
    run_id = new_id("run")
    if not repository.claim_active(session, orchestration_id, run_id):
        raise RunInProgress(
            f"Orchestration {orchestration_id} already has a run in progress "
            f"({orchestration.active_run_id}); cancel it or wait for it to end."
        )
    repository.add_run(
        session,
        {
            "id": run_id,
            "orchestration_id": orchestration_id,
            "status": "waiting_to_start",
            "trigger": trigger,
            "dry_run": dry_run,
            "full_resync": full_resync,
            "only_failed": only_failed,
            "job_id": None,
            "requested_by": requested_by,
            "cancel_requested": False,
            **dict.fromkeys(
                ("queried", "invalid", "new", "changed", "unchanged", "sent", "succeeded"), 0
            ),
            "rejected": 0,
            "error": None,
            "details": None,
            "created_at": now,
            "started_at": None,
            "finished_at": None,
        },
    )
    job_id = runs.queue_run(session, run_id, orchestration.destination_id, now=now)
    repository.update_run(session, run_id, {"job_id": job_id})
    return get_run(session, orchestration_id, run_id)


def get_run(session: Session, orchestration_id: str, run_id: str) -> RunOut:
    """One run, or NotFound."""
    return run_out(session, _run(session, orchestration_id, run_id))


def list_runs(
    session: Session, orchestration_id: str, *, limit: int, after: str | None
) -> tuple[list[RunOut], str | None]:
    """The orchestration's runs, newest first, a page at a time; (runs, next cursor)."""
    _orchestration(session, orchestration_id)
    key = pagination.decode(after, datetime, str) if after else None
    rows = repository.runs_page(
        session, orchestration_id, (key[0], key[1]) if key else None, limit + 1
    )
    page, following = pagination.split(
        rows, limit, lambda row: pagination.encode(row.created_at, row.id)
    )
    return [run_out(session, row) for row in page], following


def cancel_run(session: Session, orchestration_id: str, run_id: str, *, now: datetime) -> RunOut:
    """Ask a run to stop: a run still waiting ends now; a running one stops before its next
    batch (records already answered for stay recorded, the rest are not sent). Conflict
    when it already ended."""
    row = _run(session, orchestration_id, run_id)
    if row.status in runs.ENDED:
        raise Conflict(f"Run {run_id} already ended ({row.status}); nothing to cancel.")
    repository.update_run(session, run_id, {"cancel_requested": True})
    job = jobs.cancel(session, row.job_id, now) if row.job_id else None
    if job is None or job.status in ("cancelled", "failed", "succeeded"):
        # Its job was waiting (or is gone): nobody else will end the run.
        runs.end_run(session, row, status="cancelled", error=None, now=now)
    return get_run(session, orchestration_id, run_id)


def retry_failed(
    session: Session,
    orchestration_id: str,
    run_id: str,
    *,
    now: datetime,
    requested_by: str | None,
) -> RunOut:
    """A new run sending only the records whose last delivery failed."""
    _run(session, orchestration_id, run_id)
    return start_run(
        session,
        orchestration_id,
        now=now,
        trigger="retry",
        only_failed=True,
        requested_by=requested_by,
    )


def list_records(
    session: Session,
    orchestration_id: str,
    run_id: str,
    *,
    status: str | None,
    limit: int,
    after: str | None,
) -> tuple[list[RunRecordOut], str | None]:
    """A run's records kept in its history (invalid, rejected, skipped, and those still
    pending or in flight), in order; (records, next cursor)."""
    _run(session, orchestration_id, run_id)
    seq = int(pagination.decode(after, int)[0]) if after else None
    rows = repository.items_page(session, run_id, status, seq, limit + 1)
    page, following = pagination.split(rows, limit, lambda row: pagination.encode(row.seq))
    return [record_out(row) for row in page], following


def records_csv(session: Session, orchestration_id: str, run_id: str) -> Iterator[str]:
    """The run's records as CSV chunks (a header, then a line per record): keys, actions,
    statuses and the destination's reasons, never a record's fields."""
    _run(session, orchestration_id, run_id)
    chunks = [csv_lines([list(RECORD_COLUMNS)])]
    after: int | None = None
    while True:
        rows = repository.items_page(session, run_id, None, after, 1000)
        if not rows:
            break
        chunks.append(
            csv_lines(
                [[spreadsheet_cell(getattr(row, name)) for name in RECORD_COLUMNS] for row in rows]
            )
        )
        after = rows[-1].seq
    return iter(chunks)


def record_out(row: Row[Any]) -> RunRecordOut:
    """An item as the API shows it."""
    return RunRecordOut(
        seq=row.seq,
        record_key=row.record_key,
        action=row.action,
        status=row.status,
        error_code=row.error_code,
        message=row.message,
        remote_id=row.remote_id,
    )


def run_out(session: Session, row: Row[Any]) -> RunOut:
    """A run as the API shows it (a dry run's samples read from its kept items)."""
    progress = None
    if row.status == "querying":
        progress = RunProgress(done=row.queried, total=None)
    elif row.status != "waiting_to_start":
        progress = RunProgress(done=row.succeeded + row.rejected, total=row.new + row.changed)
    return RunOut(
        id=row.id,
        orchestration_id=row.orchestration_id,
        status=row.status,
        trigger=row.trigger,
        dry_run=row.dry_run,
        full_resync=row.full_resync,
        only_failed=row.only_failed,
        counts=RunCounts(
            queried=row.queried,
            invalid=row.invalid,
            new=row.new,
            changed=row.changed,
            unchanged=row.unchanged,
            sent=row.sent,
            succeeded=row.succeeded,
            rejected=row.rejected,
        ),
        progress=progress,
        error=row.error,
        details=_details(session, row),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        requested_by=row.requested_by,
    )


def _details(session: Session, row: Row[Any]) -> dict[str, Any] | None:
    details = row.details
    if not details or "sample_seqs" not in details:
        return details  # type: ignore[no-any-return]
    shown = {key: value for key, value in details.items() if key != "sample_seqs"}
    wanted: dict[str, list[int]] = details["sample_seqs"]
    seqs = [seq for each in wanted.values() for seq in each]
    found = {item.seq: item for item in repository.items_by_seqs(session, row.id, seqs)}
    samples: dict[str, list[dict[str, Any]]] = {}
    for bucket, bucket_seqs in wanted.items():
        samples[bucket] = []
        for seq in bucket_seqs[: runs_query.SAMPLES]:
            item = found.get(seq)
            if item is None:
                continue  # forgotten since: its sample went with it
            if bucket == "invalid":
                samples[bucket].append(
                    {"key": item.record_key, "error_code": item.error_code, "message": item.message}
                )
            else:
                samples[bucket].append({"key": item.record_key, "fields": item.payload})
    shown["samples"] = samples
    return shown
