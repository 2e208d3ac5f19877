"""Per-token rate limits with a sliding-window counter kept in the database.

Counts live in the database, not in process memory, so the limit holds across
every worker process and every machine behind a load balancer. The estimate is
the classic two-window one: hits in the current fixed window plus the previous
window's hits weighted by how much of it still overlaps the sliding window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy.orm import Session

from carebase.auth import repository
from carebase.settings import RateLimit


@dataclass(frozen=True, slots=True)
class RateDecision:
    """The outcome of one request against one policy."""

    allowed: bool
    limit: int
    period_seconds: int
    remaining: int
    reset_seconds: int
    retry_after_seconds: int

    def headers(self) -> dict[str, str]:
        """`RateLimit-*` headers (IETF draft), plus `Retry-After` when refused."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
            "RateLimit-Policy": f"{self.limit};w={self.period_seconds}",
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_seconds)
        return headers


def current_cap(previous_hits: int, limit: int, period: int, elapsed: float) -> int:
    """How many hits the current window may hold before the next one is refused."""
    weight = 1.0 - elapsed / period
    return math.floor(limit - previous_hits * weight + 1e-9)


def seconds_until_allowed(
    previous_hits: int, current_hits: int, limit: int, period: int, elapsed: float
) -> float:
    """How long until one more request fits under the limit."""
    # Inside the current window the previous window's weight decays linearly.
    if current_hits + 1 <= limit:
        if previous_hits == 0:
            return 0.0
        fraction = 1.0 - (limit - current_hits - 1) / previous_hits
        return max(0.0, fraction * period - elapsed)
    # Otherwise wait for the next window, where today's hits become "previous".
    fraction = 1.0 - (limit - 1) / current_hits if current_hits else 0.0
    return (period - elapsed) + max(0.0, fraction) * period


def check(session: Session, bucket: str, policy: RateLimit, now: float) -> RateDecision | None:
    """Count one request in `bucket`; None when the policy is unlimited."""
    if policy.unlimited:
        return None
    period, limit = policy.period_seconds, policy.limit
    window = int(now // period) * period
    elapsed = now - window
    previous = repository.window_hits(session, bucket, window - period)
    cap = current_cap(previous, limit, period, elapsed)
    hits = repository.increment_counter(session, bucket, window, cap) if cap > 0 else None
    reset = math.ceil(period - elapsed)
    if hits is None:
        current = repository.window_hits(session, bucket, window)
        wait = seconds_until_allowed(previous, current, limit, period, elapsed)
        return RateDecision(False, limit, period, 0, reset, max(1, math.ceil(wait)))
    if hits == 1:
        repository.delete_windows_before(session, bucket, window - period)
    estimate = previous * (1.0 - elapsed / period) + hits
    remaining = max(0, math.floor(limit - estimate + 1e-9))
    return RateDecision(True, limit, period, remaining, reset, 0)


def peek(session: Session, bucket: str, policy: RateLimit, now: float) -> RateDecision | None:
    """Whether one more hit in `bucket` would be allowed, without counting it; None when the
    policy is unlimited."""
    if policy.unlimited:
        return None
    period, limit = policy.period_seconds, policy.limit
    window = int(now // period) * period
    elapsed = now - window
    previous = repository.window_hits(session, bucket, window - period)
    current = repository.window_hits(session, bucket, window)
    cap = current_cap(previous, limit, period, elapsed)
    reset = math.ceil(period - elapsed)
    if current < cap:
        estimate = previous * (1.0 - elapsed / period) + current + 1
        remaining = max(0, math.floor(limit - estimate + 1e-9))
        return RateDecision(True, limit, period, remaining, reset, 0)
    wait = seconds_until_allowed(previous, current, limit, period, elapsed)
    return RateDecision(False, limit, period, 0, reset, max(1, math.ceil(wait)))


def refund(session: Session, bucket: str, policy: RateLimit, now: float) -> None:
    """Take back one hit counted in the current window (a hit that turned out not to count)."""
    if policy.unlimited:
        return
    window = int(now // policy.period_seconds) * policy.period_seconds
    repository.decrement_counter(session, bucket, window)


def clear(session: Session, bucket: str) -> None:
    """Forget every hit in `bucket`."""
    repository.delete_bucket(session, bucket)
