"""The answer to an ingested batch: counts, rejections with their problems, warnings, merges."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Problem(BaseModel):
    """What is wrong with one field."""

    field: str
    reason: str


class Rejection(BaseModel):
    """One rejected record: its index in the batch and every problem found."""

    index: int
    ticket_id: str | None = Field(default=None, description="Tickets: the ticket_id, if readable.")
    record_id: str | None = Field(
        default=None,
        description="The record's id when readable: ticket_id, purchase_id, return_id, "
        "email_id, sms_id, or the product's id.",
    )
    errors: list[Problem]


class IngestResult(BaseModel):
    """What happened to a batch."""

    dataset_id: str
    log_id: str
    received: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    rejections: list[Rejection]
    warnings: list[dict[str, Any]] = Field(
        description="Accepted records with a caveat: unparseable mobile, blocked value, "
        "stopped merge, link not added."
    )
    merges: list[dict[str, Any]] = Field(description="Profiles merged by this batch.")
