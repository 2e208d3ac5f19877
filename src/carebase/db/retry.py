"""Transient conflicts between concurrent transactions, and how long to wait before retrying.

On PostgreSQL two transactions can still collide where no lock orders them in advance: a
deadlock between locks taken after a lookup (40P01), a serialization failure (40001), or a
unique violation from a key inserted by a concurrent commit (23505). On SQLite a writer
can wait past busy_timeout for another process's write lock ("database is locked"). Each leaves the
database unchanged once rolled back, so the whole unit of work is run again, a bounded
number of times, with jittered backoff.
"""

from __future__ import annotations

import random
import sqlite3

from sqlalchemy.exc import DBAPIError

# SQLSTATE codes worth a retry of the whole transaction.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "23505"})
ATTEMPTS = 6


def is_retryable(error: BaseException) -> bool:
    """Whether `error` is a transient conflict that a fresh transaction may not meet."""
    if not isinstance(error, DBAPIError):
        return False
    if isinstance(error.orig, sqlite3.OperationalError):
        # Another process held SQLite's write lock past busy_timeout: nothing was written.
        return "database is locked" in str(error.orig)
    sqlstate = getattr(error.orig, "sqlstate", None)
    return sqlstate in RETRYABLE_SQLSTATES


def backoff(attempt: int) -> float:
    """Seconds to wait before attempt `attempt + 1` (full jitter, capped at 0.5 s)."""
    return random.uniform(0, min(0.5, 0.02 * 2**attempt))  # noqa: S311 - jitter, not secrets
