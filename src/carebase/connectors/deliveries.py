"""Processing a stored webhook delivery, as a job: fetch the ticket from the helpdesk, map it,
ingest it in one transaction with the delivery's and the job's completion. A failure is retried
by the job runner with backoff; the delivery mirrors its job (pending, processing, done,
rejected, skipped, failed) so that the deliveries API keeps answering what happened."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from carebase.connectors import conversations, repository
from carebase.connectors.mapping import TicketRejected
from carebase.connectors.service import (
    IN_PLACE_WAIT,
    WEBHOOK_DELIVERY,
    ClientOptions,
    get_connector,
    open_client,
)
from carebase.http.outbound import OutboundDeferred, OutboundError, OutboundInterrupted
from carebase.inbox import helpdesk_sync
from carebase.ingest import service as ingest
from carebase.ingest.batch import load_batch
from carebase.ingest.schemas import IngestResult
from carebase.kit.jobs import Defer, Failure, JobContext, JobInterrupted, JobKind, RetryLater
from carebase.recordtypes.tickets import RECORD_TYPE as TICKETS
from carebase.settings import Settings

# A delivery in one of these states has been dealt with; a re-run of its job changes nothing.
ENDED = frozenset(repository.ENDED_STATUSES)


def job_kind(settings: Settings, config: ingest.IngestConfig, options: ClientOptions) -> JobKind:
    """The `webhook_delivery` job kind, bound to how this process reaches helpdesks."""

    def handle(context: JobContext) -> dict[str, Any] | None:
        return process_delivery(context, settings=settings, config=config, options=options)

    return JobKind(WEBHOOK_DELIVERY, handle, on_failure=_mirror_failure)


def process_delivery(
    context: JobContext,
    *,
    settings: Settings,
    config: ingest.IngestConfig,
    options: ClientOptions,
) -> dict[str, Any] | None:
    """Fetch, map and ingest one delivery's ticket. An outage or an answer the mapping does not
    know raises RetryLater (retried, then failed, never claimed forever); a connector whose
    budget has no slot soon raises Defer (queued for then, the attempt not counted)."""
    database = context.database
    delivery_id = str(context.payload["delivery_id"])
    with database.unit_of_work() as session:
        delivery = repository.get_delivery(session, delivery_id)
        if delivery is None or delivery.status in ENDED:
            # Deleted with its connector, or finished by an attempt whose job update was lost.
            state = "gone" if delivery is None else delivery.status
            context.complete(session, {"delivery": state})
            return None
        repository.finish(session, delivery_id, status="processing", attempts=context.attempt)
        connector = get_connector(session, delivery.connector_id)
        session.expunge(connector)
    try:
        # Only waiting on the helpdesk: a worker that is stopping gives the job back at once.
        with (
            context.waiting_elsewhere(),
            open_client(
                connector, settings, options, database=database, stop=context.interrupted
            ) as client,
        ):
            # The ticket, and for the inbox its messages and status changes.
            event, conversation = conversations.fetch_ticket(
                connector.kind, client, delivery.ticket_id
            )
    except OutboundDeferred as deferred:
        # The connector's budget has no slot soon (its pace is spent, or it is held after a
        # 429 or an outage): not this delivery's failure, so not counted as an attempt.
        raise Defer(str(deferred), after=deferred.retry_after or IN_PLACE_WAIT) from deferred
    except OutboundInterrupted as interrupted:
        raise JobInterrupted(context.job_id) from interrupted
    except OutboundError as error:
        # Scheduled, not slept: the next attempt after the policy's backoff, or the
        # helpdesk's Retry-After when that is longer.
        raise RetryLater(str(error), after=error.retry_after) from error
    except TicketRejected as rejected:
        # The helpdesk answered clearly and a retry would get the same answer.
        with database.unit_of_work() as session:
            repository.finish(
                session,
                delivery_id,
                status="rejected",
                processed_at=context.clock(),
                error=f"{rejected.field}: {rejected.reason}"[:2000],
            )
            context.complete(session, {"delivery": "rejected"})
        return None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        # The helpdesk answered with a shape the mapping does not know: retried like an
        # outage (a later answer may differ), then failed.
        raise RetryLater(
            f"unexpected answer from the helpdesk ({type(error).__name__}: {error})"[:500]
        ) from error
    if event is None:
        with database.unit_of_work() as session:
            repository.finish(
                session,
                delivery_id,
                status="skipped",
                processed_at=context.clock(),
                error="the ticket no longer exists in the helpdesk (deleted)",
            )
            context.complete(session, {"delivery": "skipped"})
        return None

    def finish(session: Session, answer: IngestResult) -> None:
        reasons = [f"{p.field}: {p.reason}" for r in answer.rejections for p in r.errors]
        status = "rejected" if reasons else "done"
        repository.finish(
            session,
            delivery_id,
            status=status,
            processed_at=context.clock(),
            log_id=answer.log_id,
            error="; ".join(reasons)[:2000] or None,
        )
        outcome: dict[str, Any] = {"delivery": status, "log_id": answer.log_id}
        if conversation is not None:
            synced = helpdesk_sync.apply_conversation(
                session,
                kind=connector.kind,
                connector_id=connector.id,
                dataset_id=connector.dataset_id,
                conversation=conversation,
                channel=conversations.channel_of(event),
                now=context.clock(),
            )
            # What the inbox made of the conversation, readable on the job (GET /v1/jobs/{id}).
            outcome["inbox"] = synced.counts()
            outcome["inbox_refused"] = synced.refused[:20]
        context.complete(session, outcome)

    # The ticket, its conversation's mentions, responses and state changes, the delivery's
    # completion and the job's commit together, or none does.
    load_batch(
        database,
        connector.dataset_id,
        TICKETS,
        [event],
        config=config,
        source=f"webhook:{connector.kind}",
        now=context.clock(),
        then=finish,
    )
    return None


def _mirror_failure(session: Session, payload: dict[str, Any], failure: Failure) -> None:
    """The delivery follows its job: pending again until the last attempt, then failed."""
    values: dict[str, Any] = {"attempts": failure.attempts, "error": failure.error}
    if failure.final:
        values.update(status="failed", processed_at=failure.at)
    else:
        values["status"] = "pending"
    repository.finish(session, str(payload["delivery_id"]), **values)
