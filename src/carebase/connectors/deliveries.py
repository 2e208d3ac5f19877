"""Processing stored webhook deliveries: fetch the ticket from the helpdesk, map it, ingest it
in one transaction with the delivery's completion; on failure retry with backoff."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from carebase.connectors import repository
from carebase.connectors.kinds import KINDS
from carebase.connectors.mapping import TicketRejected
from carebase.connectors.service import ClientOptions, get_connector, open_client
from carebase.db.session import Database
from carebase.http.outbound import OutboundError
from carebase.ingest import service as ingest
from carebase.ingest.batch import load_batch
from carebase.ingest.schemas import IngestResult
from carebase.ingest.tickets import RECORD_TYPE as TICKETS
from carebase.settings import Settings

logger = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 8


@dataclass(slots=True)
class Processed:
    """What processing did."""

    done: int = 0
    skipped: int = 0
    rejected: int = 0
    retried: int = 0
    failed: int = 0
    log_ids: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        """Deliveries this run took in hand, whatever came of them."""
        return self.done + self.skipped + self.rejected + self.retried + self.failed


def process_delivery(
    database: Database,
    delivery_id: str,
    *,
    settings: Settings,
    config: ingest.IngestConfig,
    options: ClientOptions,
    result: Processed | None = None,
) -> Processed:
    """Fetch, map and ingest one delivery's ticket, if it is due and nobody else has it;
    anything unexpected stays with the delivery (its lease lapses, it is taken again)."""
    result = result or Processed()
    now = options.clock()
    with database.unit_of_work() as session:
        if not repository.claim(session, delivery_id, now, now + LEASE):
            return result
        delivery = repository.get_delivery(session, delivery_id)
        connector = get_connector(session, delivery.connector_id)
        session.expunge(connector)
    try:
        with open_client(connector, settings, options) as client:
            event = KINDS[connector.kind].fetch(client, delivery.ticket_id)
    except OutboundError as error:
        _retry_later(database, delivery_id, delivery.attempts, str(error), result, options.clock())
        return result
    except TicketRejected as rejected:
        # The helpdesk answered clearly and a retry would get the same answer.
        with database.unit_of_work() as session:
            repository.finish(
                session,
                delivery_id,
                status="rejected",
                processed_at=options.clock(),
                error=f"{rejected.field}: {rejected.reason}"[:2000],
            )
        result.rejected += 1
        return result
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        # The helpdesk answered with a shape the mapping does not know: retried like an
        # outage (a later answer may differ), then failed, never claimed forever.
        reason = f"unexpected answer from the helpdesk ({type(error).__name__}: {error})"[:500]
        _retry_later(database, delivery_id, delivery.attempts, reason, result, options.clock())
        return result
    if event is None:
        with database.unit_of_work() as session:
            repository.finish(
                session,
                delivery_id,
                status="skipped",
                processed_at=options.clock(),
                error="the ticket no longer exists in the helpdesk (deleted)",
            )
        result.skipped += 1
        return result

    def finish(session: Session, answer: IngestResult) -> None:
        reasons = [f"{p.field}: {p.reason}" for r in answer.rejections for p in r.errors]
        repository.finish(
            session,
            delivery_id,
            status="rejected" if reasons else "done",
            processed_at=options.clock(),
            log_id=answer.log_id,
            error="; ".join(reasons)[:2000] or None,
        )

    # The ticket and the delivery's completion commit together, or neither does.
    answer = load_batch(
        database,
        connector.dataset_id,
        TICKETS,
        [event],
        config=config,
        source=f"webhook:{connector.kind}",
        now=options.clock(),
        then=finish,
    )
    result.log_ids.append(answer.log_id)
    if answer.rejected:
        result.rejected += 1
    else:
        result.done += 1
    return result


def _retry_later(
    database: Database,
    delivery_id: str,
    attempts: int,
    error: str,
    result: Processed,
    now: datetime,
) -> None:
    with database.unit_of_work() as session:
        if attempts >= MAX_ATTEMPTS:
            repository.finish(session, delivery_id, status="failed", processed_at=now, error=error)
            result.failed += 1
        else:
            wait = timedelta(minutes=min(2 ** (attempts - 1), 60))
            repository.finish(
                session, delivery_id, status="pending", next_attempt_at=now + wait, error=error
            )
            result.retried += 1
    logger.warning(
        "webhook delivery %s not processed (attempt %s): %s", delivery_id, attempts, error
    )


def process_due(
    database: Database,
    *,
    settings: Settings,
    config: ingest.IngestConfig,
    options: ClientOptions,
    limit: int = 100,
) -> Processed:
    """Process every delivery that is due (new ones, retries, lapsed leases)."""
    result = Processed()
    with database.unit_of_work(write=False) as session:
        due = repository.due_deliveries(session, options.clock(), limit)
    for delivery_id in due:
        process_delivery(
            database, delivery_id, settings=settings, config=config, options=options, result=result
        )
    return result
