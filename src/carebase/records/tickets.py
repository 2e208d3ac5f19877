"""Storing tickets: one row per (dataset, ticket_id), by the newest-wins rule
(`records.rules.newest_wins`). Replaying any batch is a no-op."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.db import locks
from carebase.records import repository, rules
from carebase.records.rules import CREATED, UNCHANGED, UPDATED, StoreResult
from carebase.recordtypes import Parsed

__all__ = ["CREATED", "UNCHANGED", "UPDATED", "StoreResult", "store"]


def store(
    session: Session,
    dataset_id: str,
    tickets: Sequence[Parsed],
    profile_ids: Sequence[str],
    *,
    now: datetime,
) -> StoreResult:
    """Upsert tickets in batch order; `profile_ids[i]` is where `tickets[i]` belongs."""
    keys = [ticket.key for ticket in tickets]
    # The caller holds each ticket id's lock; the profiles holding the stored versions are
    # locked too, since an update takes the ticket from them (their attributes are rebuilt).
    stored = locks.read_with_profiles_locked(
        session,
        lambda: repository.existing_tickets(session, dataset_id, keys),  # type: ignore[arg-type]
        lambda rows: (row["profile_id"] for row in rows.values()),
    )
    decision = rules.newest_wins(
        stored,
        [
            (t.key, t.action_at, t.content_hash, profile_id)
            for t, profile_id in zip(tickets, profile_ids, strict=True)
        ],
    )
    result = decision.result
    inserts, updates = [], []
    for ticket_id, position in decision.winners.items():
        columns = tickets[position].columns
        assert columns is not None
        profile_id = profile_ids[position]
        known = stored.get(ticket_id)
        if known is None:
            # One row serves the insert and the attribute fold (which reads only its fields).
            row = columns | {
                "profile_id": profile_id,
                "received_at": now,
                "ticket_id": ticket_id,
                "dataset_id": dataset_id,
            }
            result.added.setdefault(profile_id, []).append(row)
            inserts.append(row)
        else:
            updates.append(
                columns | {"profile_id": profile_id, "received_at": now, "_pk": known["pk"]}
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
