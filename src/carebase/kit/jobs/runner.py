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
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError

from carebase.db.session import Database
from carebase.kit.jobs import repository
from carebase.kit.jobs.context import (
    Defer,
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
# After the grace, how long handlers asked to stop get to check in before the runner gives
# their jobs back itself; and how long stopping waits for its threads to end.
CHECK_IN_SECONDS = 1.0
GIVEN_BACK = "given back: its worker was stopping"
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
    deferred: int = 0
    lost: int = 0

    @property
    def handled(self) -> int:
        """Attempts made, whatever came of them."""
        return (
            self.succeeded
            + self.retried
            + self.failed
            + self.cancelled
            + self.released
            + self.deferred
            + self.lost
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
        # Jobs sharing a concurrency key (the service they call) take at most half of the
        # threads: one slow or hung service leaves the others threads to run on.
        self.per_key = max(1, threads // 2)
        self._keys: Counter[str] = Counter()  # in hand, by concurrency key
        self._claiming = threading.Lock()
        self._in_hand: dict[str, JobContext] = {}
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)  # a job in hand ended or was given back
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
        """Stop claiming, and give back (queued again at once, the attempt not counted) every
        job in hand that waits on another service: nothing of it is done yet, and another
        worker can take it now. The other jobs get `grace_seconds` to finish; then they are
        asked to stop (a handler that checks in gives its job back) and, a second later, the
        runner gives them back itself. Their leases are fenced, so nothing an abandoned
        handler commits afterwards counts; its thread is a daemon and ends with the process."""
        self._stopping.set()
        WAKEUP.notify()
        self._take_back(only_if_waiting=True)
        self._settle(grace_seconds)
        with self._lock:
            for context in self._in_hand.values():
                context.interrupted.set()
        self._settle(CHECK_IN_SECONDS)
        self._take_back(only_if_waiting=False)
        with self._lock:
            abandoned = bool(self._in_hand)  # threads still inside a given-back handler
        deadline = time.monotonic() + CHECK_IN_SECONDS
        for thread in [] if abandoned else self._workers:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._heartbeat is not None:
            self._heartbeat.join(CHECK_IN_SECONDS)

    def _settle(self, timeout: float) -> None:
        """Wait until every job in hand has ended or been given back, or `timeout` seconds."""
        with self._settled:
            self._settled.wait_for(
                lambda: all(context.given_back for context in self._in_hand.values()), timeout
            )

    def _take_back(self, *, only_if_waiting: bool) -> None:
        with self._lock:
            contexts = list(self._in_hand.values())
        for context in contexts:
            if not context.take_back(only_if_waiting=only_if_waiting):
                continue
            kind = self.registry.get(context.kind)
            assert kind is not None, "only registered kinds are claimed"
            try:
                outcome = self._release(kind, context)
            except Exception:
                logger.exception("giving job %s back failed; its lease will lapse", context.job_id)
                continue
            self._count(outcome)
        with self._settled:
            self._settled.notify_all()

    def _count(self, outcome: str) -> None:
        with self._lock:  # worker threads and a stopping thread count together
            self.summary.add(outcome)

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
        # One claim at a time in this process, so that the keys counted busy stay true.
        with self._claiming:
            with self._lock:
                busy = [key for key, count in self._keys.items() if count >= self.per_key]
            with self.database.unit_of_work() as session:
                rows = repository.claim(
                    session,
                    owner=self.owner,
                    now=now,
                    lease_until=now + self._lease,
                    limit=limit,
                    kinds=self.kinds,
                    busy_keys=busy,
                )
            with self._lock:
                self._keys.update(row.concurrency_key for row in rows if row.concurrency_key)
        return rows

    def _run(self, row: Any) -> str:
        try:
            return self._run_claimed(row)
        finally:
            if row.concurrency_key:
                with self._lock:
                    self._keys[row.concurrency_key] -= 1
                    if self._keys[row.concurrency_key] <= 0:
                        del self._keys[row.concurrency_key]

    def _run_claimed(self, row: Any) -> str:
        job_id, kind_name, payload = row.id, row.kind, row.payload
        attempts, max_attempts = row.attempts, row.max_attempts
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
            stopping=self._stopping,
        )
        with self._lock:
            # Claimed as the runner began to stop: given back untouched.
            late = self._stopping.is_set() and bool(self._workers)
            if not late:
                self._in_hand[job_id] = context
        if late:
            outcome = self._release(kind, context)
            self._count(outcome)
            return outcome
        try:
            outcome = self._attempt(kind, context)
        finally:
            with self._settled:
                self._in_hand.pop(job_id, None)
                self._settled.notify_all()
        if context.given_back and outcome != "succeeded":
            return "released"  # the runner gave it back, and counted it
        self._count(outcome)
        return outcome

    def _attempt(self, kind: JobKind, context: JobContext) -> str:
        try:
            result = kind.handler(context)
        except Exception as error:
            if context.given_back:
                return "released"  # the runner has given the job back: record nothing
            return self._ended(kind, context, error)
        if context.given_back and not context.completed:
            return "released"
        if not context.completed:
            try:
                with self.database.unit_of_work() as session:
                    context.complete(session, result)
            except LeaseLost:
                logger.warning("job %s: finished after its lease was lost", context.job_id)
                return "lost"
        return "succeeded"

    def _ended(self, kind: JobKind, context: JobContext, error: Exception) -> str:
        """Record how an attempt that raised ended."""
        if isinstance(error, LeaseLost):
            logger.warning("job %s: lease lost to another worker; nothing recorded", context.job_id)
            return "lost"
        if isinstance(error, JobInterrupted):
            return self._release(kind, context)
        if isinstance(error, Defer):
            return self._defer(kind, context, error)
        if isinstance(error, JobCancelled):
            return self._record_failure(kind, context, "cancelled while running", cancelled=True)
        if isinstance(error, RetryLater | GiveUp):
            final = isinstance(error, GiveUp) or context.last_attempt
            after = error.after if isinstance(error, RetryLater) else None
            text = str(error) or type(error).__name__
            return self._record_failure(kind, context, text, final=final, after=after)
        text = f"{type(error).__name__}: {error}"
        if is_conflict(error):
            # The colliding transaction has ended: the next attempt sees its outcome.
            return self._record_failure(
                kind, context, text, final=context.last_attempt, at_once=True
            )
        logger.error(
            "job %s (%s) attempt %s failed",
            context.job_id,
            kind.name,
            context.attempt,
            exc_info=error,
        )
        return self._record_failure(kind, context, text, final=context.last_attempt)

    def _release(self, kind: JobKind, context: JobContext) -> str:
        """Give the job back untouched: queued again at once, this attempt not counted."""
        now = self.clock()
        with self.database.unit_of_work() as session:
            if not repository.release(session, context.job_id, self.owner, now):
                return "lost"
            if kind.on_failure is not None:
                failure = Failure(GIVEN_BACK, False, context.attempt - 1, now)
                kind.on_failure(session, context.payload, failure)
        return "released"

    def _defer(self, kind: JobKind, context: JobContext, deferral: Defer) -> str:
        """Queue the job again `deferral.after` seconds from now (up to a tenth later, so that
        jobs deferred together come back spread out), this attempt not counted."""
        now = self.clock()
        delay = max(deferral.after, 0.0) * (1.0 + 0.1 * self._rng.random())
        note = str(deferral)[:MAX_ERROR]
        with self.database.unit_of_work() as session:
            run_at = now + timedelta(seconds=delay)
            if not repository.defer(session, context.job_id, self.owner, run_at, note):
                return "lost"
            if kind.on_failure is not None:
                failure = Failure(note, False, context.attempt - 1, now)
                kind.on_failure(session, context.payload, failure)
        logger.info("job %s (%s) deferred %.1f s: %s", context.job_id, kind.name, delay, note)
        return "deferred"

    def _record_failure(
        self,
        kind: JobKind,
        context: JobContext,
        error: str,
        *,
        final: bool = True,
        cancelled: bool = False,
        at_once: bool = False,
        after: float | None = None,
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
                # The service asked for a longer pause: the next attempt waits for it.
                delay = max(delay, after or 0.0)
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
