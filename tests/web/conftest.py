"""Fixtures of the console's HTTP tests: a manager and an agent, each signed in through the
services, and a browser-like client for each (a test module may define its own instead)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carebase.db.session import Database
from carebase.settings import Settings
from tests.conftest import FakeClock
from tests.console_session import ConsoleUser, create_signed_in
from tests.web.console import console, signed_in_as


@pytest.fixture
def people(database: Database, settings: Settings, clock: FakeClock) -> dict[str, ConsoleUser]:
    """A manager and an agent with open sessions."""
    return {
        "manager": create_signed_in(
            database, settings, email="boss@brand.io", role="manager", now=clock.now
        ),
        "agent": create_signed_in(database, settings, email="agent@brand.io", now=clock.now),
    }


@pytest.fixture
def manager(app: FastAPI, people: dict[str, ConsoleUser]) -> Iterator[TestClient]:
    """The manager's browser."""
    with console(app) as client:
        yield signed_in_as(client, people["manager"])


@pytest.fixture
def agent(app: FastAPI, people: dict[str, ConsoleUser]) -> Iterator[TestClient]:
    """The agent's browser."""
    with console(app) as client:
        yield signed_in_as(client, people["agent"])
