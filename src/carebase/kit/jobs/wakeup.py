"""Waking this process's idle workers as soon as a job is enqueued here and committed.

Other processes find new jobs by polling (CAREBASE_JOB_POLL_SECONDS)."""

from __future__ import annotations

import threading

from sqlalchemy import event
from sqlalchemy.orm import Session

_ENQUEUED = "carebase.jobs.enqueued"


class Wakeup:
    """A generation counter idle workers wait on; `notify` bumps it and wakes them all."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self.generation = 0

    def notify(self) -> None:
        """Wake every waiting worker."""
        with self._condition:
            self.generation += 1
            self._condition.notify_all()

    def wait(self, seen: int, timeout: float) -> None:
        """Wait until the generation moves past `seen`, or `timeout` seconds."""
        with self._condition:
            self._condition.wait_for(lambda: self.generation != seen, timeout)


WAKEUP = Wakeup()


def wake_after_commit(session: Session) -> None:
    """Mark the session: when its transaction commits, wake this process's workers."""
    session.info[_ENQUEUED] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_ENQUEUED, False):
        WAKEUP.notify()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_ENQUEUED, None)
