"""Failed sign-ins, throttled per account and per client address.

Counted on the rate-limit counters every process shares (`ratelimit`), in two buckets: the
account (`signin:acct:` + SHA-256 of the lower-cased email, so the counters never hold an
address) allows CAREBASE_SIGNIN_ACCOUNT_LIMIT failures (default 5 per 15 minutes), the
client address CAREBASE_SIGNIN_IP_LIMIT (default 50 per 15 minutes). Either full answers 429
`too_many_attempts` with Retry-After before any password is checked.

An attempt takes its slot in both buckets before its password is verified, so concurrent
guesses can never verify more passwords than the limits allow. A success then gives its
slots back: the account's bucket is cleared, and the address's one hit is returned, so an
office of agents behind one address does not lock itself out by signing in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from carebase.auth import ratelimit
from carebase.errors import TooManyAttempts
from carebase.settings import RateLimit, Settings

_BUCKET_LENGTH = 120


@dataclass(frozen=True, slots=True)
class Attempt:
    """The buckets one sign-in attempt counts in."""

    account: str
    address: str | None


def account_bucket(email: str) -> str:
    """The bucket of failed sign-ins for one account (any spelling of its email)."""
    digest = hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()
    return f"signin:acct:{digest}"


def address_bucket(ip: str) -> str:
    """The bucket of failed sign-ins from one client address."""
    return f"signin:ip:{ip}"[:_BUCKET_LENGTH]


def policies(settings: Settings) -> tuple[RateLimit, RateLimit]:
    """(per account, per address) limits."""
    return RateLimit.parse(settings.signin_account_limit), RateLimit.parse(settings.signin_ip_limit)


def _refuse(decision: ratelimit.RateDecision) -> TooManyAttempts:
    minutes = max(1, -(-decision.retry_after_seconds // 60))
    return TooManyAttempts(
        f"Too many failed sign-in attempts; try again in {minutes} minute"
        f"{'s' if minutes != 1 else ''}.",
        details={"retry_after_seconds": decision.retry_after_seconds},
        headers={"Retry-After": str(decision.retry_after_seconds)},
    )


def begin(
    counters: Session, settings: Settings, *, email: str, ip: str | None, now: datetime
) -> Attempt:
    """Take a slot for one attempt in the address's and the account's buckets, or raise
    TooManyAttempts (429) when either is full. The address is asked first, so guesses from
    an address already refused never count against the account they aim at."""
    per_account, per_address = policies(settings)
    attempt = Attempt(account_bucket(email), address_bucket(ip) if ip else None)
    at = now.timestamp()
    # Refuse without counting when a bucket is full already.
    for bucket, policy in _buckets(attempt, per_account, per_address):
        decision = ratelimit.peek(counters, bucket, policy, at)
        if decision is not None and not decision.allowed:
            raise _refuse(decision)
    counted: list[tuple[str, RateLimit]] = []
    for bucket, policy in _buckets(attempt, per_account, per_address):
        decision = ratelimit.check(counters, bucket, policy, at)
        if decision is not None and not decision.allowed:
            # A concurrent attempt took the last slot: give back what this one took.
            for taken, taken_policy in counted:
                ratelimit.refund(counters, taken, taken_policy, at)
            raise _refuse(decision)
        counted.append((bucket, policy))
    return attempt


def succeeded(counters: Session, settings: Settings, attempt: Attempt, *, now: datetime) -> None:
    """The attempt signed in: clear the account's failures, give the address its slot back."""
    _, per_address = policies(settings)
    ratelimit.clear(counters, attempt.account)
    if attempt.address is not None:
        ratelimit.refund(counters, attempt.address, per_address, now.timestamp())


def _buckets(
    attempt: Attempt, per_account: RateLimit, per_address: RateLimit
) -> list[tuple[str, RateLimit]]:
    buckets = [(attempt.address, per_address), (attempt.account, per_account)]
    return [(bucket, policy) for bucket, policy in buckets if bucket is not None]
