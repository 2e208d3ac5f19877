"""Datasets (named streams of one record type) and their ingestion logs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from carebase import recordtypes
from carebase.datasets import repository
from carebase.datasets.schemas import DatasetOut, LogOut, LogPage
from carebase.errors import NotFound, ValidationFailed, problem
from carebase.ids import new_id
from carebase.kit import pagination
from carebase.models import Dataset
from carebase.records import lexer as lexer_records
from carebase.records import tickets as ticket_records

RECORD_TYPES = recordtypes.names()


def create_dataset(session: Session, *, name: str, record_type: str, now: datetime) -> Dataset:
    """Create a dataset of one record type."""
    if record_type not in RECORD_TYPES:
        raise ValidationFailed(
            details=[problem("record_type", f"must be one of {', '.join(RECORD_TYPES)}")]
        )
    if not name.strip():
        raise ValidationFailed(details=[problem("name", "must not be empty")])
    dataset = Dataset(id=new_id("ds"), name=name.strip(), record_type=record_type, created_at=now)
    repository.add_dataset(session, dataset)
    return dataset


def get_dataset(session: Session, dataset_id: str) -> Dataset:
    """One dataset, or NotFound."""
    dataset = repository.get_dataset(session, dataset_id)
    if dataset is None:
        raise NotFound(f"No dataset with id {dataset_id!r}.")
    return dataset


def describe(session: Session, dataset: Dataset) -> DatasetOut:
    """A dataset with its totals, computed now."""
    if recordtypes.get(dataset.record_type).kind == "ticket":
        records, profiles = ticket_records.dataset_totals(session, dataset.id)
    else:
        records, profiles = lexer_records.dataset_totals(session, dataset.record_type, dataset.id)
    batches, last = repository.log_summary(session, dataset.id)
    return DatasetOut(
        id=dataset.id,
        name=dataset.name,
        record_type=dataset.record_type,
        created_at=dataset.created_at,
        records=records,
        profiles=profiles,
        batches=batches,
        last_ingest_at=last,
    )


def list_datasets(session: Session) -> Sequence[Dataset]:
    """Every dataset, oldest first."""
    return repository.list_datasets(session)


def log_page(session: Session, dataset_id: str, *, limit: int, cursor: str | None) -> LogPage:
    """One page of a dataset's log, newest first. Log ids are time-ordered and unique, so the
    id itself is the keyset cursor."""
    get_dataset(session, dataset_id)
    rows = repository.list_logs(session, dataset_id, limit=limit + 1, before=cursor)
    page, following = pagination.split(rows, limit, lambda row: str(row.id))
    logs = [LogOut.model_validate(row) for row in page]
    return LogPage(items=logs, logs=logs, next_cursor=following)


def received_and_rejected(session: Session) -> dict[str, tuple[int, int]]:
    """(records received, records rejected) over each dataset's logged batches."""
    return repository.rejected_totals(session)


def get_log(session: Session, log_id: str) -> LogOut:
    """One ingestion log entry with its rejections, or NotFound."""
    row = repository.get_log(session, log_id)
    if row is None:
        raise NotFound(f"No ingestion log with id {log_id!r}.")
    return LogOut.model_validate(row)
