"""The published views user SQL may read, and keeping the database's copy equal to the code.

On SQLite the views live in the main schema; on PostgreSQL in schema `sql_api`, owned by the
application's user (so they read the base tables with its rights) and readable by the role
`carebase_sql`, which can read nothing else. `sync_views` creates or replaces every view
whose definition in the database differs from the code's, drops views no longer published,
and (PostgreSQL) grants the role; migration 0014 and every start of the server run it, so the
views always match the code that is running.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Connection, text

from carebase.query import columns as cols
from carebase.query import event_columns, pgrole
from carebase.query.columns import Column

PG_SCHEMA = pgrole.PG_SCHEMA
PG_ROLE = pgrole.PG_ROLE
# Locks the PostgreSQL sync against itself in other processes starting at once.
_PG_SYNC_LOCK = 0x73716C76  # "sqlv"
_DIGEST_PREFIX = "carebase view "


@dataclass(frozen=True, slots=True)
class View:
    """A published view: its name, what a row is, its columns and where rows come from."""

    name: str
    description: str
    columns: tuple[Column, ...]
    # FROM … WHERE …, with `{schema}` before each base table (PostgreSQL qualifies them).
    source_sqlite: str
    source_postgresql: str

    def column_types(self) -> dict[str, str]:
        """{column: sqlglot type}, for the gate."""
        return {column.name: cols.SQLGLOT_TYPES[column.type] for column in self.columns}

    def ddl(self, dialect: str, base_schema: str = "public") -> str:
        """CREATE VIEW for one engine."""
        select = ",\n  ".join(
            f"{column.expression(dialect)} AS {column.name}" for column in self.columns
        )
        source = self.source_sqlite if dialect == "sqlite" else self.source_postgresql
        body = f"SELECT\n  {select}\n{source}"
        if dialect == "sqlite":
            return f"CREATE VIEW {self.name} AS {body.replace('{schema}', '')}"
        qualified = body.replace("{schema}", f'"{base_schema}".')
        return f"CREATE VIEW {PG_SCHEMA}.{self.name} AS {qualified}"


def _families_join(schema: str = "{schema}") -> str:
    return (
        f"FROM {schema}profiles AS p "
        f"LEFT JOIN {schema}support_attributes AS s ON s.profile_id = p.id "
        f"LEFT JOIN {schema}commerce_attributes AS c ON c.profile_id = p.id "
        f"LEFT JOIN {schema}engagement_attributes AS e ON e.profile_id = p.id "
        f"LEFT JOIN {schema}customer_attributes AS k ON k.profile_id = p.id "
        "WHERE p.merged_into_id IS NULL"
    )


def _event_view(name: str, types: tuple[str, ...]) -> View:
    listed = ", ".join(f"'{record_type}'" for record_type in types)
    source = f"FROM {{schema}}events AS v WHERE v.record_type IN ({listed})"
    return View(
        name,
        f"One row per event of type {', '.join(types)}.",
        event_columns.event_columns(types),
        source,
        source,
    )


@lru_cache(maxsize=1)
def published_views() -> tuple[View, ...]:
    """Every view user SQL may read, in the order the docs and the console list them."""
    spend = (
        "FROM {schema}commerce_attributes AS c JOIN {schema}profiles AS p ON p.id = c.profile_id "
        "AND p.merged_into_id IS NULL"
    )
    return (
        View(
            "customer_360",
            "One row per live profile: links, every catalogue attribute, Amperity's columns.",
            cols.customer_360_columns(),
            _families_join(),
            _families_join(),
        ),
        View(
            "customer_spend",
            "One row per profile and currency it bought or returned in: money as numbers.",
            cols.customer_spend_columns(),
            f"{spend}, json_each(json_patch(c.returned, c.spend)) AS m",
            f"{spend} CROSS JOIN LATERAL jsonb_each(c.returned || c.spend) AS m",
        ),
        View(
            "ticket_events",
            "One row per ticket (its newest version), with the profile it belongs to.",
            event_columns.ticket_event_columns(),
            "FROM {schema}tickets AS t",
            "FROM {schema}tickets AS t",
        ),
        *(_event_view(name, types) for name, types in event_columns.event_view_names().items()),
    )


def view_names() -> frozenset[str]:
    """The published views' names."""
    return frozenset(view.name for view in published_views())


def schema_for_gate() -> dict[str, dict[str, str]]:
    """{view: {column: type}}: what the gate qualifies queries against."""
    return {view.name: view.column_types() for view in published_views()}


def _digest(ddl: str) -> str:
    return _DIGEST_PREFIX + hashlib.sha256(ddl.encode()).hexdigest()[:32]


def sync_views(connection: Connection) -> list[str]:
    """Create or replace each view whose stored definition differs from the code's; return
    the names (re)created. Runs inside the caller's transaction."""
    if connection.dialect.name == "sqlite":
        return _sync_sqlite(connection)
    return _sync_postgresql(connection)


def drop_views(connection: Connection) -> None:
    """Drop every published view (a migration that changes a table they read calls this
    first; the next sync recreates them)."""
    for view in published_views():
        if connection.dialect.name == "sqlite":
            connection.execute(text(f"DROP VIEW IF EXISTS {view.name}"))
        else:
            connection.execute(text(f"DROP VIEW IF EXISTS {PG_SCHEMA}.{view.name}"))


def _sync_sqlite(connection: Connection) -> list[str]:
    rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'view'"))
    stored: dict[str, str | None] = {str(name): sql for name, sql in rows}
    changed = []
    for view in published_views():
        ddl = view.ddl("sqlite")
        if stored.get(view.name) != ddl:
            connection.execute(text(f"DROP VIEW IF EXISTS {view.name}"))
            connection.exec_driver_sql(ddl)
            changed.append(view.name)
    return changed


def _sync_postgresql(connection: Connection) -> list[str]:
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_SYNC_LOCK})
    base = connection.execute(text("SELECT current_schema()")).scalar_one()
    connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}"))
    rows = connection.execute(
        text(
            "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class AS c "
            "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND c.relkind = 'v'"
        ),
        {"schema": PG_SCHEMA},
    )
    stored: dict[str, str | None] = {str(name): digest for name, digest in rows}
    published = {view.name for view in published_views()}
    for name in sorted(set(stored) - published):
        connection.execute(text(f'DROP VIEW IF EXISTS {PG_SCHEMA}."{name}"'))
    changed = []
    for view in published_views():
        ddl = view.ddl("postgresql", base)
        digest = _digest(ddl)
        if stored.get(view.name) != digest:
            connection.execute(text(f"DROP VIEW IF EXISTS {PG_SCHEMA}.{view.name}"))
            connection.exec_driver_sql(ddl)
            connection.exec_driver_sql(f"COMMENT ON VIEW {PG_SCHEMA}.{view.name} IS '{digest}'")
            changed.append(view.name)
    pgrole.grant(connection)
    return changed


def markdown_tables() -> str:
    """Every view's columns as the Markdown tables in docs/query.md."""
    parts = []
    for view in published_views():
        lines = [f"### `{view.name}`", "", view.description, ""]
        lines += ["| Column | Type | Meaning |", "|---|---|---|"]
        for column in view.columns:
            meaning = " ".join(column.description.replace("|", "/").split())
            lines.append(f"| `{column.name}` | {column.type} | {meaning} |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    print(markdown_tables(), end="")
