"""Migration 0011 on both engines: down to 0010 and back, and the constraints the database
itself keeps (one row per email, known roles and link purposes)."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from carebase.db.migrate import alembic_config, current_revision, head_revision
from carebase.db.session import Database

TABLES = {"users", "groups", "group_members", "user_sessions", "signin_links"}


def test_migration_0011_goes_down_and_up(database: Database) -> None:
    config = alembic_config(database.engine)
    command.downgrade(config, "0010")
    assert TABLES.isdisjoint(inspect(database.engine).get_table_names())
    command.upgrade(config, "head")
    assert current_revision(database.engine) == head_revision()
    assert set(inspect(database.engine).get_table_names()) >= TABLES


INSERT_USER = (
    "INSERT INTO users (email, first_name, last_name, role, created_at, updated_at) "
    "VALUES (:email, 'A', 'B', :role, '2026-11-23 12:00:00.000000', '2026-11-23 12:00:00.000000')"
)


def test_the_database_keeps_the_constraints(database: Database) -> None:
    with database.engine.begin() as connection:
        connection.execute(text(INSERT_USER), {"email": "a@b.io", "role": "agent"})
        row = connection.execute(
            text("SELECT id, timezone, sign_in_count, archived FROM users")
        ).one()
    assert tuple(row)[1:] == ("UTC", 0, False)
    for email, role in [("a@b.io", "agent"), ("c@d.io", "root")]:
        with pytest.raises(IntegrityError), database.engine.begin() as connection:
            connection.execute(text(INSERT_USER), {"email": email, "role": role})
    with pytest.raises(IntegrityError), database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO signin_links (id, token_hash, user_id, purpose, created_at, "
                "expires_at) VALUES ('sil_1', 'h', :user, 'login', '2026-11-23 12:00:00.000000', "
                "'2026-11-23 12:00:00.000000')"
            ),
            {"user": row.id},
        )
