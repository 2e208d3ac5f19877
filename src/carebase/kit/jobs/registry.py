"""Job kinds: a name, a retry policy, and the handler that does the work.

A `JobSpec` (name, retry policy) is plain data that the enqueuing domain owns; a `JobKind`
binds it to a handler. The runner, the admin API and the CLI take a `Registry` built in one
explicit place (`carebase.jobkinds`), so no kind depends on import order to exist.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from carebase.kit.jobs.context import JobContext

Handler = Callable[["JobContext"], "dict[str, Any] | None"]


@dataclass(frozen=True, slots=True)
class Failure:
    """How an attempt ended without success: the error kept, whether the job has ended
    (failed or cancelled) or will be retried, and which attempt it was."""

    error: str
    final: bool
    attempts: int
    at: datetime


# Called in the transaction that records a failure, retry or cancellation, so that a domain
# can mirror its job's state in its own rows (a webhook delivery's status).
FailureHook = Callable[[Session, dict[str, Any], Failure], None]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempts and exponential backoff: first_seconds, doubling, at most max_seconds; each
    delay is shortened by up to `jitter` of itself so that retries of a burst spread out
    without any one waiting longer than its nominal delay."""

    max_attempts: int = 5
    first_seconds: float = 30.0
    max_seconds: float = 3600.0
    jitter: float = 0.2

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        nominal = min(self.first_seconds * 2.0 ** max(attempt - 1, 0), self.max_seconds)
        draw = (rng or random).random()
        return nominal * (1.0 - self.jitter * draw)


@dataclass(frozen=True, slots=True)
class JobSpec:
    """What enqueuing needs to know about a kind: its name and retry policy."""

    name: str
    retry: RetryPolicy = RetryPolicy()


@dataclass(frozen=True, slots=True)
class JobKind:
    """A spec bound to its handler (and an optional failure hook)."""

    spec: JobSpec
    handler: Handler
    on_failure: FailureHook | None = None

    @property
    def name(self) -> str:
        """The kind's name, as stored in `jobs.kind`."""
        return self.spec.name


class Registry:
    """Every job kind a runner can run, by name."""

    def __init__(self, kinds: Iterable[JobKind]) -> None:
        self._kinds: dict[str, JobKind] = {}
        for kind in kinds:
            if kind.name in self._kinds:
                raise ValueError(f"job kind {kind.name!r} is registered twice")
            self._kinds[kind.name] = kind

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def __iter__(self) -> Iterator[JobKind]:
        return iter(self._kinds.values())

    def get(self, name: str) -> JobKind | None:
        """The kind called `name`, if this registry has it."""
        return self._kinds.get(name)

    @property
    def names(self) -> list[str]:
        """Every kind's name."""
        return list(self._kinds)
