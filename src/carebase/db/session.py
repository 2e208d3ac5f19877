"""The unit of work: the request, job or CLI command owns it and commits; services never do."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from carebase.db import retry
from carebase.db.engine import create_counters_engine, create_db_engine, writer
from carebase.settings import Settings

logger = logging.getLogger(__name__)
T = TypeVar("T")
_CHECKPOINT_KEY = "carebase_checkpoint_after_commit"


def checkpoint_after_commit(session: Session) -> None:
    """Ask for the SQLite WAL to be checkpointed and truncated once `session` commits.

    A forget asks for it: the WAL frames written before the delete still hold the deleted
    values until a checkpoint copies the (securely deleted) pages into the main file and the
    WAL is truncated. It cannot run inside the transaction, so the commit runs it.
    """
    session.info[_CHECKPOINT_KEY] = True


class Database:
    """One process's engines and session factories."""

    def __init__(self, engine: Engine, counters_engine: Engine) -> None:
        self.engine = engine
        # Counters (rate limits, last-used stamps) share the database but not
        # the durability guarantee, so they never wait on an fsync.
        self.counters_engine = counters_engine
        self._read = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
        self._write = sessionmaker(bind=writer(engine), expire_on_commit=False, autoflush=False)
        self._counters = sessionmaker(bind=writer(counters_engine), expire_on_commit=False)
        event.listen(self._write, "after_commit", self._after_commit)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """Engines for `settings.database_url`."""
        engine = create_db_engine(settings)
        counters = create_counters_engine(settings) if settings.is_sqlite else engine
        return cls(engine, counters)

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """A session committed when the block ends cleanly, rolled back otherwise."""
        factory = self._write if write else self._read
        with factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def transaction(self, work: Callable[[Session], T], *, attempts: int = retry.ATTEMPTS) -> T:
        """Run `work` in a unit of work, running it again (whole, in a fresh transaction)
        when it meets a transient conflict with a concurrent one; `work` must therefore
        have no effect outside the session."""
        for attempt in range(attempts):
            try:
                with self.unit_of_work() as session:
                    return work(session)
            except Exception as error:
                if not retry.is_retryable(error) or attempt == attempts - 1:
                    raise
                logger.info("transaction conflict (%s); retrying", type(error.orig).__name__)  # type: ignore[attr-defined]
                time.sleep(retry.backoff(attempt))
        raise AssertionError("unreachable")

    def open_session(self, *, write: bool) -> Session:
        """A new session; no connection is taken until it is first used."""
        return (self._write if write else self._read)()

    @staticmethod
    def finish(session: Session, *, commit: bool) -> None:
        """Commit (or roll back) and close a session from `open_session`."""
        try:
            if commit:
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(_CHECKPOINT_KEY, False):
            self.checkpoint()

    def checkpoint(self) -> None:
        """SQLite: copy the WAL into the main file and truncate it to zero bytes, so that
        content deleted before now survives in neither; PostgreSQL: nothing (see
        docs/identity.md on VACUUM)."""
        if self.dialect != "sqlite":
            return
        # A raw connection of its own, outside any transaction (SQLAlchemy's would BEGIN):
        # the committing session's is still checked out while its after_commit hooks run.
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            cursor.close()
        finally:
            raw.close()
        if busy:
            # A reader held an older snapshot past the busy timeout: those frames stay in
            # the WAL until the next checkpoint (SQLite's automatic one, or the next forget).
            logger.warning("WAL checkpoint after a forget was blocked by a reader")

    @contextmanager
    def counters(self) -> Iterator[Session]:
        """A short, non-durable transaction for counters."""
        with self._counters() as session:
            try:
                if self.dialect == "postgresql":
                    session.execute(text("SET LOCAL synchronous_commit = off"))
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self.counters_engine is not self.engine:
            self.counters_engine.dispose()
