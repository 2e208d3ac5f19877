"""One-time sign-in links: they work once, expire, void each other, follow the password
rules, and are stored only hashed."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text

from carebase.auth import sessions, signin_links
from carebase.db.session import Database
from carebase.errors import CarebaseError, InvalidSigninLink, ValidationFailed
from carebase.settings import Settings
from carebase.users import service
from tests.conftest import FakeClock
from tests.users import people


def spend(
    database: Database,
    settings: Settings,
    clock: FakeClock,
    token: str,
    password: str = people.PASSWORD,
) -> service.SignedIn:
    return service.set_password_with_link(
        database, settings, token=token, password=password, user_agent="test", now=clock.now
    )


def invalid(database: Database, settings: Settings, clock: FakeClock, token: str) -> str:
    with pytest.raises(InvalidSigninLink) as raised:
        spend(database, settings, clock, token)
    assert (raised.value.status_code, raised.value.code) == (410, "invalid_link")
    return raised.value.message


def test_an_invitation_sets_the_password_and_signs_in(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    user_id, token = people.create_user(database, settings, clock.now)
    with database.unit_of_work(write=False) as session:
        info = service.inspect_link(session, token, now=clock.now)
    assert (info.user_id, info.email, info.first_name, info.purpose) == (
        user_id,
        "jane@business.io",
        "Jane",
        "invite",
    )

    signed = spend(database, settings, clock, token)

    assert signed.user.id == user_id
    with database.unit_of_work(write=False) as session:
        assert sessions.resolve(session, settings, signed.secret, now=clock.now).user.id == user_id
        user = service.get_user(session, user_id)
    assert user.password_changed_at == clock.now
    assert user.sign_in_count == 1
    assert people.sign_in(database, settings, clock.now).user.id == user_id


def test_a_link_works_once(database: Database, settings: Settings, clock: FakeClock) -> None:
    _, token = people.create_user(database, settings, clock.now)
    spend(database, settings, clock, token)

    assert "already been used" in invalid(database, settings, clock, token)
    with database.unit_of_work(write=False) as session, pytest.raises(InvalidSigninLink):
        service.inspect_link(session, token, now=clock.now)


@pytest.mark.parametrize(("purpose", "hours"), [("invite", 72), ("reset", 1)])
def test_links_expire(
    database: Database, settings: Settings, clock: FakeClock, purpose: str, hours: int
) -> None:
    user_id, token = people.create_user(database, settings, clock.now)
    if purpose == "reset":
        spend(database, settings, clock, token)
        with database.unit_of_work() as session:
            link = service.issue_sign_in_link(
                session, settings, user_id, now=clock.now, created_by="test"
            )
        token = link.url.rsplit("/", 1)[1]
    assert link_purpose(database, clock, token) == purpose

    clock.advance(timedelta(hours=hours).total_seconds() - 1)
    assert link_purpose(database, clock, token) == purpose
    clock.advance(1)
    assert "expired" in invalid(database, settings, clock, token)


def link_purpose(database: Database, clock: FakeClock, token: str) -> str:
    with database.unit_of_work(write=False) as session:
        return signin_links.inspect(session, token, now=clock.now).purpose


def test_a_new_link_voids_the_old_one(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    user_id, first = people.create_user(database, settings, clock.now)
    with database.unit_of_work() as session:
        second = service.issue_sign_in_link(
            session, settings, user_id, now=clock.now, created_by=None
        )

    assert "not valid" in invalid(database, settings, clock, first)
    spend(database, settings, clock, second.url.rsplit("/", 1)[1])


def test_a_new_password_ends_the_other_sessions(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    signed = people.user_with_password(database, settings, clock.now)
    with database.unit_of_work() as session:
        reset = service.issue_sign_in_link(
            session, settings, signed.user.id, now=clock.now, created_by=None
        )
    assert reset.purpose == "reset"

    again = spend(database, settings, clock, reset.url.rsplit("/", 1)[1], "a brand new password")

    with database.unit_of_work(write=False) as session:
        with pytest.raises(CarebaseError):
            sessions.resolve(session, settings, signed.secret, now=clock.now)
        sessions.resolve(session, settings, again.secret, now=clock.now)
    people.sign_in(database, settings, clock.now, password="a brand new password")


def test_archiving_voids_links(database: Database, settings: Settings, clock: FakeClock) -> None:
    user_id, token = people.create_user(database, settings, clock.now)
    with database.unit_of_work() as session:
        service.archive_user(session, user_id, now=clock.now)
    invalid(database, settings, clock, token)


def test_an_archived_users_link_is_refused(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    _, token = people.create_user(database, settings, clock.now)
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE users SET archived = true"))
    assert "archived" in invalid(database, settings, clock, token)


def test_a_refused_password_leaves_the_link_usable(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    _, token = people.create_user(database, settings, clock.now)
    for password, reason in [
        ("too short", "must be at least 12 characters"),
        ("JANE@business.io", "must not be your email address"),
    ]:
        with pytest.raises(ValidationFailed) as raised:
            spend(database, settings, clock, token, password)
        assert raised.value.details == [{"field": "password", "reason": reason}]
    spend(database, settings, clock, token)


def test_garbage_tokens(database: Database, settings: Settings, clock: FakeClock) -> None:
    people.create_user(database, settings, clock.now)
    for token in ["", "x", "A" * 43, "A" * 44, "../../etc", "é" * 43]:
        invalid(database, settings, clock, token)


def test_only_the_hash_is_stored(database: Database, settings: Settings, clock: FakeClock) -> None:
    _, token = people.create_user(database, settings, clock.now)
    with database.engine.connect() as connection:
        rows = repr(connection.execute(text("SELECT * FROM signin_links")).all())
    assert token not in rows
    assert signin_links.token_hash(token) in rows


def test_two_uses_at_once_one_wins(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    _, token = people.create_user(database, settings, clock.now)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt() -> None:
        start.wait()
        try:
            spend(database, settings, clock, token)
            outcomes.append("signed in")
        except InvalidSigninLink:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["refused", "signed in"]
    with database.engine.connect() as connection:
        live = connection.execute(
            text("SELECT count(*) FROM user_sessions WHERE revoked_at IS NULL")
        ).scalar_one()
    assert live == 1
