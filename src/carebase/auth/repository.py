"""Every SQL statement of the auth domain: tokens, rate-limit counters, console sessions
and one-time sign-in links.

The per-request statements (token lookup, counters, session lookup) are built once with
bind parameters and run on the session's connection: they sit on every authenticated
request, and rebuilding an ORM statement each time costs more than running it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Row, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from carebase.models import ApiToken, RateLimitCounter, SigninLink, User, UserSession

_COUNTERS = RateLimitCounter.__table__
assert isinstance(_COUNTERS, Table)

_FIND_CREDENTIALS = select(
    ApiToken.id, ApiToken.name, ApiToken.scopes, ApiToken.last_used_at, ApiToken.revoked_at
).where(ApiToken.token_hash == bindparam("token_hash"))

_TOUCH = (
    update(ApiToken)
    .where(ApiToken.id == bindparam("token_id"))
    .values(last_used_at=bindparam("at", type_=ApiToken.last_used_at.type))
)

_WINDOW_HITS = select(_COUNTERS.c.hits).where(
    _COUNTERS.c.bucket == bindparam("bucket"), _COUNTERS.c.window_start == bindparam("window")
)


def _increment(insert: Any) -> Any:
    return (
        insert(_COUNTERS)
        .values(bucket=bindparam("bucket"), window_start=bindparam("window"), hits=1)
        .on_conflict_do_update(
            index_elements=[_COUNTERS.c.bucket, _COUNTERS.c.window_start],
            set_={"hits": _COUNTERS.c.hits + 1},
            where=_COUNTERS.c.hits < bindparam("cap"),
        )
        .returning(_COUNTERS.c.hits)
    )


_INCREMENT = {"postgresql": _increment(postgresql.insert), "sqlite": _increment(sqlite.insert)}


def add_token(session: Session, token: ApiToken) -> None:
    """Stage a new token."""
    session.add(token)
    session.flush()


def get_token(session: Session, token_id: str) -> ApiToken | None:
    """The token with this id, revoked or not."""
    return session.get(ApiToken, token_id)


Credentials = Row[str, str, list[str], datetime | None, datetime | None]


def find_credentials(session: Session, token_hash: str) -> Credentials | None:
    """(id, name, scopes, last_used_at, revoked_at) of the token hashing to `token_hash`."""
    result = session.connection().execute(_FIND_CREDENTIALS, {"token_hash": token_hash})
    return result.one_or_none()


def list_tokens(session: Session, *, include_revoked: bool) -> Sequence[ApiToken]:
    """Tokens, oldest first."""
    query = select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return session.scalars(query).all()


def count_active_tokens(session: Session) -> int:
    """How many tokens are not revoked."""
    query = select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None))
    return session.scalar(query) or 0


def lock_active_tokens(session: Session) -> Sequence[ApiToken]:
    """Every token not revoked, locked until the transaction ends (PostgreSQL; SQLite's
    write transaction already excludes other writers)."""
    query = select(ApiToken).where(ApiToken.revoked_at.is_(None)).with_for_update()
    return session.scalars(query).all()


def touch_token(session: Session, token_id: str, at: datetime) -> None:
    """Record that the token was used."""
    session.connection().execute(_TOUCH, {"token_id": token_id, "at": at})


def increment_counter(session: Session, bucket: str, window_start: int, cap: int) -> int | None:
    """Add one hit to the window unless it already holds `cap`; the new count, or None."""
    connection = session.connection()
    statement = _INCREMENT[connection.dialect.name]
    result = connection.execute(statement, {"bucket": bucket, "window": window_start, "cap": cap})
    hits: int | None = result.scalar_one_or_none()
    return hits


def window_hits(session: Session, bucket: str, window_start: int) -> int:
    """Hits recorded in one window (0 when none)."""
    result = session.connection().execute(_WINDOW_HITS, {"bucket": bucket, "window": window_start})
    hits: int | None = result.scalar_one_or_none()
    return hits or 0


def delete_windows_before(session: Session, bucket: str, window_start: int) -> None:
    """Forget windows too old to matter."""
    session.connection().execute(
        delete(RateLimitCounter).where(
            RateLimitCounter.bucket == bucket, RateLimitCounter.window_start < window_start
        )
    )


def decrement_counter(session: Session, bucket: str, window_start: int) -> None:
    """Take one hit back from a window (never below zero)."""
    session.connection().execute(
        update(RateLimitCounter)
        .where(
            RateLimitCounter.bucket == bucket,
            RateLimitCounter.window_start == window_start,
            RateLimitCounter.hits > 0,
        )
        .values(hits=RateLimitCounter.hits - 1)
    )


def delete_bucket(session: Session, bucket: str) -> None:
    """Forget every window of a bucket."""
    session.connection().execute(delete(RateLimitCounter).where(RateLimitCounter.bucket == bucket))


# Console sessions. A session is read with the user it belongs to, in one statement, on every
# request a signed-in browser makes.

_FIND_SESSION = (
    select(
        UserSession.id,
        UserSession.created_at,
        UserSession.last_seen_at,
        UserSession.expires_at,
        UserSession.revoked_at,
        User.id.label("user_id"),
        User.email,
        User.first_name,
        User.last_name,
        User.role,
        User.timezone,
        User.archived,
    )
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.id == bindparam("session_id"))
)

_TOUCH_SESSION = (
    update(UserSession)
    .where(UserSession.id == bindparam("session_id"), UserSession.revoked_at.is_(None))
    .values(
        last_seen_at=bindparam("at", type_=UserSession.last_seen_at.type),
        expires_at=bindparam("expires_at", type_=UserSession.expires_at.type),
    )
)


def add_session(
    session: Session,
    *,
    session_id: str,
    user_id: int,
    now: datetime,
    expires_at: datetime,
    user_agent: str | None,
) -> None:
    """Record a new signed-in session."""
    session.connection().execute(
        insert(UserSession).values(
            id=session_id,
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
            revoked_at=None,
            user_agent=user_agent,
        )
    )


SessionRow = Row[Any]


def find_session(session: Session, session_id: str) -> SessionRow | None:
    """The session with this id and its user's id, email, names, role, timezone, archived."""
    result = session.connection().execute(_FIND_SESSION, {"session_id": session_id})
    return cast("SessionRow | None", result.one_or_none())


def touch_session(session: Session, session_id: str, at: datetime, expires_at: datetime) -> None:
    """Record that the session was used, and push its expiry back."""
    session.connection().execute(
        _TOUCH_SESSION, {"session_id": session_id, "at": at, "expires_at": expires_at}
    )


def revoke_session(session: Session, session_id: str, at: datetime) -> bool:
    """End one session; False when it was already revoked or does not exist."""
    result: CursorResult[Any] = session.connection().execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return result.rowcount == 1


def revoke_user_sessions(
    session: Session, user_id: int, at: datetime, *, keep: str | None = None
) -> int:
    """End every live session of a user (but `keep`); how many were live."""
    query = update(UserSession).where(
        UserSession.user_id == user_id,
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > at,
    )
    if keep is not None:
        query = query.where(UserSession.id != keep)
    result: CursorResult[Any] = session.connection().execute(query.values(revoked_at=at))
    return result.rowcount


def live_sessions(session: Session, user_id: int, now: datetime) -> Sequence[UserSession]:
    """A user's sessions neither revoked nor past their stored expiry, newest first."""
    query = (
        select(UserSession)
        .where(
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
        )
        .order_by(UserSession.created_at.desc(), UserSession.id)
    )
    return session.scalars(query).all()


# One-time sign-in links.


def add_link(session: Session, link: SigninLink) -> None:
    """Stage a new link."""
    session.add(link)
    session.flush()


def find_link(session: Session, token_hash: str) -> Row[Any] | None:
    """The link hashing to `token_hash`, with its user's email, names and archived flag."""
    query = (
        select(
            SigninLink.id,
            SigninLink.user_id,
            SigninLink.purpose,
            SigninLink.expires_at,
            SigninLink.used_at,
            User.email,
            User.first_name,
            User.last_name,
            User.archived,
        )
        .join(User, User.id == SigninLink.user_id)
        .where(SigninLink.token_hash == token_hash)
    )
    return cast("Row[Any] | None", session.execute(query).one_or_none())


def use_link(session: Session, link_id: str, at: datetime) -> bool:
    """Mark a link used, once: False when it was used (or expired) meanwhile."""
    result: CursorResult[Any] = session.connection().execute(
        update(SigninLink)
        .where(
            SigninLink.id == link_id,
            SigninLink.used_at.is_(None),
            SigninLink.expires_at > at,
        )
        .values(used_at=at)
    )
    return result.rowcount == 1


def delete_unused_links(session: Session, user_id: int) -> int:
    """Drop a user's links not used yet (a newer link, a new password or an archive voids
    them); how many."""
    result: CursorResult[Any] = session.connection().execute(
        delete(SigninLink).where(SigninLink.user_id == user_id, SigninLink.used_at.is_(None))
    )
    return result.rowcount
