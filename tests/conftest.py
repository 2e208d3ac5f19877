"""Fixtures: every test runs on a fresh SQLite file and a fresh PostgreSQL database.

Both schemas are built by the Alembic migrations, once per session into a template
(a file copied per test; a PostgreSQL TEMPLATE database cloned per test).
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carebase.app import create_app
from carebase.auth import service as auth_service
from carebase.db.migrate import migrate_to_head
from carebase.db.session import Database
from carebase.query.service import sync_query_views
from carebase.settings import Settings, get_settings
from tests.pg import PostgresServer, find_pg_bin, start_postgres

IN_CI = os.environ.get("CI", "").lower() == "true"
TEMPLATE_DB = "carebase_template"
_pg_unavailable_reason: str | None = None
_counter = itertools.count()


class FakeClock:
    """The app's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer | None]:
    """The session's PostgreSQL server with a migrated template database, or None."""
    global _pg_unavailable_reason
    if find_pg_bin() is None:
        _pg_unavailable_reason = "PostgreSQL binaries (initdb, pg_ctl) not found"
        yield None
        return
    server = start_postgres()
    try:
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        template = Database.from_settings(test_settings(server.url(TEMPLATE_DB)))
        migrate_to_head(template.engine)
        sync_query_views(template)
        template.dispose()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file built by the migrations, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    database = Database.from_settings(test_settings(f"sqlite:///{path}"))
    migrate_to_head(database.engine)
    sync_query_views(database)
    database.dispose()
    return path


def test_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for a test database, independent of the developer's environment."""
    values: dict[str, object] = {
        "database_url": database_url,
        "env": "test",
        "migrate_on_start": False,
        "sqlite_busy_timeout_ms": 10_000,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


test_settings.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """A fresh, migrated database on each engine."""
    if request.param == "sqlite":
        path = tmp_path / "carebase.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer | None = request.getfixturevalue("postgres")
    if server is None:
        if IN_CI:
            pytest.fail(f"CI=true but {_pg_unavailable_reason}: PostgreSQL tests cannot be skipped")
        pytest.skip(_pg_unavailable_reason or "PostgreSQL unavailable")
    name = f"test_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    yield server.url(name)
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings pointing at this test's database."""
    return test_settings(database_url)


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    """This test's database."""
    db = Database.from_settings(settings)
    yield db
    db.dispose()


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test moves."""
    return FakeClock()


@pytest.fixture
def app(settings: Settings, database: Database, clock: FakeClock) -> FastAPI:
    """The real app on this test's database. Jobs don't run in the background here (a test
    that wants them runs a worker itself), so no thread races a test's own database work."""
    return create_app(settings, database=database, clock=clock, run_jobs=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client talking to the app in-process (lifespan included)."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def make_token(database: Database, *scopes: str, name: str = "test") -> str:
    """Create a token directly through the service; return its secret."""
    with database.unit_of_work() as session:
        created = auth_service.create_token(
            session, name=name, scopes=list(scopes), now=datetime.now(UTC), created_by="test"
        )
    return created.secret


@pytest.fixture
def admin_token(database: Database) -> str:
    """An admin token's secret."""
    return make_token(database, "admin", name="admin")


@pytest.fixture(autouse=True)
def _fresh_settings_cache() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say loudly when the PostgreSQL half of the suite did not run."""
    if _pg_unavailable_reason:
        terminalreporter.write_sep("!", "POSTGRESQL TESTS SKIPPED", red=True, bold=True)
        terminalreporter.write_line(
            f"{_pg_unavailable_reason}. Install PostgreSQL (e.g. apt-get install postgresql) "
            "or set CAREBASE_TEST_PG_BIN to the directory holding initdb and pg_ctl.",
            red=True,
        )
