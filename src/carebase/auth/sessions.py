"""Console sessions: server-side, in the database, one row per signed-in browser.

The cookie holds a random secret (32 bytes, URL-safe base64); the row's id is its SHA-256,
so the table never holds anything a cookie can be rebuilt from. A session ends at the
earlier of its idle expiry (CAREBASE_SESSION_IDLE_HOURS after it was last used) and its
absolute one (CAREBASE_SESSION_MAX_DAYS after sign-in), when it is revoked (sign-out,
"sign out everywhere", a new password, the user archived), or as soon as its user is
archived. Both limits are checked against the settings on every request, so shortening
them applies to sessions already open. `last_seen_at` is written at most once a minute.

Forms posted with a session carry a CSRF token derived from it:
base64url(HMAC-SHA256(CAREBASE_SECRET_KEY, "csrf:" + session id)) - no column to store, it
changes with every new session, and `csrf_matches` compares it in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from carebase.auth import repository
from carebase.errors import InvalidSession
from carebase.models import UserSession
from carebase.settings import Settings

SECRET_BYTES = 32
TOUCH_RESOLUTION = timedelta(minutes=1)
USER_AGENT_LENGTH = 200
# token_urlsafe(32): 43 characters of the URL-safe alphabet.
_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True, slots=True)
class SessionUser:
    """Who a session belongs to, as the console needs them."""

    id: int
    email: str
    first_name: str
    last_name: str
    role: str
    timezone: str

    @property
    def is_manager(self) -> bool:
        """Managers manage users, groups, tokens, connectors and datasets."""
        return self.role == "manager"

    @property
    def name(self) -> str:
        """First and last name, as one line."""
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """A live session: its id (the hash), its user, the CSRF token its forms carry, and
    whether its `last_seen_at` is due a refresh (`touch`)."""

    id: str
    user: SessionUser
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    touch_due: bool


@dataclass(frozen=True, slots=True)
class CreatedSession:
    """A new session: the secret for the cookie (shown this once), the CSRF token of its
    forms, and when it expires unless used (the cookie's lifetime is the absolute one)."""

    id: str
    secret: str
    csrf_token: str
    expires_at: datetime
    absolute_expires_at: datetime


def session_id(secret: str) -> str:
    """The stored id of the session whose cookie holds `secret`: its hex SHA-256."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def lifetimes(settings: Settings) -> tuple[timedelta, timedelta]:
    """(idle, absolute) lifetimes from the settings."""
    return (
        timedelta(hours=settings.session_idle_hours),
        timedelta(days=settings.session_max_days),
    )


def expiry(created_at: datetime, last_seen_at: datetime, settings: Settings) -> datetime:
    """When a session ends unless used again: the earlier of its idle and absolute expiry."""
    idle, absolute = lifetimes(settings)
    return min(last_seen_at + idle, created_at + absolute)


def csrf_token(settings: Settings, session_id: str) -> str:
    """The CSRF token of the forms posted with this session."""
    key = settings.secret_key.get_secret_value().encode("utf-8")
    mac = hmac.new(key, b"csrf:" + session_id.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def csrf_matches(settings: Settings, session_id: str, presented: str | None) -> bool:
    """Whether `presented` is this session's CSRF token (compared in constant time)."""
    if not presented:
        return False
    expected = csrf_token(settings, session_id).encode("ascii")
    return hmac.compare_digest(expected, presented.encode("utf-8", "replace"))


def create(
    session: Session, settings: Settings, *, user_id: int, user_agent: str | None, now: datetime
) -> CreatedSession:
    """Open a session for `user_id`. Its secret is in the result and nowhere else."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    sid = session_id(secret)
    _, absolute = lifetimes(settings)
    expires_at = expiry(now, now, settings)
    agent = user_agent[:USER_AGENT_LENGTH] if user_agent else None
    repository.add_session(
        session, session_id=sid, user_id=user_id, now=now, expires_at=expires_at, user_agent=agent
    )
    return CreatedSession(sid, secret, csrf_token(settings, sid), expires_at, now + absolute)


def resolve(
    session: Session, settings: Settings, secret: str | None, *, now: datetime
) -> ActiveSession:
    """The live session whose cookie holds `secret`, with its user; InvalidSession (401)
    when there is none, it is revoked or expired, or its user is archived. Reads only."""
    if not secret or not _SECRET_SHAPE.match(secret):
        raise InvalidSession()
    row = repository.find_session(session, session_id(secret))
    if row is None or row.revoked_at is not None or row.archived:
        raise InvalidSession()
    if now >= min(row.expires_at, expiry(row.created_at, row.last_seen_at, settings)):
        raise InvalidSession()
    user = SessionUser(
        row.user_id, row.email, row.first_name, row.last_name, row.role, row.timezone
    )
    return ActiveSession(
        id=row.id,
        user=user,
        csrf_token=csrf_token(settings, row.id),
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        touch_due=now - row.last_seen_at >= TOUCH_RESOLUTION,
    )


def touch(session: Session, settings: Settings, active: ActiveSession, *, now: datetime) -> None:
    """Record that the session was used now (call when `active.touch_due`): its idle
    expiry moves to now + the idle lifetime, never past the absolute one."""
    repository.touch_session(session, active.id, now, expiry(active.created_at, now, settings))


def revoke(session: Session, session_id: str, *, now: datetime) -> bool:
    """End one session (sign-out); False when it had already ended."""
    return repository.revoke_session(session, session_id, now)


def revoke_all_for_user(
    session: Session, user_id: int, *, now: datetime, keep: str | None = None
) -> int:
    """End every live session of a user, except `keep` (the one changing its password);
    how many were live."""
    return repository.revoke_user_sessions(session, user_id, now, keep=keep)


def live_sessions(session: Session, user_id: int, *, now: datetime) -> Sequence[UserSession]:
    """A user's open sessions, newest first (for "where you are signed in")."""
    return repository.live_sessions(session, user_id, now)
