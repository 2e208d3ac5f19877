"""Signing in: one answer for every failure, sign-ins counted, hashes upgraded, and failed
attempts throttled per account and per client address."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from carebase.auth import passwords, sessions, throttle
from carebase.db.session import Database
from carebase.errors import (
    CarebaseError,
    InvalidCredentials,
    InvalidSession,
    TooManyAttempts,
    ValidationFailed,
)
from carebase.settings import Environment, Settings
from carebase.users import service
from tests.conftest import FakeClock, test_settings
from tests.users import people

WRONG = "not the password at all"


def failure(
    database: Database, settings: Settings, clock: FakeClock, **kwargs: str
) -> CarebaseError:
    with pytest.raises(CarebaseError) as raised:
        people.sign_in(database, settings, clock.now, **kwargs)  # type: ignore[arg-type]
    return raised.value


def test_sign_in_counts_and_opens_a_session(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    people.user_with_password(database, settings, clock.now)  # the invitation signs in once
    clock.advance(3600)

    signed = people.sign_in(database, settings, clock.now, email="  JANE@business.io ")

    assert signed.user.email == "jane@business.io"
    with database.unit_of_work(write=False) as session:
        user = service.get_user(session, signed.user.id)
    assert user.sign_in_count == 2
    assert user.last_sign_in_at == clock.now


def test_every_failure_is_the_same_answer(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    people.user_with_password(database, settings, clock.now)
    people.create_user(database, settings, clock.now, email="invited@business.io")
    archived = people.user_with_password(database, settings, clock.now, email="gone@business.io")
    with database.unit_of_work() as session:
        service.archive_user(session, archived.user.id, now=clock.now)

    answers = [
        failure(database, settings, clock, password=WRONG),
        failure(database, settings, clock, email="nobody@business.io"),
        failure(database, settings, clock, email="not an email"),
        failure(database, settings, clock, email="invited@business.io", password=""),
        failure(database, settings, clock, email="gone@business.io"),
    ]

    assert {type(answer) for answer in answers} == {InvalidCredentials}
    assert {(a.status_code, a.code, a.message, a.details) for a in answers} == {
        (401, "invalid_credentials", "The email or password is not right.", None)
    }


def test_an_outdated_hash_is_replaced_at_sign_in(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    signed = people.user_with_password(database, settings, clock.now)
    # A hash made with other (here: the production) parameters, as after raising them.
    old = passwords.hash_password(people.PASSWORD, env=Environment.DEVELOPMENT)
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE users SET password_hash = :h"), {"h": old})
    assert passwords.needs_rehash(old, env=settings.env)

    people.sign_in(database, settings, clock.now)

    with database.unit_of_work(write=False) as session:
        stored = service.get_user(session, signed.user.id).password_hash
    assert stored is not None
    assert stored != old
    assert not passwords.needs_rehash(stored, env=settings.env)
    assert people.sign_in(database, settings, clock.now).user.id == signed.user.id


def test_five_failures_lock_the_account_for_a_while(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    people.user_with_password(database, settings, clock.now)
    for attempt in range(5):
        answer = failure(database, settings, clock, password=WRONG, ip=f"192.0.2.{attempt}")
        assert isinstance(answer, InvalidCredentials)

    # From any address, even with the right password.
    locked = failure(database, settings, clock, ip="198.51.100.7")
    assert isinstance(locked, TooManyAttempts)
    assert (locked.status_code, locked.code) == (429, "too_many_attempts")
    retry_after = int(locked.headers["Retry-After"])
    assert 0 < retry_after <= 30 * 60
    assert locked.details == {"retry_after_seconds": retry_after}
    assert "minute" in locked.message
    # Another account is not locked.
    people.user_with_password(database, settings, clock.now, email="barry@business.io")
    people.sign_in(database, settings, clock.now, email="barry@business.io")

    clock.advance(retry_after)
    assert people.sign_in(database, settings, clock.now).user.email == "jane@business.io"


def test_a_success_clears_the_accounts_failures(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    people.user_with_password(database, settings, clock.now)
    for _ in range(4):
        failure(database, settings, clock, password=WRONG)
    people.sign_in(database, settings, clock.now)
    for _ in range(5):
        assert isinstance(failure(database, settings, clock, password=WRONG), InvalidCredentials)
    assert isinstance(failure(database, settings, clock), TooManyAttempts)


def test_unknown_accounts_are_throttled_like_known_ones(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    answers = [
        type(failure(database, settings, clock, email="nobody@business.io")) for _ in range(6)
    ]
    assert answers == [InvalidCredentials] * 5 + [TooManyAttempts]


def test_fifty_failures_from_one_address_lock_the_address(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    people.user_with_password(database, settings, clock.now)
    for number in range(50):
        answer = failure(database, settings, clock, email=f"guess{number}@business.io")
        assert isinstance(answer, InvalidCredentials)

    locked = failure(database, settings, clock)
    assert isinstance(locked, TooManyAttempts)
    # The account itself was not charged for attempts refused at the address.
    assert people.sign_in(database, settings, clock.now, ip="198.51.100.7")
    # Without an address, only the account counts.
    assert people.sign_in(database, settings, clock.now, ip=None)


def test_successes_do_not_fill_the_address_bucket(
    database: Database, clock: FakeClock, database_url: str
) -> None:
    settings = test_settings(database_url, signin_ip_limit="3/15m")
    for number in range(5):
        people.user_with_password(database, settings, clock.now, email=f"agent{number}@b.io")
    # A whole office behind one address signs in, again and again.
    for _ in range(2):
        for number in range(5):
            people.sign_in(database, settings, clock.now, email=f"agent{number}@b.io")
    for _ in range(3):
        failure(database, settings, clock, email="agent0@b.io", password=WRONG)
    assert isinstance(failure(database, settings, clock, email="agent1@b.io"), TooManyAttempts)


def test_limits_follow_the_settings(
    database: Database, clock: FakeClock, database_url: str
) -> None:
    settings = test_settings(database_url, signin_account_limit="2/1h")
    people.user_with_password(database, settings, clock.now)
    answers = [type(failure(database, settings, clock, password=WRONG)) for _ in range(3)]
    assert answers == [InvalidCredentials, InvalidCredentials, TooManyAttempts]
    assert throttle.policies(settings)[0].period_seconds == 3600


def test_buckets_never_hold_an_email() -> None:
    bucket = throttle.account_bucket(" Jane@Business.io")
    assert bucket == throttle.account_bucket("jane@business.io")
    assert "jane" not in bucket
    assert len(bucket) <= 120
    assert len(throttle.address_bucket("f" * 500)) == 120


def test_changing_the_password_ends_the_other_sessions(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    here = people.user_with_password(database, settings, clock.now)
    elsewhere = people.sign_in(database, settings, clock.now)

    def change(current: str, new: str) -> int:
        return service.change_password(
            database,
            settings,
            user_id=here.user.id,
            current_password=current,
            new_password=new,
            keep_session=here.session.id,
            ip="192.0.2.1",
            now=clock.now,
        )

    with pytest.raises(ValidationFailed) as wrong:
        change(WRONG, "a brand new password")
    assert wrong.value.details == [
        {"field": "current_password", "reason": "is not your current password"}
    ]
    with pytest.raises(ValidationFailed) as short:
        change(people.PASSWORD, "short")
    assert short.value.details == [
        {"field": "new_password", "reason": "must be at least 12 characters"}
    ]

    assert change(people.PASSWORD, "a brand new password") == 1

    with database.unit_of_work(write=False) as session:
        sessions.resolve(session, settings, here.secret, now=clock.now)
        with pytest.raises(InvalidSession):
            sessions.resolve(session, settings, elsewhere.secret, now=clock.now)
    assert isinstance(failure(database, settings, clock), InvalidCredentials)
    people.sign_in(database, settings, clock.now, password="a brand new password")


def test_guessing_the_current_password_is_throttled(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    here = people.user_with_password(database, settings, clock.now)
    answers = []
    for _ in range(6):
        try:
            service.change_password(
                database,
                settings,
                user_id=here.user.id,
                current_password=WRONG,
                new_password="a brand new password",
                keep_session=here.session.id,
                ip=None,
                now=clock.now,
            )
        except CarebaseError as error:
            answers.append(error.code)
    assert answers == ["validation_error"] * 5 + ["too_many_attempts"]
