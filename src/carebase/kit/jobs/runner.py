"""The worker loop: N threads claim due jobs with a lease, run their handlers, and record how
each attempt ended; a heartbeat renews the leases in hand; a sweep requeues (or ends) jobs
whose worker died. Safe to run in many processes on many machines at once."""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError

from carebase.db.session import Database
from carebase.kit.jobs import repository
from carebase.kit.jobs.context import (
    GiveUp,
    JobCancelled,
    JobContext,
    JobInterrupted,
    LeaseLost,
    RetryLater,
)
from carebase.kit.jobs.registry import Failure, JobKind, Registry
from carebase.kit.jobs.wakeup import WAKEUP
from carebase.models import utcnow

logger = logging.getLogger(__name__)
MAX_ERROR = 2000
# PostgreSQL: serialization failure, deadlock detected.
_CONFLICT_STATES = frozenset({"40001", "40P01"})


def is_conflict(error: BaseException) -> bool:
    """Whether an attempt lost a race with a concurrent transaction (a unique key inserted
    first, a serialization failure, a deadlock): that transaction has ended, so trying again
    at once sees its outcome."""
    if isinstance(error, IntegrityError):
        return True
    if isinstance(error, DBAPIError):
        return getattr(error.orig, "sqlstate", None) in _CONFLICT_STATES
    return False


@dataclass(slots=True)
class RunSummary:
    """How the attempts a runner made ended."""

    succeeded: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    released: int = 0
    lost: int = 0

    @property
    def handled(self) -> int:
        """Attempts made, whatever came of them."""
        return (
            self.succeeded + self.retried + self.failed + self.cancelled + self.released + self.lost
        )

    def add(self, outcome: str) -> None:
        """Count one attempt's outcome."""
        setattr(self, outcome, getattr(self, outcome) + 1)


def worker_identity() -> str:
    """host:pid:random, naming one runner in `jobs.lease_owner`."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(3)}"


class Runner:
    """Runs jobs of the registry's kinds: in background threads (`start`/`stop`) or, for
    tests and one-off commands, in the caller's thread (`run_due`)."""

    def __init__(
        self,
        database: Database,
        registry: Registry,
        *,
        threads: int = 1,
        lease_seconds: float = 60.0,
        poll_seconds: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
        kinds: Sequence[str] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.database, self.registry, self.clock = database, registry, clock
        self.threads, self.lease_seconds, self.poll_seconds = threads, lease_seconds, poll_seconds
        self.kinds = list(kinds) if kinds is not None else registry.names
        unknown = [name for name in self.kinds if name not in registry]
        if unknown:
            raise ValueError(f"unknown job kinds: {', '.join(unknown)}")
        self.owner = worker_identity()
        self.summary = RunSummary()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self._lease = timedelta(seconds=lease_seconds)
        self._in_hand: dict[str, JobContext] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._swept_at = float("-inf")
        self._workers: list[threading.Thread] = []
        self._heartbeat: threading.Thread | None = None

    # -- background operation ------------------------------------------------------------

    def start(self) -> None:
        """Start the worker threads and the heartbeat."""
        for number in range(self.threads):
            thread = threading.Thread(
                target=self._work, name=f"carebase-jobs-{number}", daemon=True
            )
            thread.start()
            self._workers.append(thread)
        self._heartbeat = threading.Thread(
            target=self._beat, name="carebase-jobs-heartbeat", daemon=True
        )
        self._heartbeat.start()

    def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop claiming; let jobs in hand finish for `grace_seconds`, then ask them to stop
        (a handler that checks gives its job back; one that does not is re-run after its
        lease lapses)."""
        self._stopping.set()
        WAKEUP.notify()
        deadline = time.monotonic() + grace_seconds
        for thread in self._workers:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            for context in self._in_hand.values():
                context.interrupted.set()
        for thread in self._workers:
            thread.join(2.0)
        if self._heartbeat is not None:
            self._heartbeat.join(2.0)

    @property
    def in_hand(self) -> list[str]:
        """Ids of the jobs this runner is running now."""
        with self._lock:
            return list(self._in_hand)

    def _work(self) -> None:
        while not self._stopping.is_set():
            seen = WAKEUP.generation
            try:
                claimed = self._claim(1)
            except Exception:
                logger.exception("claiming jobs failed; trying again shortly")
                self._stopping.wait(self.poll_seconds)
                continue
            if not claimed:
                WAKEUP.wait(seen, self.poll_seconds)
                continue
            for row in claimed:
                self._run(row)

    def _beat(self) -> None:
        interval = max(self.lease_seconds / 3.0, 0.05)
        while not self._stopping.wait(interval):
            try:
                self.renew_leases()
            except Exception:
                logger.exception("renewing job leases failed; trying again")

    def renew_leases(self) -> None:
        """Extend the leases of the jobs in hand; flag cancelled or lost ones."""
        with self._lock:
            contexts = dict(self._in_hand)
        if not contexts:
            return
        with self.database.unit_of_work() as session:
            held = repository.renew(session, self.owner, list(contexts), self.clock() + self._lease)
        for job_id, context in contexts.items():
            if job_id not in held:
                context.lost.set()
            elif held[job_id]:
                context.cancel_requested.set()

    # -- claiming and running --------------------------------------------------------------

    def run_due(self, limit: int = 10_000) -> RunSummary:
        """Run every due job in this thread, one after another (tests, one-off commands)."""
        summary = RunSummary()
        self.sweep()
        while summary.handled < limit:
            claimed = self._claim(1, sweep=False)
            if not claimed:
                break
            for row in claimed:
                summary.add(self._run(row))
        return summary

    def sweep(self) -> None:
        """Requeue, fail or cancel running jobs whose lease lapsed."""
        now = self.clock()
        with self.database.unit_of_work() as session:
            ended = repository.sweep_lapsed(session, now)
            for row in ended:
                logger.warning(
                    "job %s (%s) ended as %s: its lease lapsed", row.id, row.kind, row.status
                )
                kind = self.registry.get(row.kind)
                if kind is not None and kind.on_failure is not None:
                    error = f"job {row.status}: its worker stopped answering"
                    kind.on_failure(session, row.payload, Failure(error, True, row.attempts, now))

    def _claim(self, limit: int, *, sweep: bool = True) -> list[Any]:
        if sweep and time.monotonic() - self._swept_at >= max(self.lease_seconds / 2, 1.0):
            self._swept_at = time.monotonic()
            self.sweep()
        if self._stopping.is_set() and self._workers:
            return []
        now = self.clock()
        with self.database.unit_of_work() as session:
            return repository.claim(
                session,
                owner=self.owner,
                now=now,
                lease_until=now + self._lease,
                limit=limit,
                kinds=self.kinds,
            )

    def _run(self, row: Any) -> str:
        job_id, kind_name, payload, attempts, max_attempts = row
        kind = self.registry.get(kind_name)
        assert kind is not None, "only registered kinds are claimed"
        context = JobContext(
            job_id=job_id,
            kind=kind_name,
            payload=payload,
            attempt=attempts,
            max_attempts=max_attempts,
            database=self.database,
            owner=self.owner,
            clock=self.clock,
        )
        with self._lock:
            self._in_hand[job_id] = context
        try:
            outcome = self._attempt(kind, context)
        finally:
            with self._lock:
                self._in_hand.pop(job_id, None)
        self.summary.add(outcome)
        return outcome

    def _attempt(self, kind: JobKind, context: JobContext) -> str:
        try:
            result = kind.handler(context)
        except LeaseLost:
            logger.warning("job %s: lease lost to another worker; nothing recorded", context.job_id)
            return "lost"
        except JobInterrupted:
            with self.database.unit_of_work() as session:
                repository.release(session, context.job_id, self.owner, self.clock())
            return "released"
        except JobCancelled:
            return self._record_failure(kind, context, "cancelled while running", cancelled=True)
        except (RetryLater, GiveUp) as error:
            final = isinstance(error, GiveUp) or context.last_attempt
            return self._record_failure(
                kind, context, str(error) or type(error).__name__, final=final
            )
        except Exception as error:
            logger.exception(
                "job %s (%s) attempt %s failed", context.job_id, kind.name, context.attempt
            )
            text = f"{type(error).__name__}: {error}"
            return self._record_failure(kind, context, text, final=context.last_attempt)
        if not context.completed:
            try:
                with self.database.unit_of_work() as session:
                    context.complete(session, result)
            except LeaseLost:
                logger.warning("job %s: finished after its lease was lost", context.job_id)
                return "lost"
        return "succeeded"

    def _record_failure(
        self,
        kind: JobKind,
        context: JobContext,
        error: str,
        *,
        final: bool = True,
        cancelled: bool = False,
        at_once: bool = False,
    ) -> str:
        error = error[:MAX_ERROR]
        now = self.clock()
        with self.database.unit_of_work() as session:
            if cancelled:
                held = repository.acknowledge_cancel(session, context.job_id, self.owner, now)
                outcome = "cancelled"
            elif final:
                held = repository.fail(session, context.job_id, self.owner, now, error)
                outcome = "failed"
            else:
                delay = 0.0 if at_once else kind.spec.retry.delay(context.attempt, self._rng)
                run_at = now + timedelta(seconds=delay)
                held = repository.retry(session, context.job_id, self.owner, run_at, error)
                outcome = "retried"
            if not held:
                return "lost"
            if kind.on_failure is not None:
                failure = Failure(error, final or cancelled, context.attempt, now)
                kind.on_failure(session, context.payload, failure)
        if outcome != "cancelled":
            logger.warning(
                "job %s (%s) attempt %s/%s %s: %s",
                context.job_id,
                kind.name,
                context.attempt,
                context.max_attempts,
                outcome,
                error,
            )
        return outcome
