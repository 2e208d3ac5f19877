"""What a running job's handler sees: its payload, progress reporting, cancellation, and a
way to record its success in its own final transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.db.session import Database
from carebase.kit.jobs import repository


class RetryLater(Exception):
    """An expected failure (an outage, a 5xx): retried by the kind's policy; the message is
    the error kept on the job. `after`: the least seconds to wait (a helpdesk's
    `Retry-After`); the retry runs after the longer of that and the policy's backoff."""

    def __init__(self, message: str = "", *, after: float | None = None) -> None:
        super().__init__(message)
        self.after = after


class Defer(Exception):
    """The attempt cannot start yet for a reason outside the job (the rate budget of the
    service it calls is spent for now): queued again `after` seconds from now, the attempt
    not counted; the message is kept on the job."""

    def __init__(self, message: str, *, after: float) -> None:
        super().__init__(message)
        self.after = after


class GiveUp(Exception):
    """A failure no retry will fix: the job fails now, keeping the message."""


class JobCancelled(Exception):
    """Raised in the handler (by `progress` or `check`) when cancellation was requested."""


class JobInterrupted(Exception):
    """Raised in the handler when its worker is shutting down: the job is given back (queued
    again at once, the attempt not counted)."""


class LeaseLost(Exception):
    """This worker's lease lapsed and another worker may run the job: stop, record nothing."""


@dataclass(slots=True)
class JobContext:
    """One attempt of one job, as its handler sees it."""

    job_id: str
    kind: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    database: Database
    owner: str
    clock: Callable[[], datetime]
    completed: bool = False
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    interrupted: threading.Event = field(default_factory=threading.Event)
    lost: threading.Event = field(default_factory=threading.Event)
    # Set when the worker starts shutting down (the runner's own event, shared by its jobs).
    stopping: threading.Event = field(default_factory=threading.Event)
    # The worker gave the job back itself: whatever the handler does now is not recorded.
    given_back: bool = False
    _waiting: int = field(default=0, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def last_attempt(self) -> bool:
        """Whether a failure now would be final."""
        return self.attempt >= self.max_attempts

    def check(self) -> None:
        """Raise if the job should stop: cancelled, lease lost, or the worker shutting down."""
        if self.lost.is_set():
            raise LeaseLost(self.job_id)
        if self.cancel_requested.is_set():
            raise JobCancelled(self.job_id)
        if self.interrupted.is_set():
            raise JobInterrupted(self.job_id)

    @contextmanager
    def waiting_elsewhere(self) -> Iterator[None]:
        """Mark a stretch in which the handler only waits on another service (a helpdesk's
        API) and has changed nothing yet: a worker that starts shutting down meanwhile gives
        the job back at once instead of waiting for the call. Raises JobInterrupted when the
        worker is already shutting down, or when it gave the job back during the stretch;
        the `interrupted` event is set then, so waits on it end."""
        with self._guard:
            if self.stopping.is_set():
                raise JobInterrupted(self.job_id)
            self._waiting += 1
        try:
            yield
        except Exception:
            if self.given_back:
                raise JobInterrupted(self.job_id) from None
            raise
        finally:
            with self._guard:
                self._waiting -= 1
        if self.given_back:
            raise JobInterrupted(self.job_id)

    def take_back(self, *, only_if_waiting: bool) -> bool:
        """For the runner, shutting down: make the job the runner's to give back (always, or
        only while the handler waits elsewhere); whether it now is. The handler learns it
        from `interrupted`, and nothing it does afterwards is recorded."""
        with self._guard:
            if self.given_back or (only_if_waiting and not self._waiting):
                return False
            self.given_back = True
            self.interrupted.set()
            return True

    def progress(self, done: int, total: int | None = None, note: str | None = None) -> None:
        """Record how far the job is (own short transaction), then `check`."""
        self.check()
        value = {"done": done, "total": total, "note": note}
        with self.database.unit_of_work() as session:
            flag = repository.set_progress(session, self.job_id, self.owner, value)
        if flag is None:
            self.lost.set()
        elif flag:
            self.cancel_requested.set()
        self.check()

    def complete(self, session: Session, result: dict[str, Any] | None = None) -> None:
        """Record success in the handler's own transaction, so the job's outcome and the work
        commit together; LeaseLost (rolling the work back) if another worker took the job."""
        if not repository.succeed(session, self.job_id, self.owner, self.clock(), result):
            raise LeaseLost(self.job_id)
        self.completed = True
