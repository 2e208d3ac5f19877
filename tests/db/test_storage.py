"""Storage: SQLite durability settings, migrations that match the models, the unit of work."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from carebase.auth import service
from carebase.db.migrate import current_revision, head_revision, migrate_to_head
from carebase.db.session import Database
from carebase.models import ApiToken, Base, utcnow
from tests.conftest import test_settings


def test_sqlite_runs_in_wal_with_durable_commits(tmp_path: Path) -> None:
    database = Database.from_settings(test_settings(f"sqlite:///{tmp_path / 'x.db'}"))
    with database.engine.connect() as connection:
        pragmas = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
        }
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "synchronous": 2,
        "busy_timeout": 10_000,
    }
    # Counters skip the fsync: losing a rate-limit count in a crash is harmless.
    with database.counters_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 0
    database.dispose()


def test_sqlite_synchronous_normal_is_configurable(tmp_path: Path) -> None:
    settings = test_settings(f"sqlite:///{tmp_path / 'x.db'}", sqlite_synchronous="NORMAL")
    database = Database.from_settings(settings)
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    database.dispose()


def _on_this_engine(dialect: str) -> Callable[..., bool]:
    """Alembic's comparison ignores `ddl_if`: leave out the indexes made for the other engine
    (models/records.py defines the event-window index once per engine)."""

    def include(item: object, name: str | None, type_: str, reflected: bool, _: object) -> bool:
        condition = getattr(item, "_ddl_if", None)
        if type_ != "index" or reflected or condition is None or condition.dialect is None:
            return True
        return bool(condition.dialect == dialect)

    return include


def test_migrations_build_exactly_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "include_object": _on_this_engine(database.dialect)},
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    assert current_revision(database.engine) == head_revision()


def test_migrating_twice_changes_nothing(database: Database) -> None:
    before, after = migrate_to_head(database.engine)
    assert before == after == head_revision()


def test_rate_limit_counters_skip_the_wal_on_postgresql(database: Database) -> None:
    assert "rate_limit_counters" in inspect(database.engine).get_table_names()
    if database.dialect != "postgresql":
        return  # SQLite has no UNLOGGED; its counters connection skips the fsync instead.
    with database.engine.connect() as connection:
        persistence = connection.execute(
            text("SELECT relpersistence FROM pg_class WHERE relname = 'rate_limit_counters'")
        ).scalar()
    assert persistence == "u"


def test_failed_unit_of_work_leaves_nothing(database: Database) -> None:
    def write_then_fail() -> None:
        with database.unit_of_work() as session:
            service.create_token(
                session, name="half", scopes=["admin"], now=utcnow(), created_by=None
            )
            raise RuntimeError("fail after the write")

    with pytest.raises(RuntimeError):
        write_then_fail()
    with database.unit_of_work(write=False) as session:
        assert session.scalars(select(ApiToken)).all() == []


def test_committed_unit_of_work_is_visible_to_a_new_connection(database: Database) -> None:
    with database.unit_of_work() as session:
        service.create_token(session, name="kept", scopes=["admin"], now=utcnow(), created_by=None)
    other = Database.from_settings(test_settings(str(database.engine.url.render_as_string(False))))
    with other.unit_of_work(write=False) as session:
        assert [t.name for t in session.scalars(select(ApiToken))] == ["kept"]
    other.dispose()


def test_concurrent_processes_migrate_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    script = (
        "from carebase.db.migrate import migrate_to_head;"
        "from carebase.db.session import Database;"
        "from carebase.settings import Settings;"
        f"db = Database.from_settings(Settings(database_url={url!r}, _env_file=None));"
        "print(migrate_to_head(db.engine))"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = [process.communicate(timeout=60)[0].strip() for process in processes]
    assert all(process.returncode == 0 for process in processes)
    head = head_revision()
    assert outputs.count(f"(None, '{head}')") == 1
    assert outputs.count(f"('{head}', '{head}')") == 3
    database = Database.from_settings(test_settings(url))
    assert "api_tokens" in inspect(database.engine).get_table_names()
    database.dispose()
