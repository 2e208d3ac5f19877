"""A run's sending phase: deliver the pending items through the destination's channel,
recording each batch's outcomes with the diff state and the counts in one transaction.

Record by record: a batch's items are marked in flight under a local handle
(`batch:{run}:{first seq}`) in their own transaction before the destination is asked; an
asynchronous destination's job handle then replaces it, also committed before any poll.
A resumed attempt re-submits a batch still under its local handle with the same batch id
(a receiver that deduplicates sees it once; upserts are idempotent) and polls the remote
handles. Items whose profile was forgotten meanwhile are gone from the work list: they are
not sent, and their outcome, if one arrives, is not recorded.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from carebase.activation import runs_repository as repository
from carebase.activation.channel import EXPIRED, Channel, Outcome, OutRecord
from carebase.activation.privacy import without_values
from carebase.kit.jobs import GiveUp, JobCancelled, JobContext

LOCAL = "batch:"
PAGE = 1000
MAX_MESSAGE = 1000


def skip_unanswered(session: Session, run_id: str, status: str) -> None:
    """The items a stopped run did not deliver: skipped, keeping no fields."""
    repository.skip_unanswered(session, run_id, f"not sent: the run was {status}")


def send(context: JobContext, channel: Channel, run_id: str, *, poll_interval: float) -> None:
    """Deliver every pending item (and finish those left in flight)."""
    if channel.whole_file:
        _whole_file(context, channel, run_id)
    else:
        _batches(context, channel, run_id, poll_interval)


def _check(context: JobContext, run_id: str) -> None:
    context.check()
    with context.database.unit_of_work(write=False) as session:
        if repository.cancel_requested(session, run_id):
            raise JobCancelled(context.job_id)


def _report(context: JobContext, run_id: str) -> None:
    with context.database.unit_of_work(write=False) as session:
        row = repository.get_run(session, run_id)
    if row is not None:
        context.progress(row.succeeded + row.rejected, row.new + row.changed)


def _batches(context: JobContext, channel: Channel, run_id: str, poll_interval: float) -> None:
    database = context.database
    with database.unit_of_work(write=False) as session:
        left = repository.in_flight_items(session, run_id)
    resubmit: dict[str, list[Row[Any]]] = {}
    open_handles: dict[str, list[int]] = {}
    for item in left:
        if item.handle and item.handle.startswith(LOCAL):
            resubmit.setdefault(item.handle, []).append(item)
        elif item.handle:
            open_handles.setdefault(item.handle, []).append(item.seq)
    more = True
    while True:
        while len(open_handles) < max(channel.max_in_flight, 1):
            _check(context, run_id)
            if resubmit:
                handle, items = next(iter(resubmit.items()))
                del resubmit[handle]
                # The batch may have lost items to a forget since.
                with database.unit_of_work(write=False) as session:
                    items = repository.items_by_seq(
                        session, run_id, [i.seq for i in items], "in_flight"
                    )
                if not items:
                    continue
            elif more:
                handle, items = _claim(context, channel, run_id)
                if not items:
                    more = False
                    break
            else:
                break
            _submit(context, channel, run_id, handle, items, open_handles)
        if not open_handles:
            if not more and not resubmit:
                return
            continue
        answers = channel.poll(list(open_handles))
        moved = False
        for handle, answer in answers.items():
            seqs = open_handles.get(handle)
            if seqs is None or answer is None:
                continue
            del open_handles[handle]
            moved = True
            if isinstance(answer, str):
                if answer != EXPIRED:
                    raise GiveUp(f"the destination answered {answer!r} for job {handle}")
                # Gone from the destination: sent again (upserts are idempotent).
                with database.unit_of_work() as session:
                    repository.back_to_pending(session, run_id, seqs)
                more = True
            else:
                _record(context, run_id, seqs, answer, handle)
        if not moved:
            context.interrupted.wait(poll_interval)
            _check(context, run_id)


def _claim(context: JobContext, channel: Channel, run_id: str) -> tuple[str, list[Row[Any]]]:
    """The next pending batch, marked in flight under its local handle."""
    with context.database.unit_of_work() as session:
        items = repository.pending_items(session, run_id, limit=max(channel.batch_size, 1))
        if not items:
            return "", []
        handle = f"{LOCAL}{run_id}:{items[0].seq}"
        repository.mark_in_flight(session, run_id, [i.seq for i in items], handle)
    return handle, items


def _submit(
    context: JobContext,
    channel: Channel,
    run_id: str,
    handle: str,
    items: Sequence[Row[Any]],
    open_handles: dict[str, list[int]],
) -> None:
    records = [OutRecord(item.record_key, dict(item.payload or {})) for item in items]
    seqs = [item.seq for item in items]
    batch_id = handle.removeprefix(LOCAL).replace(":", "-")
    with context.waiting_elsewhere():
        submitted = channel.submit(records, batch_id=batch_id)
    if submitted.outcomes is not None:
        _record(context, run_id, seqs, submitted.outcomes, handle)
        return
    if not submitted.handle:
        raise GiveUp("the destination answered a batch with neither outcomes nor a job")
    with context.database.unit_of_work() as session:
        repository.mark_in_flight(session, run_id, seqs, submitted.handle)
    open_handles[submitted.handle] = seqs


def _record(
    context: JobContext, run_id: str, seqs: Sequence[int], outcomes: Sequence[Outcome], handle: str
) -> None:
    """One batch's outcomes, the diff state and the counts, in one transaction."""
    if len(outcomes) != len(seqs):
        raise GiveUp(
            f"the destination answered {len(outcomes)} outcomes for {len(seqs)} records "
            f"(job {handle})"
        )
    now = context.clock()
    with context.database.unit_of_work() as session:
        run = repository.get_run(session, run_id)
        assert run is not None
        present = {
            row.seq: row for row in repository.items_by_seq(session, run_id, seqs, "in_flight")
        }
        states = []
        succeeded = rejected = 0
        for seq, outcome in zip(seqs, outcomes, strict=True):
            item = present.get(seq)
            if item is None:
                continue  # forgotten meanwhile: nothing of it is kept
            if outcome.ok:
                succeeded += 1
                values: dict[str, Any] = {"status": "succeeded", "remote_id": outcome.remote_id}
            else:
                rejected += 1
                values = {
                    "status": "rejected",
                    "error_code": (outcome.error_code or "rejected")[:120],
                    "message": without_values(outcome.message or "", item.payload)[:MAX_MESSAGE]
                    or None,
                    "remote_id": outcome.remote_id,
                }
            repository.finish_item(session, run_id, seq, values)
            states.append(
                {
                    "orchestration_id": run.orchestration_id,
                    "record_key": item.record_key,
                    "profile_id": item.profile_id,
                    "payload_hash": item.payload_hash,
                    "status": "succeeded" if outcome.ok else "failed",
                    "remote_id": outcome.remote_id,
                    "run_id": run_id,
                    "updated_at": now,
                }
            )
        repository.upsert_states(session, states)
        repository.add_counts(
            session,
            run_id,
            {"sent": succeeded + rejected, "succeeded": succeeded, "rejected": rejected},
        )
    _report(context, run_id)


def _whole_file(context: JobContext, channel: Channel, run_id: str) -> None:
    """Every pending item as one file, then all of them delivered in one transaction."""
    database = context.database
    _check(context, run_id)
    with database.unit_of_work(write=False) as session:
        if not repository.pending_items(session, run_id, limit=1):
            return

    def records() -> Iterator[OutRecord]:
        after: int | None = None
        while True:
            with database.unit_of_work(write=False) as session:
                page = repository.pending_items(session, run_id, limit=PAGE, after=after)
            for item in page:
                yield OutRecord(item.record_key, dict(item.payload or {}))
            if len(page) < PAGE:
                return
            after = page[-1].seq

    with context.waiting_elsewhere():
        written = channel.write_file(records())
    now = context.clock()
    with database.unit_of_work() as session:
        run = repository.get_run(session, run_id)
        assert run is not None
        total = 0
        after = None
        while True:
            page = repository.pending_items(session, run_id, limit=PAGE, after=after)
            if not page:
                break
            repository.succeed_pending(session, run_id, [item.seq for item in page])
            repository.upsert_states(
                session,
                [
                    {
                        "orchestration_id": run.orchestration_id,
                        "record_key": item.record_key,
                        "profile_id": item.profile_id,
                        "payload_hash": item.payload_hash,
                        "status": "succeeded",
                        "remote_id": None,
                        "run_id": run_id,
                        "updated_at": now,
                    }
                    for item in page
                ],
            )
            total += len(page)
            after = page[-1].seq
        details = dict(run.details or {})
        details["file"] = {"path": written.path, "rows": written.rows, "bytes": written.bytes}
        repository.add_counts(session, run_id, {"sent": total, "succeeded": total})
        repository.update_run(session, run_id, {"details": details})
    _report(context, run_id)
