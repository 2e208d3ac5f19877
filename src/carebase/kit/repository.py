"""Every SQL statement of the kit's shared outbound budgets (the job runner has its own)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, bindparam, case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from carebase.models import PacingSlot
from carebase.models.base import table

_SLOTS = table(PacingSlot)


def _reserve(insert: Any) -> Any:
    now = bindparam("now", type_=BigInteger())
    interval = bindparam("interval", type_=BigInteger())
    # One statement: the row lock (PostgreSQL) or write lock (SQLite) serialises bookers, so
    # no two of them, in any process, are handed the same slot.
    return (
        insert(_SLOTS)
        .values(bucket=bindparam("bucket"), next_at_us=now + interval)
        .on_conflict_do_update(
            index_elements=[_SLOTS.c.bucket],
            set_={
                "next_at_us": case((_SLOTS.c.next_at_us > now, _SLOTS.c.next_at_us), else_=now)
                + interval
            },
        )
        .returning(_SLOTS.c.next_at_us)
    )


_RESERVE = {"postgresql": _reserve(postgresql.insert), "sqlite": _reserve(sqlite.insert)}


def reserve_slot(session: Session, bucket: str, now_us: int, interval_us: int) -> int:
    """Book the bucket's next free slot at or after `now_us`; the slot's start (µs)."""
    connection = session.connection()
    following: int = connection.execute(
        _RESERVE[connection.dialect.name],
        {"bucket": bucket, "now": now_us, "interval": interval_us},
    ).scalar_one()
    return following - interval_us
