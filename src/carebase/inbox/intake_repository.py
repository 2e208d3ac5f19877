"""Every SQL statement of intake, queues, rules and ignored senders."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.orm import Session

from carebase.models import IgnoredSender, InboxRule, Mention, Queue, Response


def existing_mentions(
    session: Session, keys: Iterable[tuple[str, str, str]]
) -> dict[tuple[str, str, str], str]:
    """The ids of the mentions already stored under (origin, origin_key, external_id)."""
    wanted = sorted(set(keys))
    found: dict[tuple[str, str, str], str] = {}
    # Chunked: a 1,000-item batch is one statement per 200 keys on both engines.
    for start in range(0, len(wanted), 200):
        chunk = wanted[start : start + 200]
        rows = session.execute(
            select(Mention.origin, Mention.origin_key, Mention.external_id, Mention.id).where(
                tuple_(Mention.origin, Mention.origin_key, Mention.external_id).in_(chunk)
            )
        )
        for origin, origin_key, external_id, mention_id in rows:
            found[(origin, origin_key, external_id)] = mention_id
    return found


def default_queue(session: Session) -> Queue | None:
    """The queue mentions that name none land in."""
    return session.scalars(select(Queue).where(Queue.is_default.is_(True)).limit(1)).first()


def queue(session: Session, queue_id: str, *, lock: bool = False) -> Queue | None:
    """One queue by id (locked FOR UPDATE when asked)."""
    query = select(Queue).where(Queue.id == queue_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def queue_by_name(session: Session, name: str) -> Queue | None:
    """One queue by its (unique) name."""
    return session.scalars(select(Queue).where(Queue.name == name)).first()


def queues(session: Session, *, include_archived: bool) -> list[Queue]:
    """Every queue, the default first, then by name."""
    query = select(Queue).order_by(Queue.is_default.desc(), Queue.name)
    if not include_archived:
        query = query.where(Queue.archived_at.is_(None))
    return list(session.scalars(query))


def clear_default(session: Session, except_id: str) -> None:
    """Make every queue but one not the default."""
    session.execute(
        update(Queue)
        .where(Queue.is_default.is_(True), Queue.id != except_id)
        .values(is_default=False)
    )


def mentions_in_queue(session: Session, queue_id: str) -> int:
    """How many mentions a queue holds."""
    return int(
        session.scalar(
            select(func.count()).select_from(Mention).where(Mention.queue_id == queue_id)
        )
        or 0
    )


def rules_of(session: Session, queue_id: str, *, lock: bool = False) -> list[InboxRule]:
    """A queue's rules in run order."""
    query = (
        select(InboxRule)
        .where(InboxRule.queue_id == queue_id)
        .order_by(InboxRule.position, InboxRule.id)
    )
    if lock:
        query = query.with_for_update()
    return list(session.scalars(query))


def rule(session: Session, rule_id: str, *, lock: bool = False) -> InboxRule | None:
    """One rule by id."""
    query = select(InboxRule).where(InboxRule.id == rule_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def all_rules(session: Session) -> list[InboxRule]:
    """Every rule, by queue then position."""
    return list(
        session.scalars(
            select(InboxRule).order_by(InboxRule.queue_id, InboxRule.position, InboxRule.id)
        )
    )


def ignored_senders(session: Session) -> list[IgnoredSender]:
    """Every ignored-sender pattern, in pattern order."""
    return list(session.scalars(select(IgnoredSender).order_by(IgnoredSender.pattern)))


def ignored_sender(session: Session, sender_id: str) -> IgnoredSender | None:
    """One ignored-sender pattern by id."""
    return session.get(IgnoredSender, sender_id)


def ignored_by_pattern(session: Session, pattern: str) -> IgnoredSender | None:
    """One ignored-sender row by its pattern."""
    return session.scalars(select(IgnoredSender).where(IgnoredSender.pattern == pattern)).first()


def add(session: Session, row: Any) -> None:
    """Insert a new row now (so its constraints are checked in this statement)."""
    session.add(row)
    session.flush()


def groups_with_replies(session: Session, group_keys: set[str]) -> set[str]:
    """The group keys among `group_keys` that an agent has answered (a sent public response
    to one of their mentions): only those can route a new message to its last responder."""
    found: set[str] = set()
    ordered = sorted(group_keys)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        query = (
            select(Mention.group_key)
            .join(Response, Response.mention_id == Mention.id)
            .where(
                Mention.group_key.in_(chunk),
                Response.status == "sent",
                Response.private.is_(False),
            )
            .distinct()
        )
        found.update(session.scalars(query))
    return found
