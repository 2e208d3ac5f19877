"""The storage rules record types declare, written once.

- newest wins (tickets, events): per natural key, the record with the newest `action_at`
  wins; at an equal `action_at` the one whose canonical content hashes higher, so the
  outcome never depends on arrival order. An older or identical record is a no-op.
- last content wins (customer records, the catalogue): the last record received for a key is
  its record; an identical one is a no-op.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass(slots=True)
class StoreResult:
    """What happened to each record, and how each profile's records changed.

    `added[p]` holds the rows of records new to profile p (nothing else changed for it);
    `rebuild` holds profiles whose existing records changed or left them.
    """

    outcomes: list[str]
    added: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rebuild: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Decision:
    """Which record of the batch wins each key, and the outcome of every record."""

    result: StoreResult
    winners: dict[Any, int]  # key -> position in the batch of the record to write


def newest_wins(
    stored: Mapping[Any, Mapping[str, Any]],
    items: Sequence[tuple[Any, datetime | None, str, str]],
) -> Decision:
    """Decide a batch of (key, action_at, content_hash, profile_id) against the stored rows
    (each with `action_at`, `content_hash`, `profile_id`), in batch order."""
    current: dict[Any, tuple[Any, str, str]] = {
        key: (row["action_at"], row["content_hash"], row["profile_id"])
        for key, row in stored.items()
    }
    result = StoreResult(outcomes=[])
    winners: dict[Any, int] = {}
    outcomes = result.outcomes
    for position, (key, action_at, content_hash, profile_id) in enumerate(items):
        known = current.get(key)
        if known is not None:
            # A newest-wins type always has an action_at (its parser requires it).
            if (action_at, content_hash) <= (known[0], known[1]):
                outcomes.append(UNCHANGED)
                continue
            # The profile(s) lose the old version of this record: rebuild, don't fold.
            result.rebuild.update((known[2], profile_id))
            outcomes.append(UPDATED)
        else:
            outcomes.append(CREATED)
        current[key] = (action_at, content_hash, profile_id)
        winners[key] = position
    return Decision(result, winners)


def last_content_wins(
    stored: Mapping[Any, Mapping[str, Any]], items: Sequence[tuple[Hashable, str]]
) -> Decision:
    """Decide a batch of (key, content_hash) against the stored rows, in batch order."""
    result = StoreResult(outcomes=[])
    winners: dict[Any, int] = {}
    latest: dict[Hashable, str] = {key: row["content_hash"] for key, row in stored.items()}
    for position, (key, content_hash) in enumerate(items):
        known = latest.get(key)
        if known == content_hash:
            result.outcomes.append(UNCHANGED)
            continue
        result.outcomes.append(CREATED if known is None else UPDATED)
        latest[key] = content_hash
        winners[key] = position
    return Decision(result, winners)
