"""Running an orchestration, as a job (`orchestration_run`): read the source, diff it against
what the destination last acknowledged, and deliver the new, changed and failed records.

A run is resumable phase by phase:
- waiting_to_start → querying: the source is read, each record prepared (validated and
  normalised by the destination's channel), hashed and classified, and the work list with
  the counts written and the run switched to `sending` in ONE transaction — a crash redoes
  the phase. A dry run ends here (`completed`, with samples), sending nothing.
- sending: handles left in flight by an earlier attempt are followed first; then pending
  items are submitted in seq order, `batch_size` at a time, with at most `max_in_flight`
  handles open. A batch's items are marked in flight (with its handle) in their own
  transaction before the destination is asked, and each batch's outcomes, the diff state
  and the counts are recorded in one transaction. A handle the destination no longer knows
  puts its items back to pending (upserts are idempotent). Whole-file destinations write
  every pending item as one file (named per run, so a resumed run rewrites the same file).
- end: `completed`, or `completed_with_errors` when records were invalid or rejected;
  succeeded items are deleted and no item keeps fields; the orchestration's active run is
  cleared (compare-and-set); runs older than `activation_run_retention_days` are pruned;
  the job completes in the same transaction.

A destination that cannot take anything (ChannelFailed without `retry_after`) fails the
run; with `retry_after`, the job is retried then. A worker shutting down gives the job back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Row
from sqlalchemy.orm import Session

from carebase import crypto
from carebase.activation import runs_query, runs_send
from carebase.activation import runs_repository as repository
from carebase.activation.channel import Channel, ChannelContext, ChannelFailed
from carebase.activation.kinds import KINDS
from carebase.activation.sources import SourceFailed
from carebase.connectors.service import ClientOptions
from carebase.errors import CarebaseError
from carebase.http.outbound import OutboundError, OutboundInterrupted
from carebase.kit.jobs import (
    Failure,
    GiveUp,
    JobContext,
    JobInterrupted,
    JobKind,
    JobSpec,
    RetryLater,
    RetryPolicy,
    enqueue,
)
from carebase.kit.jobs.runner import GIVEN_BACK
from carebase.models.activation import Orchestration
from carebase.settings import Settings

RUN = JobSpec(
    "orchestration_run", RetryPolicy(max_attempts=5, first_seconds=30.0, max_seconds=1800.0)
)
ENDED = frozenset({"completed", "completed_with_errors", "failed", "cancelled"})
MAX_ERROR = 2000
# How the job runner's error for a cancelled job begins.
CANCELLED = "cancelled"


def dedupe_key(run_id: str) -> str:
    """The key that keeps one job of a run live at a time."""
    return f"orchestration-run:{run_id}"


def queue_run(session: Session, run_id: str, destination_id: str, *, now: datetime) -> str:
    """Queue the run's job in the caller's transaction; runs to one destination share its
    concurrency key, so one slow destination cannot hold every worker thread."""
    job_id, _ = enqueue(
        session,
        RUN,
        {"run_id": run_id},
        now=now,
        dedupe_key=dedupe_key(run_id),
        concurrency_key=f"destination:{destination_id}",
    )
    return job_id


@dataclass(slots=True)
class Engine:
    """What a run needs besides its job: settings, how destinations are reached (tests
    inject a transport and a fake sleep) and how often asynchronous jobs are polled."""

    settings: Settings
    options: ClientOptions
    poll_interval: float = 1.0


def job_kind(
    settings: Settings, options: ClientOptions | None = None, *, poll_interval: float = 1.0
) -> JobKind:
    """The `orchestration_run` job kind, bound to this process's settings."""
    engine = Engine(settings, options or ClientOptions(), poll_interval)

    def handle(context: JobContext) -> dict[str, Any] | None:
        return run(context, engine)

    return JobKind(RUN, handle, on_failure=_mirror_failure)


def run(context: JobContext, engine: Engine) -> dict[str, Any] | None:
    """One attempt at a run, from wherever the last attempt left it."""
    run_id = str(context.payload["run_id"])
    database = context.database
    now = context.clock()
    with database.unit_of_work() as session:
        row = repository.lock_run(session, run_id)
        if row is None or row.status in ENDED:
            context.complete(session, {"run": "gone" if row is None else row.status})
            return None
        if row.cancel_requested:
            end_run(session, row, status="cancelled", error=None, now=now)
            context.complete(session, {"run": "cancelled"})
            return None
        orchestration = repository.get_orchestration(session, row.orchestration_id)
        assert orchestration is not None  # runs cascade with their orchestration
        destination = repository.get_destination(session, orchestration.destination_id)
        assert destination is not None  # a destination in use cannot be deleted
        if row.status == "waiting_to_start":
            started = row.started_at or now
            repository.update_run(
                session,
                run_id,
                {"status": "querying", "started_at": started, "job_id": context.job_id},
            )
        row = repository.get_run(session, run_id)
        assert row is not None
        session.expunge(orchestration)
        config, kind = dict(destination.config), destination.kind
        secrets_text = destination.secrets
    channel = _open(context, engine, row, orchestration, kind, config, secrets_text)
    try:
        if row.status == "querying":
            context.check()
            with database.unit_of_work() as session:
                runs_query.begin(session, row, orchestration)
            tally = runs_query.query_phase(
                database, row, orchestration, channel, settings=engine.settings, check=context.check
            )
            with database.unit_of_work() as session:
                repository.drop_items_of_gone_profiles(session, run_id)
                values: dict[str, Any] = tally.counts()
                if row.dry_run:
                    values["details"] = runs_query.keep_dry_run_samples(session, run_id, tally)
                    repository.update_run(session, run_id, values)
                    return finish(session, context, engine, run_id, orchestration.id)
                values["status"] = "sending"
                repository.update_run(session, run_id, values)
        runs_send.send(context, channel, run_id, poll_interval=engine.poll_interval)
        with database.unit_of_work() as session:
            return finish(session, context, engine, run_id, orchestration.id)
    except ChannelFailed as failed:
        if failed.retry_after is None:
            raise GiveUp(str(failed)) from failed
        raise RetryLater(str(failed), after=failed.retry_after) from failed
    except SourceFailed as failed:
        raise GiveUp(str(failed)) from failed
    except CarebaseError as error:
        # The saved query no longer passes the gate, or timed out: the run's failure.
        raise GiveUp(f"{error.code}: {error.message}") from error
    except OutboundInterrupted as interrupted:
        raise JobInterrupted(context.job_id) from interrupted
    except OutboundError as error:
        raise RetryLater(str(error), after=error.retry_after) from error
    finally:
        channel.close()


def _open(
    context: JobContext,
    engine: Engine,
    row: Row[Any],
    orchestration: Orchestration,
    kind: str,
    config: dict[str, Any],
    secrets_text: str,
) -> Channel:
    """The destination's channel, its secrets decrypted, for this run."""
    try:
        secrets = orjson.loads(
            crypto.decrypt(engine.settings.secret_key.get_secret_value(), secrets_text)
        )
    except crypto.CannotDecrypt as error:
        raise GiveUp(
            "the destination's secrets cannot be decrypted: CAREBASE_SECRET_KEY changed; "
            "enter them again"
        ) from error
    options = engine.options
    try:
        return KINDS[kind].open(
            ChannelContext(
                config=config,
                secrets={k: str(v) for k, v in secrets.items() if v is not None},
                mode="update_only" if orchestration.sync_mode == "update_only" else "upsert",
                allow_private=engine.settings.allow_private_outbound,
                stop=context.interrupted,
                destination_id=orchestration.destination_id,
                database=context.database,
                transport=options.transport,
                sleep=options.sleep,
                timer=options.timer,
                poll_interval=engine.poll_interval,
                run_id=row.id,
                orchestration_id=orchestration.id,
                orchestration_name=orchestration.name,
                run_started_at=row.started_at,
            )
        )
    except ChannelFailed as failed:
        if failed.retry_after is None:
            raise GiveUp(str(failed)) from failed
        raise RetryLater(str(failed), after=failed.retry_after) from failed


def finish(
    session: Session, context: JobContext, engine: Engine, run_id: str, orchestration_id: str
) -> dict[str, Any]:
    """End the run in the caller's transaction, with the job's completion."""
    now = context.clock()
    row = repository.get_run(session, run_id)
    assert row is not None
    # A dry run reports what it found (invalid records included) and sends nothing: it
    # completed whatever it found.
    errors = not row.dry_run and (row.invalid or row.rejected)
    status = "completed_with_errors" if errors else "completed"
    end_run(session, row, status=status, error=None, now=now)
    cut = now - timedelta(days=engine.settings.activation_run_retention_days)
    repository.prune_runs(session, orchestration_id, cut)
    result = {"run": status, "sent": row.sent, "succeeded": row.succeeded, "rejected": row.rejected}
    context.complete(session, result)
    return result


def end_run(
    session: Session, row: Row[Any], *, status: str, error: str | None, now: datetime
) -> None:
    """Mark a run ended: its unanswered items skipped, no item keeping fields (a dry run's
    samples excepted), succeeded items gone, the orchestration free for its next run."""
    if status in ("failed", "cancelled"):
        runs_send.skip_unanswered(session, row.id, status)
    if not row.dry_run:
        repository.end_items(session, row.id)
    values: dict[str, Any] = {
        "status": status,
        "finished_at": now,
        "error": error[:MAX_ERROR] if error else None,
    }
    repository.update_run(session, row.id, values)
    repository.release_active(session, row.orchestration_id, row.id)


def _mirror_failure(session: Session, payload: dict[str, Any], failure: Failure) -> None:
    """The run follows its job: failed (with why) or cancelled when the job ends so; while
    it will be retried, it shows the error and keeps its place."""
    run_id = str(payload["run_id"])
    row = repository.get_run(session, run_id)
    if row is None or row.status in ENDED or failure.error == GIVEN_BACK:
        return
    if failure.error.startswith(CANCELLED):
        end_run(session, row, status="cancelled", error=None, now=failure.at)
    elif failure.final:
        end_run(session, row, status="failed", error=failure.error, now=failure.at)
    else:
        repository.update_run(session, run_id, {"error": f"retrying: {failure.error}"[:MAX_ERROR]})
