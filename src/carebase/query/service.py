"""Safe SQL: run a query through the gate and the engine's enforcement; saved queries."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.db.engine import writer
from carebase.db.session import Database
from carebase.errors import Conflict, NotFound, SourceInUse, ValidationFailed, problem
from carebase.ids import new_id
from carebase.kit import pagination
from carebase.query import engines, gate, repository
from carebase.query.columns import Column
from carebase.query.values import csv_chunks, rows_json_safe
from carebase.query.views import View, schema_for_gate, sync_views
from carebase.query.views import published_views as _published
from carebase.settings import Settings

DEFAULT_ROWS = 100
MAX_ROWS = 10_000
NAME_MAX, DESCRIPTION_MAX = 200, 2000


@dataclass(slots=True)
class QueryResult:
    """What a query answers: column names, rows of JSON-safe values, whether rows were cut."""

    columns: list[str]
    rows: list[list[Any]]
    truncated: bool
    elapsed_ms: float
    types: list[str] = field(default_factory=list)

    def csv(self) -> Iterator[str]:
        """The result as CSV chunks."""
        return csv_chunks(self.columns, self.rows)


def published_views() -> list[View]:
    """Every view SQL may read, with its columns (name, type, description)."""
    return list(_published())


def view_columns(view: View) -> list[Column]:
    """A view's columns, in order."""
    return list(view.columns)


def check_sql(sql: str, *, dialect: str, max_rows: int = DEFAULT_ROWS) -> gate.CheckedQuery:
    """The gate's verdict on `sql` for this engine (SqlRefused / SqlSyntaxError when it fails)."""
    return gate.check(sql, dialect=dialect, schema=schema_for_gate(), max_rows=max_rows)


def run_query(
    database: Database, sql: str, *, settings: Settings, max_rows: int = DEFAULT_ROWS
) -> QueryResult:
    """Run user SQL read-only: the gate, then the engine's own enforcement; at most
    `max_rows` rows (1 to 10 000), `truncated` when there were more."""
    if not 1 <= max_rows <= MAX_ROWS:
        raise ValidationFailed.on("limit", f"must be between 1 and {MAX_ROWS}")
    started = time.perf_counter()
    checked = check_sql(sql, dialect=database.dialect, max_rows=max_rows)
    timeout = settings.query_timeout_seconds
    if database.dialect == "sqlite":
        path = settings.sqlite_path
        assert path is not None
        fetched = engines.run_sqlite(
            path,
            checked.sql,
            max_rows=max_rows,
            timeout_seconds=timeout,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        )
    else:
        fetched = engines.run_postgresql(
            database.engine, checked.sql, max_rows=max_rows, timeout_seconds=timeout
        )
    rows = fetched.rows[:max_rows]
    return QueryResult(
        columns=_names(checked.columns, fetched),
        rows=rows_json_safe(rows, checked.types, stored_text=database.dialect == "sqlite"),
        truncated=len(fetched.rows) > max_rows,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 3),
        types=list(checked.types),
    )


# What the gate's LIMIT is set to for an uncapped read (an activation's source): no real
# result reaches it, and both engines take it as a 64-bit integer.
UNCAPPED = 2**62
STREAM_CHUNK = 1000


@dataclass(slots=True)
class QueryChunk:
    """Some rows of a streamed query: column names and JSON-safe rows."""

    columns: list[str]
    rows: list[list[Any]]


def stream_query(
    database: Database, sql: str, *, settings: Settings, chunk: int = STREAM_CHUNK
) -> Iterator[QueryChunk]:
    """Run user SQL as `run_query` does (the same gate, the same read-only engine layers),
    without the row cap, for activation: the rows in chunks, read as they are consumed.
    Bounded by `activation_query_timeout_seconds`. The gate runs before the first chunk."""
    checked = check_sql(sql, dialect=database.dialect, max_rows=UNCAPPED)
    timeout = settings.activation_query_timeout_seconds
    fetched: Iterator[engines.Fetched]
    if database.dialect == "sqlite":
        path = settings.sqlite_path
        assert path is not None
        fetched = engines.stream_sqlite(
            path,
            checked.sql,
            chunk=chunk,
            timeout_seconds=timeout,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        )
    else:
        fetched = engines.stream_postgresql(
            database.engine, checked.sql, chunk=chunk, timeout_seconds=timeout
        )
    return _chunks(checked, fetched, stored_text=database.dialect == "sqlite")


def _chunks(
    checked: gate.CheckedQuery, fetched: Iterator[engines.Fetched], *, stored_text: bool
) -> Iterator[QueryChunk]:
    for part in fetched:
        yield QueryChunk(
            columns=_names(checked.columns, part),
            rows=rows_json_safe(part.rows, checked.types, stored_text=stored_text),
        )


def _names(checked: tuple[str, ...], fetched: engines.Fetched) -> list[str]:
    """The gate's names for the columns; the engine's, or positions, when they disagree (a
    star over a table function the gate cannot expand)."""
    width = len(fetched.rows[0]) if fetched.rows else len(fetched.names or checked)
    if len(checked) == width:
        return list(checked)
    if len(fetched.names) == width:
        return list(fetched.names)
    return [f"column_{index}" for index in range(1, width + 1)]


# ---- saved queries --------------------------------------------------------------------------


def _clean(name: str, description: str, sql: str, dialect: str) -> dict[str, str]:
    problems = []
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        problems.append(problem("name", f"must be 1 to {NAME_MAX} characters"))
    if len(description) > DESCRIPTION_MAX:
        problems.append(problem("description", f"must be at most {DESCRIPTION_MAX} characters"))
    if problems:
        raise ValidationFailed(details=problems)
    # Saved SQL passes the gate now, so running it later fails only if the views change.
    check_sql(sql, dialect=dialect)
    return {"name": name, "description": description, "sql": sql}


def _name_free(session: Session, name: str, other_than: str | None = None) -> None:
    if repository.name_taken(session, name, other_than=other_than):
        raise Conflict(f"A saved query is already named {name!r}.")


def create_query(
    session: Session,
    *,
    name: str,
    description: str,
    sql: str,
    dialect: str,
    created_by: str | None,
    now: datetime,
) -> dict[str, Any]:
    """Save a named query (its SQL must pass the gate)."""
    values: dict[str, Any] = _clean(name, description, sql, dialect)
    _name_free(session, values["name"])
    values |= {
        "id": new_id("qry"),
        "created_by": created_by,
        "created_at": now,
        "updated_at": now,
    }
    repository.add(session, values)
    return values


def get_query(session: Session, query_id: str) -> dict[str, Any]:
    """One saved query, or NotFound."""
    found = repository.get(session, query_id)
    if found is None:
        raise NotFound(f"No saved query with id {query_id!r}.")
    return found


def list_queries(
    session: Session, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], str | None]:
    """Saved queries by name, a page at a time; (rows, next cursor or None)."""
    after = pagination.decode(cursor, str, str) if cursor else None
    rows = repository.page(session, after=(after[0], after[1]) if after else None, limit=limit + 1)
    following = None
    if len(rows) > limit:
        rows = rows[:limit]
        following = pagination.encode(rows[-1]["name"], rows[-1]["id"])
    return rows, following


def update_query(
    session: Session,
    query_id: str,
    *,
    name: str,
    description: str,
    sql: str,
    dialect: str,
    now: datetime,
) -> dict[str, Any]:
    """Replace a saved query's name, description and SQL (the SQL must pass the gate)."""
    get_query(session, query_id)
    values = _clean(name, description, sql, dialect)
    _name_free(session, values["name"], other_than=query_id)
    repository.set_fields(session, query_id, **values, updated_at=now)
    return get_query(session, query_id)


def delete_query(session: Session, query_id: str) -> None:
    """Delete a saved query; NotFound, or SourceInUse (409) while orchestrations send it."""
    # Locked first: an orchestration saved meanwhile either waits and then finds the query
    # gone, or commits first and is seen here.
    if not repository.lock(session, query_id):
        get_query(session, query_id)
    users = repository.orchestrations_using(session, query_id)
    if users:
        raise SourceInUse(
            f"Saved query {query_id} is sent by {', '.join(users)}; change or delete those first.",
            details={"used_by": users},
        )
    repository.remove(session, query_id)


def run_saved_query(
    database: Database, query_id: str, *, settings: Settings, max_rows: int = DEFAULT_ROWS
) -> QueryResult:
    """Run a saved query as `run_query` runs SQL."""
    with database.unit_of_work(write=False) as session:
        sql = get_query(session, query_id)["sql"]
    return run_query(database, sql, settings=settings, max_rows=max_rows)


def sync_query_views(database: Database) -> list[str]:
    """Make the database's published views match this code (at start-up); the names
    recreated."""
    with writer(database.engine).begin() as connection:
        changed = sync_views(connection)
    if changed:
        engines.forget_view_reads()
    return changed
