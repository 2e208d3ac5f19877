"""Password hashes: argon2id through argon2-cffi, and the rules a new password follows.

Hashes use argon2-cffi's defaults (RFC 9106's low-memory profile: argon2id, 3 passes over
64 MiB, 4 lanes, 16-byte salt, 32-byte hash; ~0.2 s on one core), stored in the PHC string
format (`$argon2id$v=19$m=65536,t=3,p=4$…`), which carries its own parameters: raising them
later leaves old hashes valid, and `needs_rehash` says when to replace one at its next
sign-in. With CAREBASE_ENV=test the parameters are cheap (1 pass over 8 MiB, 1 lane) so the
suite does not spend minutes hashing.

A sign-in for an email with no usable hash (unknown, archived, no password set yet) still
runs one verification, against a dummy hash made with the same parameters, so the time an
answer takes does not tell whether an account exists.

At most two hashes run at once in a process: each holds 64 MiB while it runs, so a burst
of sign-ins queues for the gate instead of pushing the server out of memory.
"""

from __future__ import annotations

import secrets
import threading
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from carebase.errors import ValidationFailed
from carebase.settings import Environment

MIN_LENGTH = 12
MAX_LENGTH = 200
CONCURRENT_HASHES = 2

_GATE = threading.BoundedSemaphore(CONCURRENT_HASHES)


@lru_cache(maxsize=len(Environment))
def hasher(env: Environment) -> PasswordHasher:
    """The hasher for this environment: argon2-cffi's defaults, or cheap ones in tests."""
    if env is Environment.TEST:
        return PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    return PasswordHasher()


@lru_cache(maxsize=len(Environment))
def _dummy_hash(env: Environment) -> str:
    # A hash of a random secret nobody knows, with the same parameters as real ones.
    return hasher(env).hash(secrets.token_urlsafe(32))


def hash_password(password: str, *, env: Environment) -> str:
    """The PHC-format argon2id hash of `password`."""
    with _GATE:
        return hasher(env).hash(password)


def verify_password(stored: str | None, password: str, *, env: Environment) -> bool:
    """Whether `password` matches `stored`. With no stored hash (unknown email, archived
    user, no password yet) a dummy hash is verified instead, taking the same time, and the
    answer is False."""
    target = stored if stored is not None else _dummy_hash(env)
    matched: bool
    with _GATE:
        try:
            matched = hasher(env).verify(target, password)
        except (VerificationError, InvalidHashError):
            matched = False
    return matched and stored is not None


def needs_rehash(stored: str, *, env: Environment) -> bool:
    """Whether `stored` was made with parameters other than today's (replace it on success)."""
    try:
        return hasher(env).check_needs_rehash(stored)
    except InvalidHashError:
        return True


def password_problem(password: str, email: str) -> str | None:
    """Why `password` may not be used by the user with `email`, or None when it may."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    if password.strip().casefold() == email.strip().casefold():
        return "must not be your email address"
    return None


def check_password(password: str, email: str, *, field: str = "password") -> None:
    """Raise ValidationFailed (422, `{field, reason}`) unless `password` follows the rules."""
    reason = password_problem(password, email)
    if reason is not None:
        raise ValidationFailed.on(field, reason)
