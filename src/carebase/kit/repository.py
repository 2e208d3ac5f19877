"""Every SQL statement of the kit's shared outbound budgets (the job runner has its own)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, bindparam, case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from carebase.models import PacingSlot
from carebase.models.base import table

_SLOTS = table(PacingSlot)


def _reserve(insert: Any) -> Any:
    now = bindparam("now", type_=BigInteger())
    interval = bindparam("interval", type_=BigInteger())
    latest = bindparam("latest", type_=BigInteger())
    # One statement: the row lock (PostgreSQL) or write lock (SQLite) serialises bookers, so
    # no two of them, in any process, are handed the same slot. A slot later than `latest`
    # is not booked (the WHERE leaves the row alone and nothing is returned).
    return (
        insert(_SLOTS)
        .values(bucket=bindparam("bucket"), next_at_us=now + interval)
        .on_conflict_do_update(
            index_elements=[_SLOTS.c.bucket],
            set_={
                "next_at_us": case((_SLOTS.c.next_at_us > now, _SLOTS.c.next_at_us), else_=now)
                + interval
            },
            where=_SLOTS.c.next_at_us <= latest,
        )
        .returning(_SLOTS.c.next_at_us)
    )


def _hold(insert: Any) -> Any:
    until = bindparam("until", type_=BigInteger())
    return (
        insert(_SLOTS)
        .values(bucket=bindparam("bucket"), next_at_us=until)
        .on_conflict_do_update(
            index_elements=[_SLOTS.c.bucket],
            set_={
                "next_at_us": case((_SLOTS.c.next_at_us > until, _SLOTS.c.next_at_us), else_=until)
            },
        )
    )


_RESERVE = {"postgresql": _reserve(postgresql.insert), "sqlite": _reserve(sqlite.insert)}
_HOLD = {"postgresql": _hold(postgresql.insert), "sqlite": _hold(sqlite.insert)}


def reserve_slot(
    session: Session, bucket: str, now_us: int, interval_us: int, *, latest_us: int
) -> int:
    """Book the bucket's next free slot at or after `now_us` if it starts by `latest_us`;
    the slot's start (µs), booked or not."""
    connection = session.connection()
    following: int | None = connection.execute(
        _RESERVE[connection.dialect.name],
        {"bucket": bucket, "now": now_us, "interval": interval_us, "latest": latest_us},
    ).scalar_one_or_none()
    if following is not None:
        return following - interval_us
    # Not booked: the slot is the bucket's next free one, later than `latest_us`.
    free: int = connection.execute(
        select(_SLOTS.c.next_at_us).where(_SLOTS.c.bucket == bucket)
    ).scalar_one()
    return max(free, now_us)


def hold_slots(session: Session, bucket: str, until_us: int) -> None:
    """Move the bucket's next free slot to `until_us`, unless it is later already."""
    connection = session.connection()
    connection.execute(_HOLD[connection.dialect.name], {"bucket": bucket, "until": until_us})
