"""Apply Alembic migrations, one process at a time."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same in every carebase process.
_PG_MIGRATION_LOCK_KEY = 0x63617265  # "care"


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config pointing at carebase's migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest migration shipped with this version."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it is empty."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate_to_head(engine: Engine) -> tuple[str | None, str]:
    """Upgrade the database to the newest revision; return (before, after).

    Safe to call from several processes at once: they queue on a lock and all
    but the first find nothing to do.
    """
    with _migration_lock(engine):
        before = current_revision(engine)
        head = head_revision()
        if before != head:
            command.upgrade(alembic_config(engine), "head")
        return before, head


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            _pg_lock(connection, True)
            try:
                yield
            finally:
                _pg_lock(connection, False)
        return
    database = engine.url.database
    assert database is not None
    lock_path = Path(database).with_name(Path(database).name + ".migrate.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pg_lock(connection: Connection, acquire: bool) -> None:
    function = "pg_advisory_lock" if acquire else "pg_advisory_unlock"
    connection.execute(text(f"SELECT {function}(:key)"), {"key": _PG_MIGRATION_LOCK_KEY})
    connection.commit()
