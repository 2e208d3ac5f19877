"""Console sessions: stored hashed, idle and absolute expiry, touched at most once a minute,
revoked one by one or all at once, refused for an archived user; CSRF tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from carebase.auth import sessions
from carebase.auth.sessions import ActiveSession
from carebase.db.session import Database
from carebase.errors import InvalidSession
from carebase.settings import Settings
from carebase.users import service
from tests.conftest import FakeClock, test_settings
from tests.users import people

HOUR = 3600.0


def resolve(database: Database, settings: Settings, secret: str, clock: FakeClock) -> ActiveSession:
    with database.unit_of_work(write=False) as session:
        return sessions.resolve(session, settings, secret, now=clock.now)


def refused(database: Database, settings: Settings, secret: str, clock: FakeClock) -> bool:
    try:
        resolve(database, settings, secret, clock)
    except InvalidSession:
        return True
    return False


def use(database: Database, settings: Settings, secret: str, clock: FakeClock) -> ActiveSession:
    """A request made with the session: resolve it, and touch it when due."""
    active = resolve(database, settings, secret, clock)
    if active.touch_due:
        with database.unit_of_work() as session:
            sessions.touch(session, settings, active, now=clock.now)
    return active


def test_a_session_resolves_to_its_user_and_stores_only_a_hash(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    signed = people.user_with_password(database, settings, clock.now, timezone="Asia/Kolkata")

    active = resolve(database, settings, signed.secret, clock)

    assert active.user == signed.user
    assert (active.user.email, active.user.role, active.user.timezone) == (
        "jane@business.io",
        "agent",
        "Asia/Kolkata",
    )
    assert active.user.name == "Jane Remington"
    assert not active.user.is_manager
    assert active.id == sessions.session_id(signed.secret) == signed.session.id
    assert active.csrf_token == signed.session.csrf_token
    assert active.expires_at == clock.now + timedelta(hours=12)
    assert signed.session.absolute_expires_at == clock.now + timedelta(days=7)
    with database.engine.connect() as connection:
        rows = repr(connection.execute(text("SELECT * FROM user_sessions")).all())
    assert signed.secret not in rows
    assert active.id in rows
    assert "Mozilla" not in rows  # this one signed in through its invitation: user agent "test"


def test_malformed_or_unknown_secrets_are_refused(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    signed = people.user_with_password(database, settings, clock.now)
    for secret in ["", "x", signed.secret + "x", signed.secret[:-1] + "!", "A" * 43]:
        assert refused(database, settings, secret, clock), secret
    with database.unit_of_work(write=False) as session, pytest.raises(InvalidSession) as raised:
        sessions.resolve(session, settings, None, now=clock.now)
    assert (raised.value.status_code, raised.value.code) == (401, "invalid_session")


def test_idle_expiry_moves_with_use(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    signed = people.user_with_password(database, settings, clock.now)
    clock.advance(6 * HOUR)
    touched = use(database, settings, signed.secret, clock)
    assert touched.touch_due
    assert resolve(database, settings, signed.secret, clock).expires_at == clock.now + timedelta(
        hours=12
    )
    clock.advance(12 * HOUR - 1)
    assert not refused(database, settings, signed.secret, clock)
    clock.advance(1)
    assert refused(database, settings, signed.secret, clock)


def test_an_unused_session_ends_after_the_idle_time(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    signed = people.user_with_password(database, settings, clock.now)
    clock.advance(12 * HOUR - 1)
    assert not refused(database, settings, signed.secret, clock)
    clock.advance(1)
    assert refused(database, settings, signed.secret, clock)


def test_absolute_expiry_however_much_it_is_used(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    signed = people.user_with_password(database, settings, clock.now)
    for _ in range(15):  # used every 11 hours: never idle
        clock.advance(11 * HOUR)
        use(database, settings, signed.secret, clock)
    assert clock.now - signed.session.absolute_expires_at == timedelta(hours=-3)
    last = resolve(database, settings, signed.secret, clock)
    assert last.expires_at == signed.session.absolute_expires_at
    clock.advance(3 * HOUR)
    assert refused(database, settings, signed.secret, clock)


def test_last_seen_is_written_at_most_once_a_minute(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    signed = people.user_with_password(database, settings, clock.now)
    created_at = clock.now
    clock.advance(59)
    assert not use(database, settings, signed.secret, clock).touch_due
    clock.advance(1)
    assert use(database, settings, signed.secret, clock).touch_due
    again = use(database, settings, signed.secret, clock)
    assert not again.touch_due
    assert again.last_seen_at == created_at + timedelta(seconds=60)


def test_shorter_lifetimes_apply_to_open_sessions(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    signed = people.user_with_password(database, settings, clock.now)
    clock.advance(2 * HOUR)
    stricter = test_settings(settings.database_url, session_idle_hours=1)
    assert refused(database, stricter, signed.secret, clock)
    assert not refused(database, settings, signed.secret, clock)
    shorter = test_settings(settings.database_url, session_max_days=1 / 24)
    assert refused(database, shorter, signed.secret, clock)


def test_sign_out_and_sign_out_everywhere(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    first = people.user_with_password(database, settings, clock.now)
    second = people.sign_in(database, settings, clock.now)
    third = people.sign_in(database, settings, clock.now)
    other = people.user_with_password(database, settings, clock.now, email="barry@business.io")
    user_id = first.user.id

    with database.unit_of_work() as session:
        assert sessions.revoke(session, first.session.id, now=clock.now)
        assert not sessions.revoke(session, first.session.id, now=clock.now)
    assert refused(database, settings, first.secret, clock)
    with database.unit_of_work(write=False) as session:
        live = sessions.live_sessions(session, user_id, now=clock.now)
    assert [row.id for row in live] == sorted([second.session.id, third.session.id])
    assert {row.user_agent for row in live} == {"Mozilla/5.0 (test)"}

    with database.unit_of_work() as session:
        ended = sessions.revoke_all_for_user(session, user_id, now=clock.now, keep=third.session.id)
    assert ended == 1
    assert refused(database, settings, second.secret, clock)
    assert not refused(database, settings, third.secret, clock)
    with database.unit_of_work() as session:
        assert service.sign_out_everywhere(session, user_id, now=clock.now) == 1
    assert refused(database, settings, third.secret, clock)
    # Another user's sessions are untouched.
    assert not refused(database, settings, other.secret, clock)


def test_an_archived_users_sessions_are_refused(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    signed = people.user_with_password(database, settings, clock.now)
    # Even a session the archive did not revoke (archived by hand here) is refused.
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE users SET archived = true"))
    assert refused(database, settings, signed.secret, clock)
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE users SET archived = false"))
    assert not refused(database, settings, signed.secret, clock)
    with database.unit_of_work() as session:
        service.archive_user(session, signed.user.id, now=clock.now)
    assert refused(database, settings, signed.secret, clock)
    with database.unit_of_work() as session:
        service.restore_user(session, signed.user.id, now=clock.now)
    # Restoring does not bring sessions back.
    assert refused(database, settings, signed.secret, clock)


def test_role_and_name_changes_show_in_open_sessions(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    signed = people.user_with_password(database, settings, clock.now)
    with database.unit_of_work() as session:
        service.update_user(
            session, signed.user.id, {"role": "manager", "first_name": "Janet"}, now=clock.now
        )
    user = resolve(database, settings, signed.secret, clock).user
    assert user.is_manager
    assert user.first_name == "Janet"


def test_user_agent_is_truncated(database: Database, settings: Settings, clock: FakeClock) -> None:
    signed = people.user_with_password(database, settings, clock.now)
    with database.unit_of_work() as session:
        sessions.create(
            session, settings, user_id=signed.user.id, user_agent="A" * 1000, now=clock.now
        )
        agents = [
            row.user_agent for row in sessions.live_sessions(session, signed.user.id, now=clock.now)
        ]
    assert "A" * 200 in agents
    assert all(agent is None or len(agent) <= 200 for agent in agents)


def test_csrf_tokens(settings: Settings) -> None:
    one, two = sessions.session_id("a" * 43), sessions.session_id("b" * 43)
    token = sessions.csrf_token(settings, one)

    assert sessions.csrf_matches(settings, one, token)
    assert token != sessions.csrf_token(settings, two)
    assert not sessions.csrf_matches(settings, two, token)
    assert not sessions.csrf_matches(settings, one, None)
    assert not sessions.csrf_matches(settings, one, "")
    assert not sessions.csrf_matches(settings, one, token[:-1])
    assert not sessions.csrf_matches(settings, one, token + "é")
    # Derived from the secret key: another key, another token.
    other_key = test_settings(settings.database_url, secret_key="k" * 40)
    assert sessions.csrf_token(other_key, one) != token
    assert len(token) == 43  # 32 bytes, base64url, no padding
