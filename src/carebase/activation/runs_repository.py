"""Every SQL statement of the run engine: runs, their items, the diff state, and the reads
of a segment source."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from carebase.models import Profile
from carebase.models.activation import (
    ActivationState,
    Destination,
    Orchestration,
    OrchestrationRun,
    RunItem,
)
from carebase.models.base import table
from carebase.query.pgrole import PG_SCHEMA

RUNS = table(OrchestrationRun)
ITEMS = table(RunItem)
STATE = table(ActivationState)
ORCHESTRATIONS = table(Orchestration)
PROFILES = table(Profile)

# ---- orchestrations and destinations -----------------------------------------------------


def get_orchestration(session: Session, orchestration_id: str) -> Orchestration | None:
    """One orchestration."""
    return session.get(Orchestration, orchestration_id, populate_existing=True)


def get_destination(session: Session, destination_id: str) -> Destination | None:
    """One destination."""
    return session.get(Destination, destination_id)


def claim_active(session: Session, orchestration_id: str, run_id: str) -> bool:
    """Make `run_id` the orchestration's active run if it has none (compare-and-set)."""
    result = session.execute(
        update(ORCHESTRATIONS)
        .where(ORCHESTRATIONS.c.id == orchestration_id, ORCHESTRATIONS.c.active_run_id.is_(None))
        .values(active_run_id=run_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_active(session: Session, orchestration_id: str, run_id: str) -> None:
    """Clear the active run if it is still `run_id` (compare-and-set)."""
    session.execute(
        update(ORCHESTRATIONS)
        .where(ORCHESTRATIONS.c.id == orchestration_id, ORCHESTRATIONS.c.active_run_id == run_id)
        .values(active_run_id=None)
    )


def lock_orchestration(session: Session, orchestration_id: str) -> Row[Any] | None:
    """One orchestration's row, locked for this transaction (PostgreSQL; SQLite's write
    lock is whole)."""
    query = select(ORCHESTRATIONS).where(ORCHESTRATIONS.c.id == orchestration_id)
    return session.execute(query.with_for_update()).first()


def set_next_run_at(session: Session, orchestration_id: str, next_run_at: datetime | None) -> None:
    """Record an orchestration's next fire time."""
    session.execute(
        update(ORCHESTRATIONS)
        .where(ORCHESTRATIONS.c.id == orchestration_id)
        .values(next_run_at=next_run_at)
    )


# ---- runs --------------------------------------------------------------------------------


def add_run(session: Session, values: dict[str, Any]) -> None:
    """Insert a run."""
    session.execute(RUNS.insert().values(**values))


def get_run(session: Session, run_id: str) -> Row[Any] | None:
    """One run row."""
    return session.execute(select(RUNS).where(RUNS.c.id == run_id)).first()


def lock_run(session: Session, run_id: str) -> Row[Any] | None:
    """One run row, locked for this transaction (PostgreSQL; SQLite's write lock is whole)."""
    return session.execute(select(RUNS).where(RUNS.c.id == run_id).with_for_update()).first()


def update_run(session: Session, run_id: str, values: dict[str, Any]) -> None:
    """Set some of a run's columns."""
    session.execute(update(RUNS).where(RUNS.c.id == run_id).values(**values))


def add_counts(session: Session, run_id: str, counts: dict[str, int]) -> None:
    """Add to a run's counters (sent, succeeded, rejected …)."""
    values = {name: RUNS.c[name] + amount for name, amount in counts.items() if amount}
    if values:
        session.execute(update(RUNS).where(RUNS.c.id == run_id).values(**values))


def runs_page(
    session: Session, orchestration_id: str, after: tuple[datetime, str] | None, limit: int
) -> list[Row[Any]]:
    """An orchestration's runs, newest first, after the (created_at, id) cursor."""
    query = (
        select(RUNS)
        .where(RUNS.c.orchestration_id == orchestration_id)
        .order_by(RUNS.c.created_at.desc(), RUNS.c.id.desc())
        .limit(limit)
    )
    if after is not None:
        query = query.where(
            or_(
                RUNS.c.created_at < after[0],
                and_(RUNS.c.created_at == after[0], RUNS.c.id < after[1]),
            )
        )
    return list(session.execute(query).all())


def prune_runs(session: Session, orchestration_id: str, finished_before: datetime) -> int:
    """Delete the orchestration's runs that ended before the cut-off (items cascade)."""
    old = select(RUNS.c.id).where(
        RUNS.c.orchestration_id == orchestration_id,
        RUNS.c.finished_at.is_not(None),
        RUNS.c.finished_at < finished_before,
    )
    ids = [str(each) for each in session.execute(old).scalars()]
    if not ids:
        return 0
    session.execute(delete(ITEMS).where(ITEMS.c.run_id.in_(ids)))
    session.execute(delete(RUNS).where(RUNS.c.id.in_(ids)))
    return len(ids)


# ---- items -------------------------------------------------------------------------------


def add_items(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert a run's items."""
    if rows:
        session.execute(ITEMS.insert(), list(rows))


def delete_items(session: Session, run_id: str) -> None:
    """Every item of a run (a querying phase that starts again)."""
    session.execute(delete(ITEMS).where(ITEMS.c.run_id == run_id))


def drop_items_of_gone_profiles(session: Session, run_id: str) -> None:
    """Delete the run's items whose profile was forgotten or merged away while the source
    was read (its snapshot may predate the forget; the forget could not see items not yet
    written)."""
    # NOT EXISTS (an anti-join on the profiles' primary key), not NOT IN over every profile.
    live = select(Profile.id).where(
        Profile.id == ITEMS.c.profile_id, Profile.merged_into_id.is_(None)
    )
    session.execute(
        delete(ITEMS).where(
            ITEMS.c.run_id == run_id, ITEMS.c.profile_id.is_not(None), ~live.exists()
        )
    )


def pending_items(
    session: Session, run_id: str, *, limit: int, after: int | None = None
) -> list[Row[Any]]:
    """Up to `limit` of the run's pending items in seq order, after seq `after`."""
    query = (
        select(ITEMS)
        .where(ITEMS.c.run_id == run_id, ITEMS.c.status == "pending")
        .order_by(ITEMS.c.seq)
        .limit(limit)
    )
    if after is not None:
        query = query.where(ITEMS.c.seq > after)
    return list(session.execute(query).all())


def items_by_seq(session: Session, run_id: str, seqs: Sequence[int], status: str) -> list[Row[Any]]:
    """The run's items of these seqs still in `status` (a forgotten profile's are gone)."""
    query = select(ITEMS).where(
        ITEMS.c.run_id == run_id, ITEMS.c.seq.in_(list(seqs)), ITEMS.c.status == status
    )
    return list(session.execute(query).all())


def items_by_seqs(session: Session, run_id: str, seqs: Sequence[int]) -> list[Row[Any]]:
    """The run's items of these seqs, whatever their status."""
    if not seqs:
        return []
    query = select(ITEMS).where(ITEMS.c.run_id == run_id, ITEMS.c.seq.in_(list(seqs)))
    return list(session.execute(query).all())


def succeed_pending(session: Session, run_id: str, seqs: Sequence[int]) -> None:
    """Pending items delivered (a whole file written)."""
    session.execute(
        update(ITEMS)
        .where(ITEMS.c.run_id == run_id, ITEMS.c.seq.in_(list(seqs)), ITEMS.c.status == "pending")
        .values(status="succeeded", payload=None)
    )


def skip_unanswered(session: Session, run_id: str, message: str) -> None:
    """Items not answered for when a run stops: never delivered by it, no fields kept."""
    session.execute(
        update(ITEMS)
        .where(ITEMS.c.run_id == run_id, ITEMS.c.status.in_(("pending", "in_flight")))
        .values(status="skipped", payload=None, handle=None, message=message)
    )


def cancel_requested(session: Session, run_id: str) -> bool:
    """Whether someone asked the run to stop."""
    found = session.execute(select(RUNS.c.cancel_requested).where(RUNS.c.id == run_id)).scalar()
    return bool(found)


def in_flight_items(session: Session, run_id: str) -> list[Row[Any]]:
    """The run's items held by a destination's job, in seq order."""
    query = (
        select(ITEMS)
        .where(ITEMS.c.run_id == run_id, ITEMS.c.status == "in_flight")
        .order_by(ITEMS.c.seq)
    )
    return list(session.execute(query).all())


def mark_in_flight(session: Session, run_id: str, seqs: Sequence[int], handle: str) -> None:
    """Items now held by the destination's job `handle`."""
    session.execute(
        update(ITEMS)
        .where(ITEMS.c.run_id == run_id, ITEMS.c.seq.in_(list(seqs)))
        .values(status="in_flight", handle=handle)
    )


def back_to_pending(session: Session, run_id: str, seqs: Sequence[int]) -> None:
    """Items to be sent again (their job expired)."""
    session.execute(
        update(ITEMS)
        .where(ITEMS.c.run_id == run_id, ITEMS.c.seq.in_(list(seqs)))
        .values(status="pending", handle=None)
    )


def finish_item(session: Session, run_id: str, seq: int, values: dict[str, Any]) -> None:
    """Record an item's outcome (its payload dropped)."""
    session.execute(
        update(ITEMS)
        .where(ITEMS.c.run_id == run_id, ITEMS.c.seq == seq)
        .values(payload=None, handle=None, **values)
    )


def end_items(session: Session, run_id: str) -> None:
    """At a run's end: succeeded items go, every other item keeps no fields."""
    session.execute(delete(ITEMS).where(ITEMS.c.run_id == run_id, ITEMS.c.status == "succeeded"))
    session.execute(
        update(ITEMS)
        .where(ITEMS.c.run_id == run_id, ITEMS.c.payload.is_not(None))
        .values(payload=None)
    )


def keep_samples(session: Session, run_id: str, seqs: Iterable[int]) -> None:
    """A dry run keeps only its sample items (and the invalid ones, with their reasons)."""
    keep = list(seqs)
    query = delete(ITEMS).where(ITEMS.c.run_id == run_id, ITEMS.c.status != "invalid")
    if keep:
        query = query.where(ITEMS.c.seq.not_in(keep))
    session.execute(query)


def items_page(
    session: Session, run_id: str, status: str | None, after: int | None, limit: int
) -> list[Row[Any]]:
    """A run's items in seq order after `after`, of one status or all."""
    query = select(ITEMS).where(ITEMS.c.run_id == run_id).order_by(ITEMS.c.seq).limit(limit)
    if status is not None:
        query = query.where(ITEMS.c.status == status)
    if after is not None:
        query = query.where(ITEMS.c.seq > after)
    return list(session.execute(query).all())


def states(session: Session, orchestration_id: str, keys: Sequence[str]) -> dict[str, Row[Any]]:
    """{record key: state row} of the keys the orchestration has delivered or failed."""
    if not keys:
        return {}
    query = select(STATE).where(
        STATE.c.orchestration_id == orchestration_id, STATE.c.record_key.in_(list(keys))
    )
    return {str(row.record_key): row for row in session.execute(query).all()}


def delete_states(session: Session, orchestration_id: str) -> None:
    """Forget what an orchestration delivered (a full resync)."""
    session.execute(delete(STATE).where(STATE.c.orchestration_id == orchestration_id))


def _upsert(insert: Any) -> Any:
    statement = insert(STATE)
    return statement.on_conflict_do_update(
        index_elements=[STATE.c.orchestration_id, STATE.c.record_key],
        set_={
            name: statement.excluded[name]
            for name in (
                "profile_id",
                "payload_hash",
                "status",
                "remote_id",
                "run_id",
                "updated_at",
            )
        },
    )


_UPSERT = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}


def upsert_states(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Record what was delivered (or failed) for each key."""
    if rows:
        session.execute(_UPSERT[session.get_bind().dialect.name], list(rows))


# ---- sources -----------------------------------------------------------------------------


def existing_profiles(session: Session, ids: Sequence[str]) -> set[str]:
    """Which of the ids are live profiles."""
    if not ids:
        return set()
    query = select(PROFILES.c.id).where(PROFILES.c.id.in_(list(ids)))
    return {str(each) for each in session.execute(query).scalars()}


def customer_360_rows(
    session: Session, profile_ids: Sequence[str], columns: Sequence[str]
) -> list[Row[Any]]:
    """profile_id and the columns of customer_360 for the profiles (column names are checked
    against the view's by the caller)."""
    if not profile_ids:
        return []
    dialect = session.get_bind().dialect.name
    view = "customer_360" if dialect == "sqlite" else f"{PG_SCHEMA}.customer_360"
    names = ", ".join(f'"{name}"' for name in ["profile_id", *columns])
    marks = ", ".join(f":p{index}" for index in range(len(profile_ids)))
    statement = text(f"SELECT {names} FROM {view} WHERE profile_id IN ({marks})")  # noqa: S608
    params = {f"p{index}": value for index, value in enumerate(profile_ids)}
    return list(session.execute(statement, params).all())
