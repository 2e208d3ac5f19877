"""Support attributes, folded ticket by ticket so that new tickets update them in O(1).

Definitions (also in docs/attributes.md, from the catalogue):
- ticket_count: the profile's tickets (one per conversation).
- open_ticket_count: tickets with no `closed_at` whose status is not closed, solved or
  resolved (case-insensitive); a ticket with no status and no `closed_at` is open.
- first_ticket_date / last_ticket_date: earliest / latest `timeline.created_at`.
- the "last" ticket: latest `created_at`, then latest `action_at`, then highest ticket_id;
  last_ticket_status is its status (null if it has none).
- last_satisfaction_score: the score of the ticket with the latest `action_at` (then highest
  ticket_id) among tickets that have a score; null when none has.
- channel_types, tags, agents: every distinct value across the tickets, sorted.
- avg_first_reply_time: mean `first_reply_time` (minutes) over tickets that have one.
- avg_duration: mean `duration` (minutes) over tickets that have one or, failing that,
  both `created_at` and `closed_at`; null when none does.
- tickets_last_30_days / tickets_last_90_days: tickets created in the 30 / 90 days before
  the read; computed when the profile is read, so they never go stale.

A ticket that is added folds into the stored state; a ticket that changes or leaves a
profile (an update, a move, a merge) makes the caller rebuild the state from all tickets.
Both paths run `fold`, so there is one definition of every attribute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase import recordtypes
from carebase.attributes.family import Family
from carebase.models import SupportAttributes
from carebase.records import tickets as ticket_records

TICKETS = "customer_support_ticket"

CLOSED_STATUSES = frozenset({"closed", "solved", "resolved"})
# Stored columns that are bookkeeping for folding, not attributes shown to users.
STATE_COLUMNS = (
    "first_reply_time_sum",
    "first_reply_time_n",
    "duration_sum",
    "duration_n",
    "last_ticket_action_at",
    "last_ticket_id",
    "last_satisfaction_at",
    "last_satisfaction_ticket_id",
)


def _is_open(ticket: Mapping[str, Any]) -> bool:
    if ticket["closed_at"] is not None:
        return False
    return (ticket["status"] or "").strip().lower() not in CLOSED_STATUSES


def _duration(ticket: Mapping[str, Any]) -> float | None:
    if ticket["duration"] is not None:
        return float(ticket["duration"])
    if ticket["closed_at"] is not None:
        minutes: float = (ticket["closed_at"] - ticket["created_at"]).total_seconds() / 60
        return minutes
    return None


@dataclass(slots=True)
class SupportState:
    """Everything needed to show the attributes and to fold one more ticket in."""

    ticket_count: int = 0
    open_ticket_count: int = 0
    first_ticket_date: datetime | None = None
    last_ticket_date: datetime | None = None
    last_ticket_action_at: datetime | None = None
    last_ticket_id: str | None = None
    last_ticket_status: str | None = None
    last_satisfaction_score: Any = None
    last_satisfaction_at: datetime | None = None
    last_satisfaction_ticket_id: str | None = None
    first_reply_time_sum: float = 0.0
    first_reply_time_n: int = 0
    duration_sum: float = 0.0
    duration_n: int = 0
    channel_types: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)

    def fold(self, ticket: Mapping[str, Any]) -> None:
        """Account for one more ticket of this profile."""
        created, action_at, ticket_id = (
            ticket["created_at"],
            ticket["action_at"],
            ticket["ticket_id"],
        )
        self.ticket_count += 1
        self.open_ticket_count += _is_open(ticket)
        if self.first_ticket_date is None or created < self.first_ticket_date:
            self.first_ticket_date = created
        if self.last_ticket_date is None or (created, action_at, ticket_id) > (
            self.last_ticket_date,
            self.last_ticket_action_at,
            self.last_ticket_id,
        ):
            self.last_ticket_date, self.last_ticket_action_at = created, action_at
            self.last_ticket_id, self.last_ticket_status = ticket_id, ticket["status"]
        score = ticket["satisfaction_score"]
        if score is not None and (
            self.last_satisfaction_at is None
            or (action_at, ticket_id)
            > (self.last_satisfaction_at, self.last_satisfaction_ticket_id)
        ):
            self.last_satisfaction_score = score
            self.last_satisfaction_at, self.last_satisfaction_ticket_id = action_at, ticket_id
        if ticket["first_reply_time"] is not None:
            self.first_reply_time_sum += float(ticket["first_reply_time"])
            self.first_reply_time_n += 1
        duration = _duration(ticket)
        if duration is not None:
            self.duration_sum += duration
            self.duration_n += 1
        self.channel_types.update(ticket["channel_types"])
        self.tags.update(ticket["tags"])
        self.agents.update(ticket["agents"])

    def row(self, now: datetime) -> dict[str, Any]:
        """The stored row: attributes plus folding state."""
        return {
            "ticket_count": self.ticket_count,
            "open_ticket_count": self.open_ticket_count,
            "first_ticket_date": self.first_ticket_date,
            "last_ticket_date": self.last_ticket_date,
            "last_ticket_status": self.last_ticket_status,
            "last_satisfaction_score": self.last_satisfaction_score,
            "avg_first_reply_time": _mean(self.first_reply_time_sum, self.first_reply_time_n),
            "avg_duration": _mean(self.duration_sum, self.duration_n),
            "channel_types": sorted(self.channel_types),
            "tags": sorted(self.tags),
            "agents": sorted(self.agents),
            "computed_at": now,
            **{name: getattr(self, name) for name in STATE_COLUMNS},
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> SupportState:
        """Rebuild the state from a stored row."""
        state = cls(
            ticket_count=row["ticket_count"],
            open_ticket_count=row["open_ticket_count"],
            first_ticket_date=row["first_ticket_date"],
            last_ticket_date=row["last_ticket_date"],
            last_ticket_status=row["last_ticket_status"],
            last_satisfaction_score=row["last_satisfaction_score"],
            channel_types=set(row["channel_types"]),
            tags=set(row["tags"]),
            agents=set(row["agents"]),
        )
        for name in STATE_COLUMNS:
            setattr(state, name, row[name])
        return state


def _mean(total: float, count: int) -> float | None:
    return round(total / count, 3) if count else None


def fold_all(tickets: Iterable[Mapping[str, Any]]) -> SupportState:
    """The state of a profile with exactly these tickets."""
    state = SupportState()
    for ticket in tickets:
        state.fold(ticket)
    return state


class SupportFamily(Family[SupportState]):
    """Ticket attributes."""

    name = "support"
    record_types = recordtypes.types_feeding("support")
    model = SupportAttributes

    def empty_state(self) -> SupportState:
        """No tickets."""
        return SupportState()

    def state_from_row(self, row: Mapping[str, Any]) -> SupportState:
        """The state a stored row holds."""
        return SupportState.from_row(row)

    def fold(self, state: SupportState, record: Mapping[str, Any]) -> None:
        """Fold one ticket."""
        state.fold(record)

    def row(self, state: SupportState, now: datetime) -> dict[str, Any]:
        """The stored row."""
        return state.row(now)

    def records_of(self, session: Session, profile_ids: set[str]) -> Iterable[Mapping[str, Any]]:
        """Every ticket of the profiles (folding is order-independent)."""
        return ticket_records.attribute_inputs(session, profile_ids)
