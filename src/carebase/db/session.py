"""The unit of work: the request, job or CLI command owns it and commits; services never do."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from carebase.db import retry
from carebase.db.engine import create_counters_engine, create_db_engine, writer
from carebase.settings import Settings

logger = logging.getLogger(__name__)
T = TypeVar("T")


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
