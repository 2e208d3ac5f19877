"""Loading the demo brand through the same path as the API and `carebase import`: one
dataset per record type, batches of 1,000, each validated, resolved, stored and logged in
its own transaction."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from carebase.datasets import service as datasets
from carebase.db.session import Database
from carebase.demo.generate import DemoData
from carebase.ingest.batch import load_batch
from carebase.ingest.service import MAX_BATCH, IngestConfig
from carebase.models import utcnow

DATASET_PREFIX = "Demo · "
Progress = Callable[[str, int], None]  # (record type, records loaded so far of it)


@dataclass(slots=True)
class DemoSummary:
    """What loading the demo did."""

    records: int = 0
    rejected: int = 0
    seconds: float = 0.0
    per_type: dict[str, float] = field(default_factory=dict)  # record type -> seconds
    dataset_ids: dict[str, str] = field(default_factory=dict)


def has_data(database: Database) -> bool:
    """Whether any dataset exists (the demo loads only into an empty carebase)."""
    with database.unit_of_work(write=False) as session:
        return bool(datasets.list_datasets(session))


def load(
    database: Database,
    data: DemoData,
    *,
    config: IngestConfig,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Create a dataset per record type and load every record through the ingestion service."""
    started = time.perf_counter()
    summary = DemoSummary()
    with database.unit_of_work() as session:
        existing = {
            dataset.name: dataset.id
            for dataset in datasets.list_datasets(session)
            if dataset.name.startswith(DATASET_PREFIX)
        }
        for record_type in data.batches:
            name = DATASET_PREFIX + record_type
            if name not in existing:
                created = datasets.create_dataset(
                    session, name=name, record_type=record_type, now=now or utcnow()
                )
                existing[name] = created.id
            summary.dataset_ids[record_type] = existing[name]
    for record_type, records in data.batches.items():
        type_started = time.perf_counter()
        for offset in range(0, len(records), MAX_BATCH):
            result = load_batch(
                database,
                summary.dataset_ids[record_type],
                record_type,
                records[offset : offset + MAX_BATCH],
                config=config,
                source="demo",
                may_contain_nul=False,
            )
            summary.records += result.received
            summary.rejected += result.rejected
            if progress:
                progress(record_type, min(offset + MAX_BATCH, len(records)))
        summary.per_type[record_type] = time.perf_counter() - type_started
    summary.seconds = time.perf_counter() - started
    return summary
