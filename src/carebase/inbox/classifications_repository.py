"""Every SQL statement of classifications.py."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebase.models import Classification, InboxRule, MentionClassification
from carebase.users.repository import flush_unique


def add(session: Session, row: Classification) -> bool:
    """Insert; False when the name is taken."""
    return flush_unique(session, row)


def flush(session: Session) -> bool:
    """Flush changes; False when the new name is taken."""
    return flush_unique(session)


def get(session: Session, classification_id: int) -> Classification | None:
    """One classification."""
    return session.get(Classification, classification_id)


def lock(session: Session, classification_id: int) -> Classification | None:
    """One classification, locked."""
    query = select(Classification).where(Classification.id == classification_id)
    return session.scalars(
        query.with_for_update().execution_options(populate_existing=True)
    ).first()


def list_all(session: Session, *, include_archived: bool) -> Sequence[Classification]:
    """Classifications by name."""
    query = select(Classification).order_by(Classification.name, Classification.id)
    if not include_archived:
        query = query.where(Classification.archived_at.is_(None))
    return list(session.scalars(query))


def mention_count(session: Session, classification_id: int) -> int:
    """How many mentions carry it."""
    query = select(func.count()).where(MentionClassification.classification_id == classification_id)
    return int(session.scalar(query) or 0)


def used_by_rules(session: Session, classification_id: int) -> bool:
    """Whether any rule's actions classify with it (a JSON list, read in Python: few rules)."""
    for actions in session.scalars(select(InboxRule.actions)):
        if classification_id in ((actions or {}).get("classify") or []):
            return True
    return False
