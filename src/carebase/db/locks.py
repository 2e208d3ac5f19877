"""Row-free locks for write paths that read, decide in Python, then write.

On PostgreSQL, transactions run at READ COMMITTED in parallel, so two batches that create
the same link, or upsert the same natural key, would both read "absent" and both insert.
Each such key is locked first with a transaction-scoped advisory lock
(`pg_advisory_xact_lock`), released by the commit or rollback: batches that share a key
queue for it, batches that share none run in parallel. Keys are taken in sorted order, in
one statement, so two batches never wait on each other in a circle for their first set of
keys; keys taken later (profiles found by a lookup) can still deadlock, which PostgreSQL
detects and the unit of work retries (see `carebase.db.retry`).

SQLite serialises writers (BEGIN IMMEDIATE), so there the locks are only bookkept.

Key namespaces, by convention: `link:<type>:<system>:<value>`, `profile:<id>`,
`record:<dataset>:<record type>:<natural key>`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy import bindparam, event, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.orm import Session

T = TypeVar("T")
_HELD = "carebase.advisory_locks"
# unnest() yields the array in order and the aggregate consumes rows as they come, so the
# locks are taken in the (sorted) order of the array, in one round trip.
_LOCK_ALL = text("SELECT count(pg_advisory_xact_lock(key)) FROM unnest(:keys) AS key").bindparams(
    bindparam("keys", type_=ARRAY(BIGINT))
)


def key_id(key: str) -> int:
    """The signed 64-bit advisory-lock id of a key (a collision only serialises more)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_keys(session: Session, keys: Iterable[str]) -> None:
    """Hold a lock on each key until this transaction ends; keys already held are skipped."""
    # Held keys are kept by name: SQLite, where the locks are only bookkept, never hashes
    # them (tens of thousands a batch). Two names sharing an id are both taken on
    # PostgreSQL, which is harmless: a transaction's advisory locks are re-entrant.
    held: set[str] = session.info.setdefault(_HELD, set())
    wanted = set(keys) - held
    if not wanted:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK_ALL, {"keys": sorted({key_id(key) for key in wanted})})
    held.update(wanted)


def holds(session: Session, key: str) -> bool:
    """Whether this transaction already holds the lock on `key`."""
    return key in session.info.get(_HELD, set())


@event.listens_for(Session, "after_transaction_end")
def _released(session: Session, transaction: object) -> None:
    # The outermost transaction's end releases every advisory lock it held.
    if getattr(transaction, "parent", None) is None:
        session.info.pop(_HELD, None)


def profile_key(profile_id: str) -> str:
    """The lock key of one profile: held by whoever changes its rows or attributes."""
    return f"profile:{profile_id}"


def lock_profiles(session: Session, profile_ids: Iterable[str]) -> None:
    """Lock profiles (sorted, in one statement)."""
    lock_keys(session, (profile_key(profile_id) for profile_id in profile_ids))


def read_with_profiles_locked(
    session: Session, read: Callable[[], T], profiles_of: Callable[[T], Iterable[str]]
) -> T:
    """Read rows, then lock the profiles they belong to and read again, until every profile
    named is locked: from then on no concurrent transaction can move those rows (a merge,
    forget or undo holds the lock of every profile it takes rows from)."""
    rows = read()
    if session.get_bind().dialect.name != "postgresql":
        lock_profiles(session, profiles_of(rows))  # bookkeeping only: writers are serialised
        return rows
    while True:
        missing = [p for p in profiles_of(rows) if not holds(session, profile_key(p))]
        if not missing:
            return rows
        lock_profiles(session, missing)
        rows = read()
