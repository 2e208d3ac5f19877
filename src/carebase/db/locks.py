"""Locks for write paths that read, decide in Python, then write.

On PostgreSQL, transactions run at READ COMMITTED in parallel, so two batches that create
the same link, or upsert the same natural key, would both read "absent" and both insert. Each
such key is locked first, until the transaction ends: batches that share a key queue for it,
batches that share none run in parallel.

The locks are row locks, not advisory locks. A batch of 1,000 records takes thousands of
keys, and every advisory lock occupies a slot of PostgreSQL's shared lock table
(max_locks_per_transaction times max_connections, 6,400 by default): four such batches at once
answered "out of shared memory". A row lock lives in the row itself and costs no slot.
- A key is a row of `lock_keys` (unlogged: losing it in a crash loses nothing), keyed by a
  64-bit hash of the key's name. The batch inserts the keys it lacks (a concurrent twin's
  uncommitted insert of the same key makes it wait, as a lock would), then locks them all
  with `SELECT … ORDER BY key FOR NO KEY UPDATE`: both in sorted order, in one statement
  each, so two batches never wait on each other in a circle for their keys.
- A profile is locked through its own row (`FOR NO KEY UPDATE`, which foreign-key checks of
  rows being inserted for it do not wait on). Profiles found by a lookup are locked after the
  keys and can still deadlock; PostgreSQL detects that and the unit of work runs again
  (`carebase.db.retry`).

SQLite serialises writers (BEGIN IMMEDIATE), so there the locks are only bookkept.

Key namespaces, by convention: `link:<type>:<system>:<value>`,
`record:<dataset>:<record type>:<natural key>`; `profile:<id>` names a profile's lock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy import String, bindparam, event, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.orm import Session

T = TypeVar("T")
_HELD = "carebase.locks_held"
_PROFILE = "profile:"
_CLAIM = text(
    "INSERT INTO lock_keys (key) SELECT key FROM unnest(:keys) AS key ORDER BY key"
    " ON CONFLICT DO NOTHING"
).bindparams(bindparam("keys", type_=ARRAY(BIGINT)))
_TAKE = text(
    "SELECT key FROM lock_keys WHERE key = ANY(:keys) ORDER BY key FOR NO KEY UPDATE"
).bindparams(bindparam("keys", type_=ARRAY(BIGINT)))
_TAKE_PROFILES = text(
    "SELECT id FROM profiles WHERE id = ANY(:ids) ORDER BY id FOR NO KEY UPDATE"
).bindparams(bindparam("ids", type_=ARRAY(String)))


def key_id(key: str) -> int:
    """The signed 64-bit id of a key's lock row (a collision only serialises more)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_keys(session: Session, keys: Iterable[str]) -> None:
    """Hold a lock on each key until this transaction ends; keys already held are skipped."""
    # Held keys are kept by name: SQLite, where the locks are only bookkept, never hashes
    # them (tens of thousands a batch).
    held: set[str] = session.info.setdefault(_HELD, set())
    wanted = set(keys) - held
    if not wanted:
        return
    if session.get_bind().dialect.name == "postgresql":
        ids = sorted({key_id(key) for key in wanted})
        session.execute(_CLAIM, {"keys": ids})
        session.execute(_TAKE, {"keys": ids})
    held.update(wanted)


def holds(session: Session, key: str) -> bool:
    """Whether this transaction already holds the lock on `key`."""
    return key in session.info.get(_HELD, set())


@event.listens_for(Session, "after_transaction_end")
def _released(session: Session, transaction: object) -> None:
    # The outermost transaction's end releases every lock it held.
    if getattr(transaction, "parent", None) is None:
        session.info.pop(_HELD, None)


def profile_key(profile_id: str) -> str:
    """The lock name of one profile: held by whoever changes its rows or attributes."""
    return _PROFILE + profile_id


def lock_profiles(session: Session, profile_ids: Iterable[str]) -> None:
    """Lock profiles through their rows (sorted, in one statement)."""
    held: set[str] = session.info.setdefault(_HELD, set())
    wanted = {profile_id for profile_id in profile_ids if _PROFILE + profile_id not in held}
    if not wanted:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_TAKE_PROFILES, {"ids": sorted(wanted)})
    held.update(_PROFILE + profile_id for profile_id in wanted)


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
