"""Fixtures for safe SQL: a database holding the demo brand, tokens, a client."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from carebase.db.session import Database
from carebase.demo.generate import generate
from carebase.demo.service import load
from carebase.ingest.service import IngestConfig
from carebase.settings import Settings
from tests.conftest import make_token

ANCHOR = datetime(2026, 11, 23, tzinfo=UTC)


@pytest.fixture
def demo(database: Database, settings: Settings) -> Database:
    """The database with a small demo brand loaded through ingestion."""
    data = generate(profiles=40, tickets=120, seed=5, anchor=ANCHOR)
    summary = load(database, data, config=IngestConfig.from_settings(settings), now=ANCHOR)
    assert summary.rejected == 0
    return database


@pytest.fixture
def runner_token(database: Database) -> str:
    """A token that may run queries."""
    return make_token(database, "query:run", name="runner")


@pytest.fixture
def writer_token(database: Database) -> str:
    """A token that may run and save queries."""
    return make_token(database, "query:run", "query:write", name="writer")


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}
