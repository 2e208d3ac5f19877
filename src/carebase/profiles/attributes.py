"""Support attributes, computed from a profile's tickets (every ticket dataset).

Definitions (also in the README):
- ticket_count: the profile's tickets (one per conversation).
- open_ticket_count: tickets with no `closed_at` whose status is not closed, solved or
  resolved (case-insensitive); a ticket with no status and no `closed_at` is open.
- first_ticket_date / last_ticket_date: earliest / latest `timeline.created_at`.
- the "last" ticket: latest `created_at`, then latest `action_at`, then highest ticket_id;
  last_ticket_status is its status (null if it has none).
- last_satisfaction_score: the score of the ticket with the latest `action_at` among
  tickets that have a score; null when none has.
- channel_types, tags, agents: every distinct value across the tickets, sorted.
- avg_first_reply_time: mean `first_reply_time` (minutes) over tickets that have one.
- avg_duration: mean `duration` (minutes) over tickets that have one or, failing that,
  both `created_at` and `closed_at`; null when none does.
- tickets_last_30_days / tickets_last_90_days: tickets created in the 30 / 90 days before
  the read; computed when the profile is read, so they never go stale.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

CLOSED_STATUSES = frozenset({"closed", "solved", "resolved"})


def _is_open(row: Any) -> bool:
    if row.closed_at is not None:
        return False
    return (row.status or "").strip().lower() not in CLOSED_STATUSES


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(sum(items) / len(items), 3) if items else None


def _duration(row: Any) -> float | None:
    if row.duration is not None:
        return float(row.duration)
    if row.closed_at is not None:
        minutes: float = (row.closed_at - row.created_at).total_seconds() / 60
        return minutes
    return None


def compute(rows: Sequence[Any], *, now: datetime) -> dict[str, Any]:
    """The stored support attributes of one profile from its ticket rows."""
    if not rows:
        return empty(now)
    last = max(rows, key=lambda row: (row.created_at, row.action_at, row.ticket_id))
    scored = [row for row in rows if row.satisfaction_score is not None]
    last_scored = max(scored, key=lambda row: (row.action_at, row.ticket_id)) if scored else None
    durations = [d for d in (_duration(row) for row in rows) if d is not None]
    return {
        "ticket_count": len(rows),
        "open_ticket_count": sum(1 for row in rows if _is_open(row)),
        "first_ticket_date": min(row.created_at for row in rows),
        "last_ticket_date": last.created_at,
        "last_ticket_status": last.status,
        "last_satisfaction_score": last_scored.satisfaction_score if last_scored else None,
        "avg_first_reply_time": _mean(
            float(row.first_reply_time) for row in rows if row.first_reply_time is not None
        ),
        "avg_duration": _mean(durations),
        "channel_types": sorted({value for row in rows for value in row.channel_types}),
        "tags": sorted({value for row in rows for value in row.tags}),
        "agents": sorted({value for row in rows for value in row.agents}),
        "computed_at": now,
    }


def empty(now: datetime) -> dict[str, Any]:
    """Attributes of a profile without tickets."""
    return {
        "ticket_count": 0,
        "open_ticket_count": 0,
        "first_ticket_date": None,
        "last_ticket_date": None,
        "last_ticket_status": None,
        "last_satisfaction_score": None,
        "avg_first_reply_time": None,
        "avg_duration": None,
        "channel_types": [],
        "tags": [],
        "agents": [],
        "computed_at": now,
    }


def compute_many(
    rows: Sequence[Any], profile_ids: Iterable[str], *, now: datetime
) -> dict[str, dict[str, Any]]:
    """Attributes for each of `profile_ids` from the ticket rows of all of them."""
    by_profile: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_profile[row.profile_id].append(row)
    return {
        profile_id: compute(by_profile.get(profile_id, []), now=now) for profile_id in profile_ids
    }
