"""One batch of any record type through the ingestion service: the single dispatch between
tickets and Lexer's record types, used by the API, import, the demo and the connectors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.db import locks
from carebase.db.session import Database
from carebase.ingest import datasets, lexer_service
from carebase.ingest.schemas import IngestResult
from carebase.ingest.service import IngestConfig, PreparedBatch, ingest_tickets, prepare_tickets
from carebase.ingest.tickets import RECORD_TYPE as TICKETS
from carebase.models import Dataset, utcnow

Prepared = PreparedBatch | lexer_service.PreparedRecords


def prepare(
    record_type: str, records: list[Any], *, config: IngestConfig, may_contain_nul: bool = True
) -> Prepared:
    """Validate and normalise a batch: CPU only, before any transaction."""
    if record_type == TICKETS:
        return prepare_tickets(records, config=config, may_contain_nul=may_contain_nul)
    return lexer_service.prepare_records(record_type, records, config=config)


def ingest(
    session: Session,
    dataset: Dataset,
    prepared: Prepared,
    *,
    config: IngestConfig,
    token_id: str | None,
    source: str,
    now: datetime,
    started: float | None = None,
) -> IngestResult:
    """Resolve, store, refresh attributes and log a prepared batch, in the caller's transaction."""
    # Before anything is read (suppressions, owners, stored versions): batches sharing a
    # link or a natural key queue here, in one sorted acquisition.
    locks.lock_keys(session, lock_keys(dataset.id, prepared))
    # Ingestion adds to the batch's rejections and warnings: work on copies, so a unit of
    # work run again after a conflict starts from the prepared batch as it was.
    prepared = replace(
        prepared, rejections=list(prepared.rejections), warnings=list(prepared.warnings)
    )
    arguments: dict[str, Any] = {
        "config": config,
        "token_id": token_id,
        "source": source,
        "now": now,
        "started": started,
    }
    if isinstance(prepared, PreparedBatch):
        return ingest_tickets(session, dataset, prepared, **arguments)
    return lexer_service.ingest_records(session, dataset, prepared, **arguments)


def lock_keys(dataset_id: str, prepared: Prepared) -> list[str]:
    """The advisory-lock keys of a prepared batch: every link and every natural key."""
    if isinstance(prepared, PreparedBatch):
        links = [link for _, _, links in prepared.accepted for link in links]
        keys = [parsed.event.ticket_id for _, parsed, _ in prepared.accepted]
        record_type = TICKETS
    else:
        links = [link for _, _, groups in prepared.accepted for ls in groups for link in ls]
        keys = [parsed.key for _, parsed, _ in prepared.accepted if parsed.key is not None]
        record_type = prepared.record_type
    return [
        *(link.lock_key() for link in links),
        *(f"record:{dataset_id}:{record_type}:{key}" for key in keys),
    ]


def load_batch(
    database: Database,
    dataset_id: str,
    record_type: str,
    records: list[Any],
    *,
    config: IngestConfig,
    source: str,
    may_contain_nul: bool = True,
    now: datetime | None = None,
    then: Callable[[Session, IngestResult], None] | None = None,
) -> IngestResult:
    """Ingest one batch in its own transaction, exactly as the API does: validate first (no
    lock held), then resolve, store and log in one unit of work. `then` runs in that same
    transaction (a caller's bookkeeping that must commit with the batch, or not at all)."""
    prepared = prepare(record_type, records, config=config, may_contain_nul=may_contain_nul)

    def work(session: Session) -> IngestResult:
        dataset = datasets.get_dataset(session, dataset_id)
        result = ingest(
            session,
            dataset,
            prepared,
            config=config,
            token_id=None,
            source=source,
            now=now or utcnow(),
        )
        if then is not None:
            then(session, result)
        return result

    # Run again, whole, if a concurrent transaction collided with this one.
    return database.transaction(work)
