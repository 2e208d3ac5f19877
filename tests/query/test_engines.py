"""Each engine's enforcement on its own, the gate bypassed: hostile SQL sent straight to
`run_sqlite` / `run_postgresql` is still refused, and a runaway query stops at its deadline."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import text

from carebase.db.session import Database
from carebase.errors import CarebaseError, QueryTimeout, SqlFailed, SqlRefused
from carebase.query.engines import run_postgresql, run_sqlite
from carebase.query.views import PG_ROLE
from carebase.settings import Settings
from tests.conftest import make_token

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
RUNAWAY = (
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1000000000000) "
    "SELECT count(*) FROM r"
)
CROSS_JOIN = (
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 100000) "
    "SELECT count(*) FROM r AS a, r AS b"
)
# Internal tables read every way we could think of.
READS = [
    "SELECT * FROM api_tokens",
    "SELECT token_hash FROM api_tokens",
    'SELECT * FROM "api_tokens"',
    "SELECT * FROM user_sessions",
    "SELECT * FROM connectors",
    "SELECT * FROM users",
    "SELECT * FROM profiles",
    "SELECT * FROM tickets",
    "SELECT (SELECT count(token_hash) FROM api_tokens)",
    "SELECT profile_id FROM customer_360 WHERE profile_id IN (SELECT token_hash FROM api_tokens)",
    "WITH t AS (SELECT token_hash FROM api_tokens) SELECT * FROM t",
    # A WITH query named like a view reads under that view's name: still refused.
    "WITH customer_360 AS (SELECT token_hash FROM api_tokens) SELECT * FROM customer_360",
]
WRITES = [
    "INSERT INTO api_tokens (id) VALUES ('x')",
    "UPDATE users SET email = 'x'",
    "DELETE FROM api_tokens",
    "CREATE TABLE stolen (a TEXT)",
    "DROP TABLE api_tokens",
    "DROP VIEW customer_360",
]


def _sqlite(settings: Settings, sql: str, timeout: float = 5.0) -> list[tuple[object, ...]]:
    assert settings.sqlite_path is not None
    return run_sqlite(settings.sqlite_path, sql, max_rows=10, timeout_seconds=timeout).rows


def _pg(database: Database, sql: str, timeout: float = 5.0) -> list[tuple[object, ...]]:
    return run_postgresql(database.engine, sql, max_rows=10, timeout_seconds=timeout).rows


@pytest.fixture(autouse=True)
def _a_token(database: Database) -> None:
    make_token(database, "admin")


@SQLITE
def test_sqlite_reads_the_views(settings: Settings) -> None:
    assert _sqlite(settings, "SELECT count(*) FROM customer_360") == [(0,)]
    assert _sqlite(settings, "SELECT count(*) FROM json_each('[1, 2]')") == [(2,)]


@SQLITE
@pytest.mark.parametrize(
    "sql",
    [
        *READS,
        *WRITES,
        "SELECT * FROM sqlite_master",
        "SELECT * FROM pragma_table_info('api_tokens')",
        "SELECT * FROM dbstat",
        "SELECT * FROM sqlite_schema",
        "PRAGMA table_info(api_tokens)",
        "PRAGMA query_only = 0",
        "ATTACH DATABASE '/tmp/carebase-stolen.db' AS stolen",
        "SELECT load_extension('/tmp/x.so')",
        "SELECT randomblob(10)",
    ],
)
def test_sqlite_refuses_everything_but_reading_the_views(settings: Settings, sql: str) -> None:
    with pytest.raises(SqlRefused, match=r"may read only the published views|not allowed"):
        _sqlite(settings, sql)


@SQLITE
def test_sqlite_runs_one_statement(settings: Settings) -> None:
    with pytest.raises(SqlRefused, match="one statement"):
        _sqlite(settings, "SELECT 1; DELETE FROM api_tokens")


@SQLITE
def test_sqlite_stops_a_runaway_query_at_its_deadline(settings: Settings) -> None:
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match=r"longer than 0\.3 s"):
        _sqlite(settings, RUNAWAY, timeout=0.3)
    assert time.monotonic() - started < 2
    with pytest.raises(QueryTimeout):
        _sqlite(settings, CROSS_JOIN, timeout=0.3)


@SQLITE
def test_sqlite_connection_is_read_only_underneath(settings: Settings) -> None:
    # Even with the authorizer out of the way, the connection itself cannot write.
    import sqlite3

    assert settings.sqlite_path is not None
    uri = f"file:{settings.sqlite_path.resolve()}?mode=ro"
    connection = sqlite3.connect(uri, uri=True)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            connection.execute("DELETE FROM api_tokens")
    finally:
        connection.close()


@POSTGRESQL
def test_postgresql_reads_the_views(database: Database) -> None:
    assert _pg(database, "SELECT count(*) FROM customer_360") == [(0,)]


@POSTGRESQL
@pytest.mark.parametrize(
    "sql",
    [
        *READS,
        *(sql.replace("FROM ", "FROM public.") for sql in READS[:8]),
        *WRITES,
        "CREATE TEMP TABLE stolen (a TEXT)",
        "INSERT INTO customer_360 (profile_id) VALUES ('x')",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT * FROM pg_read_binary_file('/etc/passwd')",
        "SELECT lo_import('/etc/passwd')",
        "COPY (SELECT 1) TO '/tmp/stolen'",
        "SELECT 1; RESET ROLE",
        "SELECT 1; SELECT token_hash FROM public.api_tokens",
        "WITH gone AS (DELETE FROM public.api_tokens RETURNING id) SELECT * FROM gone",
        # A change of role from inside the query: refused inside the SECURITY DEFINER runner.
        "SELECT set_config('role', current_setting('session_authorization'), true)",
        "SELECT set_config('role', 'none', false), query_to_xml("
        "'select token_hash from public.api_tokens', true, false, '')",
    ],
)
def test_postgresql_refuses_everything_but_reading_the_views(database: Database, sql: str) -> None:
    with pytest.raises(
        SqlRefused,
        match=r"may read only the published views|not allowed|one stat|One stat|Only one SELECT",
    ):
        _pg(database, sql)


@POSTGRESQL
def test_postgresql_stops_a_runaway_query_at_its_deadline(database: Database) -> None:
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match=r"longer than 0\.3 s"):
        _pg(database, RUNAWAY, timeout=0.3)
    with pytest.raises(QueryTimeout):
        _pg(database, "SELECT pg_sleep(30)", timeout=0.3)
    with pytest.raises(QueryTimeout):
        _pg(database, CROSS_JOIN, timeout=0.3)
    assert time.monotonic() - started < 3
    # The pooled connection is clean afterwards: back to the application's own role.
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT current_user")).scalar_one() != PG_ROLE
        assert connection.execute(text("SELECT count(*) FROM api_tokens")).scalar_one() >= 1


@POSTGRESQL
def test_the_role_cannot_read_the_base_tables(database: Database) -> None:
    raw = psycopg.connect(
        database.engine.url.render_as_string(hide_password=False).replace(
            "postgresql+psycopg", "postgresql"
        )
    )
    try:
        raw.execute(f"SET ROLE {PG_ROLE}")
        for table in ("api_tokens", "user_sessions", "connectors", "profiles", "profile_links"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                raw.execute(f"SELECT 1 FROM public.{table} LIMIT 1")  # noqa: S608
            raw.rollback()
            raw.execute(f"SET ROLE {PG_ROLE}")
        assert raw.execute("SELECT count(*) FROM sql_api.ticket_events").fetchone() == (0,)
    finally:
        raw.close()


@POSTGRESQL
def test_an_engine_error_is_a_400_naming_it(database: Database) -> None:
    with pytest.raises(SqlFailed) as failed:
        _pg(database, "SELECT 1 / 0")
    assert failed.value.status_code == 400
    assert "division by zero" in failed.value.message
    assert isinstance(failed.value, CarebaseError)
