"""Every SQL statement of the auth domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from carebase.models import ApiToken, RateLimitCounter


def add_token(session: Session, token: ApiToken) -> None:
    """Stage a new token."""
    session.add(token)
    session.flush()


def get_token(session: Session, token_id: str) -> ApiToken | None:
    """The token with this id, revoked or not."""
    return session.get(ApiToken, token_id)


def find_token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    """The token whose secret hashes to `token_hash`."""
    return session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash)).one_or_none()


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


def touch_token(session: Session, token_id: str, at: datetime) -> None:
    """Record that the token was used."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=at))


def increment_counter(session: Session, bucket: str, window_start: int, cap: int) -> int | None:
    """Add one hit to the window unless it already holds `cap`; the new count, or None."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = RateLimitCounter.__table__
    assert isinstance(table, Table)
    statement = (
        insert(table)
        .values(bucket=bucket, window_start=window_start, hits=1)
        .on_conflict_do_update(
            index_elements=[table.c.bucket, table.c.window_start],
            set_={"hits": table.c.hits + 1},
            where=table.c.hits < cap,
        )
        .returning(table.c.hits)
    )
    return session.execute(statement).scalar_one_or_none()


def window_hits(session: Session, bucket: str, window_start: int) -> int:
    """Hits recorded in one window (0 when none)."""
    hits = session.scalar(
        select(RateLimitCounter.hits).where(
            RateLimitCounter.bucket == bucket, RateLimitCounter.window_start == window_start
        )
    )
    return hits or 0


def delete_windows_before(session: Session, bucket: str, window_start: int) -> None:
    """Forget windows too old to matter."""
    session.execute(
        delete(RateLimitCounter).where(
            RateLimitCounter.bucket == bucket, RateLimitCounter.window_start < window_start
        )
    )
