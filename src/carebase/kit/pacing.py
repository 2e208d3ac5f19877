"""Outbound rate budgets shared by every process: a helpdesk's limit is per account, not per
carebase process, so the next free request slot of each budget is kept in the database (the
counters store: non-durable, like the API rate limits) and every process books from it."""

from __future__ import annotations

import math

from carebase.db.session import Database
from carebase.http.outbound import Pacing
from carebase.kit import repository

# Far enough to stand for "any wait": the latest slot a booking accepts, in µs from now.
_ANY_WAIT_US = 2**62


class SharedPacer:
    """Hands out request slots `pacing.interval` apart across processes and machines. A
    request waits for its slot, or, when the slot is further away than it may wait, books
    nothing and is told how far away it is."""

    def __init__(self, database: Database, bucket: str, pacing: Pacing) -> None:
        self.database, self.bucket, self.pacing = database, bucket, pacing
        self._interval_us = max(1, round(pacing.interval * 1_000_000))

    def reserve(self, now: float, max_wait: float = math.inf) -> float:
        """Book the next slot at or after `now` (wall-clock seconds, which every process
        shares) unless it is more than `max_wait` seconds away; how many seconds away it is."""
        now_us = round(now * 1_000_000)
        within_us = _ANY_WAIT_US if math.isinf(max_wait) else max(0, round(max_wait * 1_000_000))
        with self.database.counters() as session:
            slot = repository.reserve_slot(
                session, self.bucket, now_us, self._interval_us, latest_us=now_us + within_us
            )
        return max(0.0, (slot - now_us) / 1_000_000)

    def hold(self, until: float) -> None:
        """Hand out no slot before `until` (wall-clock seconds), in any process."""
        with self.database.counters() as session:
            repository.hold_slots(session, self.bucket, round(until * 1_000_000))
