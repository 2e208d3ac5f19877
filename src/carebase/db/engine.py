"""Engines for SQLite (WAL, durable commits) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.schema import CreateTable

from carebase import jsonutil
from carebase.models import PacingSlot, RateLimitCounter
from carebase.models.base import table
from carebase.settings import Settings

# Execution option naming how a SQLite transaction begins. Writers take the
# write lock up front (BEGIN IMMEDIATE) so that two writers never deadlock on a
# lock upgrade, which busy_timeout cannot resolve.
SQLITE_BEGIN_OPTION = "carebase_sqlite_begin"

# A request admitted by AdmissionMiddleware finds a connection at once; waiting longer than
# this for one means the process is overloaded, answered 503 rather than held for 30 s.
POOL_TIMEOUT_SECONDS = 5.0


def create_db_engine(settings: Settings, *, durable: bool = True) -> Engine:
    """Build the engine for `settings.database_url`.

    `durable=False` is for state that may be lost in a crash (rate-limit counters):
    on SQLite its commits skip the fsync.
    """
    if settings.is_sqlite:
        return _sqlite_engine(settings, durable=durable)
    return create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        pool_pre_ping=True,
        pool_recycle=1800,
        json_serializer=jsonutil.dumps_text,
        json_deserializer=jsonutil.loads,
    )


def _sqlite_engine(settings: Settings, *, durable: bool) -> Engine:
    path = settings.sqlite_path
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        connect_args={
            "check_same_thread": False,
            "timeout": settings.sqlite_busy_timeout_ms / 1000,
        },
        json_serializer=jsonutil.dumps_text,
        json_deserializer=jsonutil.loads,
    )
    synchronous = settings.sqlite_synchronous.value if durable else "OFF"
    busy_timeout = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own
        # implicit BEGIN is deferred and cannot be made IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted content is overwritten with zeros (in the main file and in the WAL frames
        # written from now on) instead of lingering in free pages: a forget must leave no copy.
        # Some SQLite builds default to it; say it rather than rely on the build.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout)}")
        # 32 MiB of page cache per connection (SQLite's default is 2 MiB): index lookups
        # for a batch touch pages all over a large database.
        cursor.execute("PRAGMA cache_size=-32768")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def counters_path(database: Path) -> Path:
    """Where SQLite keeps rate-limit counters: a file beside the database."""
    return database.with_name(f"{database.stem}-counters{database.suffix or '.db'}")


def create_counters_engine(settings: Settings) -> Engine:
    """SQLite only: counters in their own file, so that counting a request never waits for
    an ingestion batch's write lock. Losing them in a crash is harmless, so commits are not
    fsynced, and the file's tables are created on first use (it is not part of the
    database the migrations manage)."""
    path = settings.sqlite_path
    assert path is not None
    counters = settings.model_copy(update={"database_url": f"sqlite:///{counters_path(path)}"})
    engine = _sqlite_engine(counters, durable=False)
    ddls = [
        str(CreateTable(table(model), if_not_exists=True).compile(dialect=engine.dialect))
        for model in (RateLimitCounter, PacingSlot)
    ]

    @event.listens_for(engine, "connect")
    def _create_tables(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        for ddl in ddls:
            cursor.execute(ddl)
        cursor.close()

    return engine


def writer(engine: Engine) -> Engine:
    """The same engine (and pool), beginning transactions that will write."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    return engine
