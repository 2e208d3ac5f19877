"""Backfill: pull a helpdesk's ticket history through the ticket ingestion service.

Each page of the helpdesk's incremental or paginated API is ingested in batches of up to
1,000, and the page's resume point is saved in the same transaction as its last batch. An
interrupted backfill started again with the same `since` resumes after the last committed
page; tickets are keyed by ticket_id, so one that comes twice is stored once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.connectors import conversations as helpdesk_conversations
from carebase.connectors import repository
from carebase.connectors.kinds import KINDS
from carebase.connectors.mapping import iso
from carebase.connectors.service import ClientOptions, get_connector, open_client
from carebase.datasets import service as datasets
from carebase.db.session import Database
from carebase.inbox import helpdesk_sync
from carebase.ingest import service as ingest
from carebase.ingest.batch import load_batch
from carebase.ingest.schemas import IngestResult
from carebase.models import utcnow
from carebase.recordtypes.tickets import RECORD_TYPE as TICKETS
from carebase.settings import Settings

Progress = Callable[["BackfillSummary"], None]


@dataclass(slots=True)
class BackfillSummary:
    """What a backfill did."""

    pages: int = 0
    tickets: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    requests: int = 0
    waited_seconds: float = 0.0
    seconds: float = 0.0
    resumed: bool = False
    profiles: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)
    # What the inbox made of the tickets' conversations (helpdesk_sync.SyncSummary.counts).
    inbox: Counter[str] = field(default_factory=Counter)


def run(
    database: Database,
    connector_id: str,
    *,
    since: datetime,
    settings: Settings,
    config: ingest.IngestConfig,
    options: ClientOptions | None = None,
    restart: bool = False,
    progress: Progress | None = None,
    conversations: bool = True,
) -> BackfillSummary:
    """Backfill one connector's tickets updated since `since` (resuming a saved run); with
    `conversations`, each ticket's conversation too (the inbox's mentions and responses),
    read at the helpdesk's ordinary API pace, applied with its ticket."""
    started = time.perf_counter()
    options = options or ClientOptions()
    with database.unit_of_work(write=False) as session:
        connector = get_connector(session, connector_id)
        session.expunge(connector)
    saved = connector.backfill_state or {}
    resume = not restart and saved.get("since") == iso(since) and not saved.get("done")
    summary = BackfillSummary(resumed=resume and bool(saved.get("position")))
    position = saved.get("position") if resume else None
    helpdesk = KINDS[connector.kind]
    with (
        open_client(connector, settings, options, backfill=True) as client,
        # Conversations are read per ticket, under the ordinary API limit, not the export's.
        open_client(connector, settings, options, backfill=True, pacing=helpdesk.pacing) as reader,
    ):
        for page in helpdesk.backfill(client, since, position):
            talks = (
                {
                    str(event["ticket_id"]): helpdesk_conversations.fetch(
                        connector.kind, reader, event
                    )
                    for event in page.events
                }
                if conversations
                else {}
            )
            summary.pages += 1
            # Tickets the helpdesk module rejected itself (e.g. a requester Zendesk no longer
            # has) are counted and reported as ingestion's rejections are.
            summary.tickets += len(page.rejections)
            summary.rejected += len(page.rejections)
            summary.rejections += page.rejections[: max(100 - len(summary.rejections), 0)]
            state = {"since": iso(since), "position": page.state, "done": page.done}
            size = ingest.MAX_BATCH
            # At least one (possibly empty) batch, so that the page's position is saved.
            batches = [page.events[i : i + size] for i in range(0, len(page.events), size)] or [[]]
            for number, events in enumerate(batches):
                last = number == len(batches) - 1
                _ingest(
                    database, connector, events, state if last else None, config, summary, talks
                )
            summary.requests = client.requests + reader.requests
            summary.waited_seconds = client.waited + reader.waited
            if progress:
                progress(summary)
    with database.unit_of_work(write=False) as session:
        summary.profiles = datasets.describe(
            session, datasets.get_dataset(session, connector.dataset_id)
        ).profiles
    summary.seconds = time.perf_counter() - started
    return summary


def _ingest(
    database: Database,
    connector: Any,
    events: list[dict[str, Any]],
    state: dict[str, Any] | None,
    config: ingest.IngestConfig,
    summary: BackfillSummary,
    talks: dict[str, helpdesk_conversations.Conversation],
) -> None:
    inbox: Counter[str] = Counter()

    def save_state(session: Session, _result: IngestResult | None = None) -> None:
        # The batch's tickets' conversations commit with them (and with the resume point).
        inbox.clear()  # a transaction run again counts again, from nothing
        for event in events:
            conversation = talks.get(str(event["ticket_id"]))
            if conversation is not None:
                synced = helpdesk_sync.apply_conversation(
                    session,
                    kind=connector.kind,
                    connector_id=connector.id,
                    dataset_id=connector.dataset_id,
                    conversation=conversation,
                    channel=helpdesk_conversations.channel_of(event),
                    now=utcnow(),
                )
                inbox.update(synced.counts())
        if state is not None:
            repository.save_backfill_state(session, connector.id, state)

    if not events:  # an empty page still moves the resume point
        with database.unit_of_work() as session:
            save_state(session)
        return
    result = load_batch(
        database,
        connector.dataset_id,
        TICKETS,
        events,
        config=config,
        source=f"backfill:{connector.kind}",
        then=save_state,
    )
    summary.tickets += result.received
    summary.created += result.created
    summary.updated += result.updated
    summary.unchanged += result.unchanged
    summary.rejected += result.rejected
    room = max(100 - len(summary.rejections), 0)
    summary.rejections += [r.model_dump() for r in result.rejections[:room]]
    summary.inbox.update(inbox)
