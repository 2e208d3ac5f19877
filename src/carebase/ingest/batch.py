"""One batch of any record type through the pipeline: the entry point for the API, import,
the demo, backfills and the connectors' webhook deliveries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.datasets import service as datasets
from carebase.db.session import Database
from carebase.ingest.pipeline import PreparedBatch, ingest, prepare
from carebase.ingest.schemas import IngestResult
from carebase.ingest.service import IngestConfig
from carebase.models import utcnow

__all__ = ["PreparedBatch", "ingest", "load_batch", "prepare"]


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
