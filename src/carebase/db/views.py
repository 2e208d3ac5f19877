"""Where the published SQL views live, for migrations that must not import the code that
defines them (`carebase.query.views`, which keeps them equal to the code at every start and
at `carebase migrate`).

A migration that changes a table the views read drops them all first with `drop_all_views`;
the next start creates them again.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

# PostgreSQL: the schema holding the views (and the function user SQL runs through).
VIEW_SCHEMA = "sql_api"


def drop_all_views(connection: Connection) -> None:
    """Drop every published view: on PostgreSQL their schema, on SQLite every view (carebase
    keeps no other)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"DROP SCHEMA IF EXISTS {VIEW_SCHEMA} CASCADE"))
        return
    rows = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'view'"))
    for name in [str(name) for (name,) in rows]:
        connection.execute(text(f'DROP VIEW IF EXISTS "{name}"'))
