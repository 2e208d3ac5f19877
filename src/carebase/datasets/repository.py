"""Every SQL statement on datasets and ingestion logs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from carebase.models import Dataset, IngestionLog
from carebase.models.base import table


def add_dataset(session: Session, dataset: Dataset) -> None:
    """Stage a new dataset."""
    session.add(dataset)
    session.flush()


def get_dataset(session: Session, dataset_id: str) -> Dataset | None:
    """One dataset."""
    return session.get(Dataset, dataset_id)


def list_datasets(session: Session) -> Sequence[Dataset]:
    """Every dataset, oldest first."""
    return session.scalars(select(Dataset).order_by(Dataset.created_at, Dataset.id)).all()


def add_log(session: Session, row: dict[str, Any]) -> None:
    """Append one ingestion log entry."""
    session.connection().execute(insert(table(IngestionLog)), [row])


def log_summary(session: Session, dataset_id: str) -> tuple[int, datetime | None]:
    """(batches logged, time of the last one) for a dataset."""
    row = session.execute(
        select(func.count(), func.max(IngestionLog.received_at)).where(
            IngestionLog.dataset_id == dataset_id
        )
    ).one()
    return int(row[0]), row[1]


def list_logs(
    session: Session, dataset_id: str, *, limit: int, before: str | None
) -> Sequence[IngestionLog]:
    """A dataset's log entries, newest first, older than the `before` cursor."""
    query = (
        select(IngestionLog)
        .where(IngestionLog.dataset_id == dataset_id)
        .order_by(IngestionLog.id.desc())
        .limit(limit)
    )
    if before:
        query = query.where(IngestionLog.id < before)
    return session.scalars(query).all()


def rejected_totals(session: Session) -> dict[str, tuple[int, int]]:
    """(records received, records rejected) over every logged batch, by dataset id."""
    rows = session.execute(
        select(
            IngestionLog.dataset_id,
            func.coalesce(func.sum(IngestionLog.received), 0),
            func.coalesce(func.sum(IngestionLog.rejected), 0),
        ).group_by(IngestionLog.dataset_id)
    ).all()
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}


def get_log(session: Session, log_id: str) -> IngestionLog | None:
    """One ingestion log entry."""
    return session.get(IngestionLog, log_id)
