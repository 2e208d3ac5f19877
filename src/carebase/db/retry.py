"""Transient conflicts between concurrent transactions, and how long to wait before retrying.

On PostgreSQL two transactions can still collide where no lock orders them in advance: a
deadlock between locks taken after a lookup (40P01), a serialization failure (40001), or a
unique violation from a key inserted by a concurrent commit (23505). Each leaves the
database unchanged once rolled back, so the whole unit of work is run again, a bounded
number of times, with jittered backoff.
"""

from __future__ import annotations

import random

from sqlalchemy.exc import DBAPIError

# SQLSTATE codes worth a retry of the whole transaction.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "23505"})
ATTEMPTS = 6


def is_retryable(error: BaseException) -> bool:
    """Whether `error` is a transient conflict that a fresh transaction may not meet."""
    if not isinstance(error, DBAPIError):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None)
    return sqlstate in RETRYABLE_SQLSTATES


def backoff(attempt: int) -> float:
    """Seconds to wait before attempt `attempt + 1` (full jitter, capped at 0.5 s)."""
    return random.uniform(0, min(0.5, 0.02 * 2**attempt))  # noqa: S311 - jitter, not secrets
