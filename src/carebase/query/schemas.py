"""Safe SQL API bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from carebase.kit.pagination import Page
from carebase.query.gate import MAX_SQL_CHARS
from carebase.query.service import DEFAULT_ROWS, DESCRIPTION_MAX, MAX_ROWS, NAME_MAX

Limit = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_ROWS,
        description=f"Rows to return at most ({DEFAULT_ROWS} unless asked, {MAX_ROWS} at most).",
    ),
]
Format = Annotated[
    Literal["json", "csv"],
    Field(
        description="`json` answers the result object; `csv` answers text/csv (a header line, "
        "then one line per row; JSON values as JSON text). The CSV answer's "
        "`Carebase-Truncated` header says whether rows were cut."
    ),
]


class QueryIn(BaseModel):
    """A query to run once."""

    sql: str = Field(
        min_length=1,
        max_length=MAX_SQL_CHARS,
        examples=["SELECT profile_id, full_name, email FROM customer_360 WHERE ticket_count >= 3"],
    )
    limit: Limit = DEFAULT_ROWS
    format: Format = "json"


class RunIn(BaseModel):
    """How to run a saved query."""

    limit: Limit = DEFAULT_ROWS
    format: Format = "json"


class QueryOut(BaseModel):
    """A query's result."""

    columns: list[str]
    rows: list[list[Any]] = Field(
        description="One array per row, in column order; timestamps are ISO 8601 in UTC, "
        "JSON columns are JSON."
    )
    truncated: bool = Field(description="True when the query had more rows than `limit`.")
    elapsed_ms: float


class ColumnOut(BaseModel):
    """A column of a published view."""

    name: str
    type: str = Field(examples=["text", "integer", "number", "timestamp", "boolean", "json"])
    description: str


class ViewOut(BaseModel):
    """A view SQL may read."""

    name: str
    description: str
    columns: list[ColumnOut]


class ViewList(BaseModel):
    """Every published view."""

    items: list[ViewOut]


class SavedQueryIn(BaseModel):
    """A named query to save (its SQL must pass the gate)."""

    name: str = Field(min_length=1, max_length=NAME_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    sql: str = Field(min_length=1, max_length=MAX_SQL_CHARS)


class SavedQueryOut(BaseModel):
    """A saved query."""

    id: str
    name: str
    description: str
    sql: str
    created_by: str | None
    created_at: datetime
    updated_at: datetime


SavedQueryPage = Page[SavedQueryOut]
