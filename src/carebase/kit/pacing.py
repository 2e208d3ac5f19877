"""Outbound rate budgets shared by every process: a helpdesk's limit is per account, not per
carebase process, so the next free request slot of each budget is kept in the database (the
counters store: non-durable, like the API rate limits) and every process books from it."""

from __future__ import annotations

from carebase.db.session import Database
from carebase.http.outbound import Pacing
from carebase.kit import repository


class SharedPacer:
    """Hands out request slots `pacing.interval` apart across processes and machines; a
    request waits for its slot rather than being refused."""

    def __init__(self, database: Database, bucket: str, pacing: Pacing) -> None:
        self.database, self.bucket, self.pacing = database, bucket, pacing
        self._interval_us = max(1, round(pacing.interval * 1_000_000))

    def reserve(self, now: float) -> float:
        """Book the next slot at or after `now` (wall-clock seconds, which every process
        shares); how many seconds to wait for it."""
        now_us = round(now * 1_000_000)
        with self.database.counters() as session:
            slot = repository.reserve_slot(session, self.bucket, now_us, self._interval_us)
        return max(0.0, (slot - now_us) / 1_000_000)
