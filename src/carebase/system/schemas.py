"""Health response."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Health(BaseModel):
    """carebase is up and its database answers."""

    status: str = Field(examples=["ok"])
    version: str
    engine: str = Field(description="sqlite or postgresql", examples=["sqlite"])
    database: str = Field(examples=["ok"])
    schema_revision: str | None = Field(description="The Alembic revision the database is at.")
