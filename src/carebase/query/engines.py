"""Running checked SQL with each engine's own enforcement underneath the gate.

SQLite: a connection of its own opened read-only (`mode=ro`), `PRAGMA query_only`, an
authorizer that allows reading the published views only (and, through a view, the base
columns that view reads), allowed functions and recursive CTEs, nothing else; a progress
handler stops the statement at its deadline.

PostgreSQL: a pooled connection in a `READ ONLY` transaction, as the role `carebase_sql`
(which may read schema `sql_api`'s views and nothing else), with `statement_timeout` and
`search_path = sql_api`, always rolled back; the query itself runs inside the role's
SECURITY DEFINER function `sql_api.carebase_run`, where no change of role is possible.

Both take SQL as given: the gate decides what reaches them; tests call them directly to show
each layer holds on its own.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from sqlalchemy import Engine

from carebase.errors import QueryRoleMissing, QueryTimeout, SqlFailed, SqlRefused
from carebase.query.functions import ALLOWED_FUNCTIONS
from carebase.query.pgrole import PG_ROLE, PG_SCHEMA, RUNNER
from carebase.query.views import published_views

# sqlite3's authorizer action codes (the module names most of them; RECURSIVE came later).
_SELECT, _READ, _FUNCTION, _RECURSIVE = 21, 20, 31, 33
_OK, _DENY = 0, 1
# Virtual tables the allowed JSON functions read as tables.
_TABLE_FUNCTIONS = frozenset({"json_each", "json_tree"})
# The progress handler runs every this many virtual-machine instructions.
_PROGRESS_STEPS = 2_000


@dataclass(frozen=True, slots=True)
class Fetched:
    """The rows an engine returned (at most the cap it was given)."""

    rows: list[tuple[Any, ...]]
    names: tuple[str, ...]


# ---- SQLite --------------------------------------------------------------------------------

# {database path: (view name → base (table, column) pairs it reads, functions views call)}.
_VIEW_READS: dict[str, tuple[dict[str, frozenset[tuple[str, str]]], frozenset[str]]] = {}


def _recorded_view_reads(
    connection: sqlite3.Connection,
) -> tuple[dict[str, frozenset[tuple[str, str]]], frozenset[str]]:
    """What each published view reads and calls, as SQLite reports it while preparing it."""
    reads: dict[str, set[tuple[str, str]]] = {view.name: set() for view in published_views()}
    functions: set[str] = set()

    def record(action: int, first: str | None, second: str | None, _db: Any, inner: Any) -> int:
        if action == _READ and inner in reads and first is not None and second is not None:
            reads[inner].add((first, second))
        elif action == _FUNCTION and second is not None:
            functions.add(second.lower())
        return _OK

    connection.set_authorizer(record)
    try:
        for view in published_views():
            connection.execute(f"EXPLAIN SELECT * FROM {view.name}").fetchall()  # noqa: S608
    finally:
        connection.set_authorizer(None)
    return {name: frozenset(pairs) for name, pairs in reads.items()}, frozenset(functions)


def _schema_names(connection: sqlite3.Connection) -> frozenset[str]:
    """Every name that is not a WITH query: tables, views, indexes, virtual-table modules."""
    names = {name.lower() for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    names |= {name.lower() for (name,) in connection.execute("SELECT name FROM pragma_module_list")}
    return frozenset(names | {"sqlite_master", "sqlite_schema", "sqlite_temp_master"})


def _authorizer(
    view_reads: dict[str, frozenset[tuple[str, str]]],
    view_functions: frozenset[str],
    schema_names: frozenset[str],
) -> Callable[[int, str | None, str | None, str | None, str | None], int]:
    functions = ALLOWED_FUNCTIONS | view_functions | {"->", "->>"}

    def with_query(table: str) -> bool:
        # A materialised WITH query is read under its own name, which names nothing stored.
        return table not in schema_names and not table.startswith(("sqlite_", "pragma_"))

    def authorize(
        action: int, first: str | None, second: str | None, _db: str | None, inner: str | None
    ) -> int:
        if action in (_SELECT, _RECURSIVE):
            return _OK
        if action == _READ and first is not None:
            table = first.lower()
            if inner is None:
                # The query's own reads: a view's columns, a JSON table function's, or a
                # WITH query's.
                ok = table in view_reads or table in _TABLE_FUNCTIONS or with_query(table)
                return _OK if ok else _DENY
            # Inside a view: only what that view's definition reads. A WITH query named
            # like a view also reports its reads under that name, so the pair is checked.
            allowed = view_reads.get(inner, frozenset())
            ok = (first, second) in allowed or table in _TABLE_FUNCTIONS
            return _OK if ok else _DENY
        if action == _FUNCTION and second is not None:
            return _OK if second.lower() in functions else _DENY
        return _DENY

    return authorize


def _open_sqlite(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    """A connection of its own, read-only, with the authorizer installed."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    connection = sqlite3.connect(
        uri, uri=True, timeout=busy_timeout_ms / 1000, isolation_level=None
    )
    try:
        connection.execute("PRAGMA query_only = 1")
        # SQLite builds the JSON table functions' virtual tables on first use, through steps
        # the authorizer would refuse: build them before it is installed.
        connection.execute("SELECT 1 FROM json_each('[]'), json_tree('[]')").fetchall()
        key = str(path.resolve())
        if key not in _VIEW_READS:
            _VIEW_READS[key] = _recorded_view_reads(connection)
        # Read for each query: a table a migration adds later is refused from the start.
        names = _schema_names(connection)
        connection.set_authorizer(_authorizer(*_VIEW_READS[key], names))
    except BaseException:
        connection.close()
        raise
    return connection


class _Deadline:
    """A progress handler that stops the statement once its time is up."""

    def __init__(self, connection: sqlite3.Connection, timeout_seconds: float) -> None:
        self.deadline = time.monotonic() + timeout_seconds
        self.timed_out = False
        connection.set_progress_handler(self._past, _PROGRESS_STEPS)

    def _past(self) -> int:
        self.timed_out = time.monotonic() > self.deadline
        return 1 if self.timed_out else 0


def run_sqlite(
    path: Path, sql: str, *, max_rows: int, timeout_seconds: float, busy_timeout_ms: int = 5000
) -> Fetched:
    """Run `sql` on its own read-only connection to the database file."""
    connection = _open_sqlite(path, busy_timeout_ms)
    try:
        deadline = _Deadline(connection, timeout_seconds)
        try:
            cursor = connection.execute(sql)
            rows = cursor.fetchmany(max_rows + 1)
        except sqlite3.Error as error:
            raise _sqlite_error(error, deadline.timed_out, timeout_seconds) from error
        columns = tuple(column[0] for column in cursor.description or ())
        return Fetched(rows, columns)
    finally:
        connection.close()


def stream_sqlite(
    path: Path, sql: str, *, chunk: int, timeout_seconds: float, busy_timeout_ms: int = 5000
) -> Iterator[Fetched]:
    """Run `sql` as `run_sqlite` does, with no row cap: the rows in chunks of at most
    `chunk`, read as they are consumed. The deadline covers the whole read."""
    connection = _open_sqlite(path, busy_timeout_ms)
    try:
        deadline = _Deadline(connection, timeout_seconds)
        try:
            cursor = connection.execute(sql)
            columns = tuple(column[0] for column in cursor.description or ())
            while True:
                rows = cursor.fetchmany(chunk)
                if not rows:
                    return
                yield Fetched(rows, columns)
        except sqlite3.Error as error:
            raise _sqlite_error(error, deadline.timed_out, timeout_seconds) from error
    finally:
        connection.close()


def _sqlite_error(error: sqlite3.Error, timed_out: bool, timeout: float) -> Exception:
    message = str(error)
    if timed_out or message == "interrupted":
        return QueryTimeout(f"The query ran longer than {timeout:g} s and was stopped.")
    if "one statement at a time" in message:
        return SqlRefused("Only one statement is allowed.")
    if any(word in message for word in ("not authorized", "prohibited", "vtable constructor")):
        return SqlRefused(
            f"The database refused this SQL: it may read only the published views ({message})."
        )
    if "readonly" in message or "read-only" in message:
        return SqlRefused(f"Writes are not allowed ({message}).")
    return SqlFailed(f"The database could not run this SQL: {message}.")


def forget_view_reads() -> None:
    """Drop what was recorded about the views (after they are recreated)."""
    _VIEW_READS.clear()


# ---- PostgreSQL ----------------------------------------------------------------------------


def _pg_prepare(cursor: psycopg.Cursor[Any], timeout_seconds: float) -> None:
    """Read-only, as the SQL role, with the timeout, the views' schema and UTC."""
    try:
        cursor.execute("SET TRANSACTION READ ONLY")
        cursor.execute(f"SET LOCAL ROLE {PG_ROLE}")
    except psycopg.Error as error:
        raise QueryRoleMissing(
            f"SQL queries run as the PostgreSQL role {PG_ROLE}, which this database user "
            f"cannot become ({_pg_message(error)}); an operator creates it as "
            "docs/query.md shows."
        ) from error
    milliseconds = max(1, int(timeout_seconds * 1000))
    cursor.execute(f"SET LOCAL statement_timeout = {milliseconds}")
    cursor.execute(f"SET LOCAL search_path = {PG_SCHEMA}")
    # Timestamps in the JSON rows are written in the session's zone: UTC, as SQLite's.
    cursor.execute("SET LOCAL TimeZone = 'UTC'")


def run_postgresql(engine: Engine, sql: str, *, max_rows: int, timeout_seconds: float) -> Fetched:
    """Run `sql` as `carebase_sql` in a read-only transaction that is always rolled back."""
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert isinstance(driver, psycopg.Connection)
        cursor = driver.cursor()
        _pg_prepare(cursor, timeout_seconds)
        try:
            # Through the SECURITY DEFINER runner (no change of role inside it), as a
            # parameter over the extended protocol: one statement only.
            cursor.execute(f"SELECT {RUNNER}(%s)", (sql,))
            rows = cursor.fetchmany(max_rows + 1)
        except psycopg.Error as error:
            raise _pg_error(error, timeout_seconds) from error
        return Fetched([tuple(row[0] or ()) for row in rows], ())
    finally:
        try:
            raw.rollback()
        finally:
            raw.close()


def stream_postgresql(
    engine: Engine, sql: str, *, chunk: int, timeout_seconds: float
) -> Iterator[Fetched]:
    """Run `sql` as `run_postgresql` does, with no row cap: a server-side cursor read in
    chunks of at most `chunk` rows as they are consumed. `statement_timeout` bounds each
    fetch; the transaction is read-only and always rolled back."""
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert isinstance(driver, psycopg.Connection)
        _pg_prepare(driver.cursor(), timeout_seconds)
        try:
            with driver.cursor(name="carebase_stream") as cursor:
                cursor.execute(f"SELECT {RUNNER}(%s)", (sql,))
                while True:
                    rows = cursor.fetchmany(chunk)
                    if not rows:
                        return
                    yield Fetched([tuple(row[0] or ()) for row in rows], ())
        except psycopg.Error as error:
            raise _pg_error(error, timeout_seconds) from error
    finally:
        try:
            raw.rollback()
        finally:
            raw.close()


def _pg_message(error: psycopg.Error) -> str:
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None)
    return str(primary or error).strip().splitlines()[0]


def _pg_error(error: psycopg.Error, timeout: float) -> Exception:
    message = _pg_message(error)
    if isinstance(error, psycopg.errors.QueryCanceled):
        return QueryTimeout(f"The query ran longer than {timeout:g} s and was stopped.")
    if "multiple commands" in message:
        return SqlRefused("Only one statement is allowed.")
    if "within security-definer function" in message:
        return SqlRefused(f"Changing role or session settings is not allowed ({message}).")
    if isinstance(error, psycopg.errors.InsufficientPrivilege | psycopg.errors.UndefinedTable):
        return SqlRefused(
            f"The database refused this SQL: it may read only the published views ({message})."
        )
    if isinstance(error, psycopg.errors.SyntaxError | psycopg.errors.FeatureNotSupported):
        # The runner takes only a query: a write or DDL statement does not even parse there.
        return SqlRefused(f"Only one SELECT may run ({message}).")
    if isinstance(
        error, psycopg.errors.ReadOnlySqlTransaction | psycopg.errors.ObjectNotInPrerequisiteState
    ):
        return SqlRefused(f"Writes are not allowed ({message}).")
    return SqlFailed(f"The database could not run this SQL: {message}.")
