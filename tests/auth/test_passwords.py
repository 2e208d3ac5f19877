"""Password hashes (argon2id) and the rules a new password follows: pure, no database."""

from __future__ import annotations

import time

import pytest

from carebase.auth import passwords
from carebase.errors import ValidationFailed
from carebase.settings import Environment

TEST, DEVELOPMENT = Environment.TEST, Environment.DEVELOPMENT


def test_hash_round_trip() -> None:
    stored = passwords.hash_password("correct horse battery staple", env=TEST)

    assert stored.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    assert passwords.verify_password(stored, "correct horse battery staple", env=TEST)
    assert not passwords.verify_password(stored, "correct horse battery stapler", env=TEST)
    # Salted: the same password never hashes the same twice.
    assert passwords.hash_password("correct horse battery staple", env=TEST) != stored


def test_production_parameters_are_argon2_cffi_defaults() -> None:
    hasher = passwords.hasher(Environment.PRODUCTION)
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (3, 65536, 4)
    assert passwords.hasher(DEVELOPMENT) is not passwords.hasher(TEST)


def test_needs_rehash_when_the_parameters_change() -> None:
    cheap = passwords.hash_password("correct horse battery staple", env=TEST)

    assert not passwords.needs_rehash(cheap, env=TEST)
    assert passwords.needs_rehash(cheap, env=DEVELOPMENT)
    # A hash made with other parameters still verifies: they travel inside the hash.
    assert passwords.verify_password(cheap, "correct horse battery staple", env=DEVELOPMENT)


def test_no_stored_hash_never_verifies() -> None:
    assert not passwords.verify_password(None, "", env=TEST)
    assert not passwords.verify_password(None, "correct horse battery staple", env=TEST)
    assert not passwords.verify_password("not a hash", "x", env=TEST)
    assert passwords.needs_rehash("not a hash", env=TEST)


def test_an_unknown_account_costs_a_real_verification() -> None:
    """Without a stored hash a dummy one is verified, so the answer takes as long as for a
    real account with a wrong password (real parameters here, ~0.2 s a verification)."""
    stored = passwords.hash_password("correct horse battery staple", env=DEVELOPMENT)
    passwords.verify_password(None, "warm the dummy hash", env=DEVELOPMENT)

    def fastest(stored_hash: str | None) -> float:
        timings = []
        for _ in range(3):
            start = time.perf_counter()
            passwords.verify_password(stored_hash, "a wrong password!", env=DEVELOPMENT)
            timings.append(time.perf_counter() - start)
        return min(timings)

    known, unknown = fastest(stored), fastest(None)
    assert unknown > 0.5 * known
    assert known > 0.5 * unknown


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("x" * 11, "must be at least 12 characters"),
        ("x" * 12, None),
        ("x" * 200, None),
        ("x" * 201, "must be at most 200 characters"),
        ("Jane@Business.io", "must not be your email address"),
        (" jane@business.io ", "must not be your email address"),
        ("jane@business.io!", None),
        ("ąęśćżźńółĄĘŚ", None),  # characters, not bytes
    ],
)
def test_password_rules(password: str, reason: str | None) -> None:
    assert passwords.password_problem(password, "jane@business.io") == reason


def test_check_password_names_the_field() -> None:
    with pytest.raises(ValidationFailed) as raised:
        passwords.check_password("short", "jane@business.io", field="new_password")
    assert raised.value.details == [
        {"field": "new_password", "reason": "must be at least 12 characters"}
    ]
