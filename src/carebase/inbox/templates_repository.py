"""Every SQL statement about reply templates."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebase.models import Group, GroupMember, MessageTemplate
from carebase.users.repository import flush_unique

_TEMPLATE = MessageTemplate.__table__.c


def get(session: Session, template_id: str) -> MessageTemplate | None:
    """One template."""
    return session.get(MessageTemplate, template_id)


def lock(session: Session, template_id: str) -> MessageTemplate | None:
    """One template, its row locked until the transaction ends."""
    return session.scalars(
        select(MessageTemplate).where(_TEMPLATE.id == template_id).with_for_update()
    ).first()


def name_taken(session: Session, name: str, *, other_than: str | None = None) -> bool:
    """Whether another template has this name (case-insensitive)."""
    statement = select(_TEMPLATE.id).where(func.lower(_TEMPLATE.name) == name.lower())
    if other_than is not None:
        statement = statement.where(_TEMPLATE.id != other_than)
    return session.execute(statement.limit(1)).first() is not None


def add(session: Session, template: MessageTemplate) -> bool:
    """Store a new template; False when its name is taken (a concurrent writer's)."""
    return flush_unique(session, template)


def save(session: Session) -> bool:
    """Write a changed template; False when its new name is taken meanwhile."""
    return flush_unique(session)


def delete(session: Session, template: MessageTemplate) -> None:
    """Drop a template (responses keep their text; their template_id becomes NULL)."""
    session.delete(template)
    session.flush()


def all_templates(session: Session, *, archived: bool) -> list[MessageTemplate]:
    """Every template by name (archived ones too when asked)."""
    statement = select(MessageTemplate).order_by(_TEMPLATE.name, _TEMPLATE.id)
    if not archived:
        statement = statement.where(_TEMPLATE.archived_at.is_(None))
    return list(session.scalars(statement))


def existing_groups(session: Session, group_ids: list[int]) -> set[int]:
    """Which of these group ids exist."""
    if not group_ids:
        return set()
    return set(session.scalars(select(Group.id).where(Group.id.in_(group_ids))))


def groups_of(session: Session, user_id: int) -> set[int]:
    """The groups a user is a member of."""
    return set(session.scalars(select(GroupMember.group_id).where(GroupMember.user_id == user_id)))
