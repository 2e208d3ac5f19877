"""Zendesk's bulk jobs, read: a job's results as one outcome per record, and the pace at
which users are sent (a request of n users books n / users_per_second seconds).

Job results are in request order (confirmed by Zendesk staff), and some carry an `index`;
each shape Zendesk documents or was observed to send is accepted (helpdesk-apis.md §1.5,
activation-segments-anchors.md §4): `{id, status: Created|Updated, email|external_id}`,
`{id, index}`, `{id, action: "update", status, success}`, `{index?, status: "Failed",
error, details}`, and an object `{success: bool}` standing for every record.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from carebase.activation.channel import Outcome
from carebase.db.session import Database
from carebase.http.outbound import Pacing
from carebase.kit.pacing import SharedPacer

TERMINAL = frozenset({"completed", "failed", "killed"})
_ACTIONS = {"created": "created", "create": "created", "updated": "updated", "update": "updated"}


def job_outcomes(job: Mapping[str, Any], count: int | None) -> list[Outcome]:
    """One outcome per record of an ended job, in request order: `count` records when the
    channel remembers the batch, else the job's `total` (or as many as its results)."""
    results = job.get("results")
    listed = results if isinstance(results, list) else []
    size = count if count is not None else _size(job, listed)
    slots: list[Outcome | None] = [None] * size
    if isinstance(results, Mapping):
        # One verdict for the whole job (the shape of some bulk jobs).
        shared = _outcome(results)
        slots = [shared] * size
    for position, result in enumerate(listed):
        if not isinstance(result, Mapping):
            continue
        index = result.get("index")
        at = index if isinstance(index, int) and _is_index(index, size) else position
        if at < size:
            slots[at] = _outcome(result)
    status = str(job.get("status"))
    missing = _missing(status, job.get("message"))
    return [slot if slot is not None else missing for slot in slots]


def _size(job: Mapping[str, Any], listed: list[Any]) -> int:
    total = job.get("total")
    return total if isinstance(total, int) and not isinstance(total, bool) else len(listed)


def _is_index(value: Any, size: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < size


def _outcome(result: Mapping[str, Any]) -> Outcome:
    status = str(result.get("status") or "").lower()
    failed = status == "failed" or result.get("success") is False or "error" in result
    if failed:
        error = result.get("error")
        details = result.get("details") or result.get("description") or error
        return Outcome(
            ok=False,
            error_code=str(error) if error else "Failed",
            message=str(details) if details else "Zendesk did not apply this record",
        )
    remote = result.get("id")
    action = _ACTIONS.get(status) or _ACTIONS.get(str(result.get("action") or "").lower())
    return Outcome(ok=True, action=action, remote_id=str(remote) if remote is not None else None)


def _missing(status: str, message: Any) -> Outcome:
    """The outcome of a record the job's results do not mention."""
    if status in {"failed", "killed"}:
        why = str(message) if message else f"Zendesk's job was {status}"
        return Outcome(ok=False, error_code=f"job_{status}", message=why)
    return Outcome(
        ok=False, error_code="no_result", message="Zendesk's job ended without a result for it"
    )


def spent_budget_pause(headers: Mapping[str, str]) -> float:
    """How long to send nothing after a response: when `X-Rate-Limit-Remaining` is 0, the
    `ratelimit-reset` seconds Zendesk gives (at most a minute), else one second (a 429 with
    its Retry-After then says the rest); 0 while the budget lasts."""
    if (headers.get("X-Rate-Limit-Remaining") or "").strip() != "0":
        return 0.0
    try:
        reset = float(headers.get("ratelimit-reset") or "1")
    except ValueError:
        reset = 1.0
    return min(max(reset, 0.0), 60.0) if math.isfinite(reset) else 1.0


PACE_MARGIN = 0.98


# Reads (job polls, user fields, the connection test) go on a budget of their own, well
# under the smallest plan's 200 requests a minute: they never take a bulk request's slot.
READS = Pacing(requests=3, seconds=1.0)


class UserPace:
    """The users-per-second budget as an `OutboundClient` budget: each bulk request books
    n / users_per_second seconds, n being the users it carries; reads book a slot on a
    budget of their own (`READS`), so polling never delays sending. Booked in the database
    (buckets `destination:{id}` and `destination:{id}:reads`, shared by every process) when
    there is one. A hold (Zendesk said to wait) stops both."""

    def __init__(self, users_per_second: int, database: Database | None, bucket: str) -> None:
        # Booked 2% under the limit: requests reach Zendesk with jitter (a slow connection,
        # a busy worker), and two arriving closer than their slots would draw a 429 whose
        # Retry-After (a whole second) costs far more than the margin.
        self.users_per_second = users_per_second
        self.database, self.bucket = database, bucket
        self._local = threading.local()
        self._lock = threading.Lock()
        self._next = float("-inf")
        self._next_read = float("-inf")
        self._shared: dict[int, SharedPacer] = {}

    @contextmanager
    def carrying(self, users: int) -> Iterator[None]:
        """Requests made in this block (on this thread) book `users` users each."""
        self._local.users = users
        try:
            yield
        finally:
            self._local.users = 0

    def _users(self) -> int:
        """The users the current request carries; 0 for a read."""
        return max(0, int(getattr(self._local, "users", 0)))

    def _pacer(self, users: int) -> SharedPacer:
        assert self.database is not None
        pacer = self._shared.get(users)
        if pacer is None:
            if users == 0:
                pacer = SharedPacer(self.database, f"{self.bucket}:reads", READS)
            else:
                # Same bucket, another interval: one budget, booked by each request's size.
                pacing = Pacing(requests=self.users_per_second, seconds=users / PACE_MARGIN)
                pacer = SharedPacer(self.database, self.bucket, pacing)
            self._shared[users] = pacer
        return pacer

    def reserve(self, now: float, max_wait: float = math.inf) -> float:
        """Book the next slot for this request unless it is more than `max_wait` away; how
        far away it is."""
        users = self._users()
        if self.database is not None:
            return self._pacer(users).reserve(now, max_wait)
        with self._lock:
            if users == 0:
                slot = max(now, self._next_read)
                if slot - now <= max_wait:
                    self._next_read = slot + READS.interval
                return slot - now
            slot = max(now, self._next)
            if slot - now <= max_wait:
                self._next = slot + users / (self.users_per_second * PACE_MARGIN)
            return slot - now

    def hold(self, until: float) -> None:
        """No request, bulk or read, before `until` (Zendesk said to wait)."""
        if self.database is not None:
            self._pacer(1).hold(until)
            self._pacer(0).hold(until)
            return
        with self._lock:
            self._next = max(self._next, until)
            self._next_read = max(self._next_read, until)
