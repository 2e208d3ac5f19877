"""What a running job's handler sees: its payload, progress reporting, cancellation, and a
way to record its success in its own final transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.db.session import Database
from carebase.kit.jobs import repository


class RetryLater(Exception):
    """An expected failure (an outage, a 5xx): retried by the kind's policy; the message is
    the error kept on the job."""


class GiveUp(Exception):
    """A failure no retry will fix: the job fails now, keeping the message."""


class JobCancelled(Exception):
    """Raised in the handler (by `progress` or `check`) when cancellation was requested."""


class JobInterrupted(Exception):
    """Raised in the handler when its worker is shutting down: the job is given back."""


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
