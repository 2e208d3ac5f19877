"""Every SQL statement of the auth domain.

The per-request statements (token lookup, counters) are built once with bind
parameters and run on the session's connection: they sit on every authenticated
request, and rebuilding an ORM statement each time costs more than running it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from carebase.models import ApiToken, RateLimitCounter

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
