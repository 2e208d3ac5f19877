"""Request and response bodies of datasets and ingestion logs."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from carebase import recordtypes
from carebase.kit.pagination import Page

if TYPE_CHECKING:
    RecordType = str
else:
    # The registry's names, in its order: the dataset API's enum and OpenAPI's.
    RecordType = Literal[recordtypes.names()]


class DatasetCreate(BaseModel):
    """A dataset to create."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["Zendesk tickets"])
    record_type: RecordType = Field(
        default="customer_support_ticket", description="The one record type this dataset holds."
    )


class DatasetOut(BaseModel):
    """A dataset with its totals."""

    id: str
    name: str
    record_type: str
    created_at: datetime
    records: int = Field(
        description="Records stored: one per natural key (ticket_id, purchase_id, link…); "
        "for forget and unify datasets, 0 (they act on profiles and keep nothing)."
    )
    profiles: int = Field(description="Distinct profiles its records are on.")
    batches: int = Field(description="Ingestion log entries.")
    last_ingest_at: datetime | None


class DatasetList(BaseModel):
    """Datasets, oldest first."""

    datasets: list[DatasetOut]


class LogOut(BaseModel):
    """One ingestion log entry."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    dataset_id: str
    token_id: str | None
    source: str
    status: str = Field(description="accepted, or refused when the whole batch was refused.")
    received_at: datetime
    duration_ms: float
    received: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    message: str | None
    rejections: list[dict[str, Any]]
    warnings: list[dict[str, Any]]


class LogPage(Page[LogOut]):
    """A page of log entries, newest first; pass `next_cursor` as `cursor` for the next."""

    logs: list[LogOut] = Field(
        deprecated=True, description="The same entries as `items`, under their S1 name."
    )
