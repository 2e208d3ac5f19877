"""Storing tickets: one row per (dataset, ticket_id), the newest `action_at` winning.

An event older than the stored one changes nothing. At an equal `action_at` the
event whose canonical content hashes higher wins, so the outcome never depends on
arrival order; an identical event changes nothing. Replaying any batch is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.db import locks
from carebase.ingest.tickets import ParsedTicket
from carebase.records import repository

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass(slots=True)
class StoreResult:
    """What happened to each event, and how each profile's tickets changed.

    `added[p]` holds the rows of tickets new to profile p (nothing else changed for it);
    `rebuild` holds profiles whose existing tickets changed or left them.
    """

    outcomes: list[str]
    added: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rebuild: set[str] = field(default_factory=set)


def _row(ticket: ParsedTicket, profile_id: str, received_at: datetime) -> dict[str, Any]:
    event = ticket.event
    channel = event.channel
    return {
        "profile_id": profile_id,
        "action_at": event.action_at,
        "created_at": event.timeline.created_at,
        "closed_at": event.timeline.closed_at,
        "duration": event.timeline.duration,
        "reply_time": event.timeline.reply_time,
        "first_reply_time": event.timeline.first_reply_time,
        "status": event.status,
        "title": event.title,
        "ticket_url": event.ticket_url,
        "description": event.description,
        "channel_types": channel.type if channel else [],
        "channel_names": channel.name if channel else [],
        "tags": event.tags,
        "agents": event.agents,
        "satisfaction_score": event.satisfaction_score,
        "custom_fields": ticket.custom_fields,
        "link": event.link.model_dump(exclude_none=True),
        "content_hash": ticket.content_hash,
        "received_at": received_at,
    }


def store(
    session: Session,
    dataset_id: str,
    tickets: Sequence[ParsedTicket],
    profile_ids: Sequence[str],
    *,
    now: datetime,
) -> StoreResult:
    """Upsert tickets in batch order; `profile_ids[i]` is where `tickets[i]` belongs."""
    ticket_ids = [t.event.ticket_id for t in tickets]
    # The caller holds each ticket id's lock; the profiles holding the stored versions are
    # locked too, since an update takes the ticket from them (their attributes are rebuilt).
    stored = locks.read_with_profiles_locked(
        session,
        lambda: repository.existing_tickets(session, dataset_id, ticket_ids),
        lambda rows: (row["profile_id"] for row in rows.values()),
    )
    # ticket_id -> (action_at, content_hash, profile_id, pk or None)
    current: dict[str, tuple[datetime, str, str, int | None]] = {
        ticket_id: (row["action_at"], row["content_hash"], row["profile_id"], row["pk"])
        for ticket_id, row in stored.items()
    }
    winners: dict[str, dict[str, Any]] = {}
    result = StoreResult(outcomes=[])
    for ticket, profile_id in zip(tickets, profile_ids, strict=True):
        ticket_id = ticket.event.ticket_id
        known = current.get(ticket_id)
        candidate = (ticket.event.action_at, ticket.content_hash)
        if known is not None and candidate <= (known[0], known[1]):
            result.outcomes.append(UNCHANGED)
            continue
        pk = known[3] if known else None
        if known is not None:
            # The profile(s) lose the old version of this ticket: rebuild, don't fold.
            result.rebuild.update({known[2], profile_id})
        result.outcomes.append(CREATED if known is None else UPDATED)
        current[ticket_id] = (*candidate, profile_id, pk)
        winners[ticket_id] = _row(ticket, profile_id, now) | {"ticket_id": ticket_id}
    for ticket_id, row in winners.items():
        if ticket_id not in stored:
            result.added.setdefault(row["profile_id"], []).append(row)
    inserts, updates = [], []
    for ticket_id, row in winners.items():
        pk = stored[ticket_id]["pk"] if ticket_id in stored else None
        if pk is None:
            inserts.append(row | {"dataset_id": dataset_id})
        else:
            updates.append(
                {key: value for key, value in row.items() if key != "ticket_id"} | {"_pk": pk}
            )
    repository.insert_tickets(session, inserts)
    repository.update_tickets(session, updates)
    return result


def recent(session: Session, profile_id: str, limit: int) -> Sequence[Any]:
    """A profile's most recently created tickets, newest first."""
    return repository.recent_tickets(session, profile_id, limit)


def window_counts(
    session: Session, profile_id: str, near: datetime, far: datetime
) -> tuple[int, int]:
    """Tickets created since `near`, and since `far` (the earlier moment)."""
    return repository.window_counts(session, profile_id, near, far)


def attribute_inputs(session: Session, profile_ids: Iterable[str]) -> list[Any]:
    """Every ticket of `profile_ids`, with the fields attributes are computed from."""
    return repository.attribute_inputs(session, profile_ids)


def dataset_totals(session: Session, dataset_id: str) -> tuple[int, int]:
    """(records, distinct profiles) in a ticket dataset."""
    return repository.dataset_totals(session, dataset_id)
