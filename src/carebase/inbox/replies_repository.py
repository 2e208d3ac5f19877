"""Every SQL statement about responses (replies and private notes) and who may approve them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, insert, or_, select, update
from sqlalchemy.orm import Session

from carebase.models import Group, GroupMember, Mention, Response, User

_RESPONSE = Response.__table__.c
_USER = User.__table__.c
_GROUP = Group.__table__.c
_MEMBER = GroupMember.__table__.c


def add(session: Session, values: dict[str, Any]) -> None:
    """Store a new response."""
    session.execute(insert(Response).values(**values))


def get(session: Session, response_id: str) -> Response | None:
    """One response."""
    return session.get(Response, response_id)


def lock(session: Session, response_id: str) -> Response | None:
    """One response, its row locked until the transaction ends (FOR UPDATE), read afresh."""
    return session.scalars(
        select(Response)
        .where(_RESPONSE.id == response_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def mention_id_of(session: Session, response_id: str) -> str | None:
    """The mention a response answers (read without a lock, to lock the mention first)."""
    value: str | None = session.execute(
        select(_RESPONSE.mention_id).where(_RESPONSE.id == response_id)
    ).scalar()
    return value


def set_fields(session: Session, response_id: str, **values: Any) -> None:
    """Change a response's columns."""
    session.execute(update(Response).where(_RESPONSE.id == response_id).values(**values))


def delete(session: Session, response: Response) -> None:
    """Drop a response."""
    session.delete(response)
    session.flush()


def page(
    session: Session,
    *,
    status: str | None,
    mention_id: str | None,
    author_id: int | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Response]:
    """Responses oldest first (created_at, id), filtered, after a keyset."""
    statement = select(Response).order_by(_RESPONSE.created_at, _RESPONSE.id).limit(limit)
    if status is not None:
        statement = statement.where(_RESPONSE.status == status)
    if mention_id is not None:
        statement = statement.where(_RESPONSE.mention_id == mention_id)
    if author_id is not None:
        statement = statement.where(_RESPONSE.author_id == author_id)
    if after is not None:
        created_at, response_id = after
        statement = statement.where(
            or_(
                _RESPONSE.created_at > created_at,
                and_(_RESPONSE.created_at == created_at, _RESPONSE.id > response_id),
            )
        )
    return list(session.scalars(statement))


def user(session: Session, user_id: int) -> tuple[str, bool] | None:
    """A user's (role, archived), or None when there is no such user."""
    row = session.execute(select(_USER.role, _USER.archived).where(_USER.id == user_id)).first()
    return (row.role, bool(row.archived)) if row is not None else None


def needs_approval(session: Session, user_id: int) -> bool:
    """Whether the user is a member of a live group whose replies wait for approval."""
    statement = select(
        exists().where(
            _MEMBER.user_id == user_id,
            _MEMBER.group_id == _GROUP.id,
            _GROUP.requires_approval.is_(True),
            _GROUP.archived_at.is_(None),
        )
    )
    return bool(session.execute(statement).scalar())


def mention_fields(session: Session, mention_id: str) -> tuple[str | None, str | None] | None:
    """A mention's (profile_id, case_id), or None when there is no such mention."""
    mention = Mention.__table__.c
    row = session.execute(
        select(mention.profile_id, mention.case_id).where(mention.id == mention_id)
    ).first()
    return (row.profile_id, row.case_id) if row is not None else None
