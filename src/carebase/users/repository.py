"""Every SQL statement on users, groups and group memberships."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Row, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carebase.models import Group, GroupMember, User
from carebase.models.base import Base, table

_MEMBERS = table(GroupMember)
_INSERT: dict[str, Callable[..., Any]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


def is_unique_violation(error: IntegrityError) -> bool:
    """Whether an IntegrityError is a unique constraint's (a taken email or group name)."""
    if isinstance(error.orig, sqlite3.IntegrityError):
        return "UNIQUE constraint failed" in str(error.orig)
    return getattr(error.orig, "sqlstate", None) == "23505"


def flush_unique(session: Session, staged: Base | None = None) -> bool:
    """Flush pending changes (adding `staged` first) in a savepoint; False, with the
    savepoint rolled back and the rest of the transaction intact, when a unique constraint
    refuses them. On PostgreSQL a concurrent transaction inserting the same value makes this
    wait for its commit, then answer False."""
    try:
        with session.begin_nested():
            if staged is not None:
                session.add(staged)
            session.flush()
    except IntegrityError as error:
        if not is_unique_violation(error):
            raise
        return False
    return True


# Users.


def get_user(session: Session, user_id: int) -> User | None:
    """One user, archived or not."""
    return session.get(User, user_id)


def find_user_by_email(session: Session, email: str) -> User | None:
    """The user with this (normalised) email."""
    return session.scalars(select(User).where(User.email == email)).one_or_none()


def list_users(session: Session) -> Sequence[User]:
    """Every user, archived ones too, by id."""
    return session.scalars(select(User).order_by(User.id)).all()


def any_user(session: Session) -> bool:
    """Whether any user exists, archived or not."""
    return session.scalar(select(User.id).limit(1)) is not None


def credentials(session: Session, email: str) -> Row[Any] | None:
    """(id, password_hash, archived) of the user with this email."""
    query = select(User.id, User.password_hash, User.archived).where(User.email == email)
    return cast("Row[Any] | None", session.execute(query).one_or_none())


def record_sign_in(
    session: Session, user_id: int, *, verified_hash: str, new_hash: str | None, now: datetime
) -> bool:
    """Count a sign-in (and store `new_hash` when the old one needs replacing), provided
    the user is still not archived and its password is still the one verified; False
    otherwise."""
    values: dict[str, Any] = {
        "sign_in_count": User.sign_in_count + 1,
        "last_sign_in_at": now,
    }
    if new_hash is not None:
        values["password_hash"] = new_hash
    result: CursorResult[Any] = session.connection().execute(
        update(User)
        .where(
            User.id == user_id,
            User.archived.is_(False),
            User.password_hash == verified_hash,
        )
        .values(**values)
    )
    return result.rowcount == 1


def set_password_hash(session: Session, user_id: int, password_hash: str, now: datetime) -> None:
    """Store a new password hash."""
    session.connection().execute(
        update(User)
        .where(User.id == user_id)
        .values(password_hash=password_hash, password_changed_at=now, updated_at=now)
    )


# Groups.


def get_group(session: Session, group_id: int) -> Group | None:
    """One group, archived or not."""
    return session.get(Group, group_id)


def find_group_by_name(session: Session, name: str) -> Group | None:
    """The group with exactly this name."""
    return session.scalars(select(Group).where(Group.name == name)).one_or_none()


def list_groups(session: Session, *, include_archived: bool) -> Sequence[Group]:
    """Groups by id."""
    query = select(Group).order_by(Group.id)
    if not include_archived:
        query = query.where(Group.archived_at.is_(None))
    return session.scalars(query).all()


def groups_by_ids(session: Session, group_ids: Iterable[int]) -> Sequence[Group]:
    """The groups among `group_ids` that exist."""
    ids = sorted(set(group_ids))
    if not ids:
        return []
    return session.scalars(select(Group).where(Group.id.in_(ids))).all()


# Memberships. Only active groups' memberships are read and written here: an archived
# group keeps its members untouched, and gets them back if it is restored.


def active_group_ids(
    session: Session, user_ids: Iterable[int] | None = None
) -> dict[int, list[int]]:
    """Each user's active groups' ids, ascending (users in no group are absent); every
    user's when `user_ids` is None."""
    query = (
        select(GroupMember.user_id, GroupMember.group_id)
        .join(Group, Group.id == GroupMember.group_id)
        .where(Group.archived_at.is_(None))
        .order_by(GroupMember.user_id, GroupMember.group_id)
    )
    if user_ids is not None:
        ids = sorted(set(user_ids))
        if not ids:
            return {}
        query = query.where(GroupMember.user_id.in_(ids))
    groups: dict[int, list[int]] = defaultdict(list)
    for user_id, group_id in session.execute(query):
        groups[user_id].append(group_id)
    return dict(groups)


def member_ids(session: Session, group_id: int) -> list[int]:
    """The ids of a group's members, ascending."""
    query = (
        select(GroupMember.user_id)
        .where(GroupMember.group_id == group_id)
        .order_by(GroupMember.user_id)
    )
    return list(session.scalars(query))


def set_active_groups(session: Session, user_id: int, group_ids: Sequence[int]) -> None:
    """Make the user's active groups exactly `group_ids` (active groups all)."""
    keep = sorted(set(group_ids))
    active = select(Group.id).where(Group.archived_at.is_(None)).scalar_subquery()
    leave = delete(GroupMember).where(
        GroupMember.user_id == user_id, GroupMember.group_id.in_(active)
    )
    if keep:
        leave = leave.where(GroupMember.group_id.not_in(keep))
    connection = session.connection()
    connection.execute(leave)
    if keep:
        insert = _INSERT[connection.dialect.name](_MEMBERS)
        connection.execute(
            insert.on_conflict_do_nothing(index_elements=[_MEMBERS.c.group_id, _MEMBERS.c.user_id]),
            [{"group_id": group_id, "user_id": user_id} for group_id in keep],
        )
