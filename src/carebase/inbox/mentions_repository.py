"""Every SQL statement of the mention workflow (mentions.py, presence.py, listing.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from carebase.inbox.workflow import ASSIGNED, OPEN_STATES
from carebase.models import (
    AgentPresence,
    Case,
    Classification,
    Group,
    GroupMember,
    InboxSettings,
    Mention,
    MentionClassification,
    MentionEvent,
    Response,
    User,
)
from carebase.users.repository import flush_unique

# Responses a conversation shows: not drafts (still being written) nor rejected ones.
_SHOWN_RESPONSES = ("awaiting_approval", "sending", "sent", "failed")


def get_mention(session: Session, mention_id: str) -> Mention | None:
    """One mention, read afresh."""
    return session.get(Mention, mention_id, populate_existing=True)


def lock_mention(session: Session, mention_id: str) -> Mention | None:
    """One mention, locked for the rest of the transaction (FOR UPDATE on PostgreSQL)."""
    query = select(Mention).where(Mention.id == mention_id).with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).first()


def lock_mentions(session: Session, mention_ids: Sequence[str]) -> list[Mention]:
    """Several mentions, locked in id order (one order for everyone: no deadlocks)."""
    if not mention_ids:
        return []
    query = (
        select(Mention)
        .where(Mention.id.in_(sorted(set(mention_ids))))
        .order_by(Mention.id)
        .with_for_update()
    )
    return list(session.scalars(query.execution_options(populate_existing=True)))


def open_group_ids(session: Session, group_key: str) -> list[str]:
    """The ids of a group's open mentions."""
    query = select(Mention.id).where(
        Mention.group_key == group_key, Mention.state.in_(sorted(OPEN_STATES))
    )
    return list(session.scalars(query))


def active_user(session: Session, user_id: int) -> User | None:
    """A user (archived or not)."""
    return session.get(User, user_id)


def get_group(session: Session, group_id: int) -> Group | None:
    """A group (archived or not)."""
    return session.get(Group, group_id)


def group_member_ids(session: Session, group_id: int) -> list[int]:
    """The group's members that are not archived."""
    query = (
        select(GroupMember.user_id)
        .join(User, User.id == GroupMember.user_id)
        .where(GroupMember.group_id == group_id, User.archived.is_(False))
        .order_by(GroupMember.user_id)
    )
    return list(session.scalars(query))


def lock_online_presences(session: Session, user_ids: Sequence[int]) -> list[AgentPresence]:
    """The online presence rows of these users, locked in user order: assignments by
    capacity to the same agents take turns, so none goes over capacity."""
    if not user_ids:
        return []
    query = (
        select(AgentPresence)
        .where(AgentPresence.user_id.in_(sorted(set(user_ids))), AgentPresence.online.is_(True))
        .order_by(AgentPresence.user_id)
        .with_for_update()
    )
    return list(session.scalars(query.execution_options(populate_existing=True)))


def open_load(session: Session, user_ids: Sequence[int]) -> dict[int, int]:
    """How many open mentions each user has assigned."""
    if not user_ids:
        return {}
    query = (
        select(Mention.assignee_id, func.count())
        .where(Mention.assignee_id.in_(list(user_ids)), Mention.state.in_(sorted(OPEN_STATES)))
        .group_by(Mention.assignee_id)
    )
    return {int(user_id or 0): int(count) for user_id, count in session.execute(query)}


def get_classification(session: Session, classification_id: int) -> Classification | None:
    """One classification."""
    return session.get(Classification, classification_id)


def has_classification(session: Session, mention_id: str, classification_id: int) -> bool:
    """Whether the mention carries the classification."""
    query = select(MentionClassification.mention_id).where(
        MentionClassification.mention_id == mention_id,
        MentionClassification.classification_id == classification_id,
    )
    return session.scalars(query).first() is not None


def add_classification(session: Session, row: MentionClassification) -> None:
    """Put a classification on a mention."""
    session.add(row)
    session.flush()


def remove_classification(session: Session, mention_id: str, classification_id: int) -> bool:
    """Take a classification off a mention; whether it was on."""
    result = session.execute(
        delete(MentionClassification).where(
            MentionClassification.mention_id == mention_id,
            MentionClassification.classification_id == classification_id,
        )
    )
    return bool(getattr(result, "rowcount", 0))


def mention_classifications(session: Session, mention_id: str) -> list[Classification]:
    """The classifications on a mention, by name."""
    query = (
        select(Classification)
        .join(
            MentionClassification,
            MentionClassification.classification_id == Classification.id,
        )
        .where(MentionClassification.mention_id == mention_id)
        .order_by(Classification.name)
    )
    return list(session.scalars(query))


def mention_events(session: Session, mention_id: str) -> list[MentionEvent]:
    """A mention's events, oldest first."""
    query = (
        select(MentionEvent)
        .where(MentionEvent.mention_id == mention_id)
        .order_by(MentionEvent.at, MentionEvent.id)
    )
    return list(session.scalars(query))


def mention_responses(session: Session, mention_id: str) -> list[Response]:
    """A mention's responses (drafts included), oldest first."""
    query = (
        select(Response)
        .where(Response.mention_id == mention_id)
        .order_by(Response.created_at, Response.id)
    )
    return list(session.scalars(query))


# Presence.


def get_presence(session: Session, user_id: int) -> AgentPresence | None:
    """A user's presence row."""
    return session.get(AgentPresence, user_id, populate_existing=True)


def lock_presence(session: Session, user_id: int) -> AgentPresence | None:
    """A user's presence row, locked."""
    query = select(AgentPresence).where(AgentPresence.user_id == user_id).with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).first()


def insert_presence(session: Session, row: AgentPresence) -> bool:
    """Add a presence row in a savepoint; False when a concurrent writer added it first."""
    return flush_unique(session, row)


def idle_offline_seconds(session: Session) -> int:
    """The idle time after which an agent goes offline (settings row 1, else 30 minutes)."""
    value = session.scalar(select(InboxSettings.idle_offline_seconds).where(InboxSettings.id == 1))
    return int(value) if value is not None else 1800


def claimed_ids(session: Session, user_id: int) -> list[str]:
    """The user's mentions claimed but not yet worked on (state assigned)."""
    query = (
        select(Mention.id)
        .where(Mention.assignee_id == user_id, Mention.state == ASSIGNED)
        .order_by(Mention.id)
    )
    return list(session.scalars(query))


def last_responder(session: Session, mention: Mention) -> int | None:
    """The agent who answered the mention's case last, else its group's last responder."""
    if mention.case_id is not None:
        agent = session.scalar(select(Case.last_agent_id).where(Case.id == mention.case_id))
        if agent is not None:
            return int(agent)
    query = (
        select(Response.author_id)
        .join(Mention, Mention.id == Response.mention_id)
        .where(
            Mention.group_key == mention.group_key,
            Mention.id != mention.id,
            Response.status == "sent",
            Response.private.is_(False),
            Response.author_id.is_not(None),
        )
        .order_by(Response.sent_at.desc(), Response.id.desc())
        .limit(1)
    )
    agent = session.scalar(query)
    return int(agent) if agent is not None else None


# Lists.


def list_mentions(
    session: Session,
    conditions: list[Any],
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Mention]:
    """Mentions matching every condition, oldest first, after the keyset, `limit` of them."""
    query = select(Mention).where(*conditions)
    if after is not None:
        published_at, mention_id = after
        query = query.where(
            or_(
                Mention.published_at > published_at,
                and_(Mention.published_at == published_at, Mention.id > mention_id),
            )
        )
    query = query.order_by(Mention.published_at, Mention.id).limit(limit)
    return list(session.scalars(query))


def classified_with(classification_id: int) -> Any:
    """A condition: the mention carries the classification."""
    return Mention.id.in_(
        select(MentionClassification.mention_id).where(
            MentionClassification.classification_id == classification_id
        )
    )


def conversation_rows(session: Session, mention: Mention) -> tuple[list[Mention], list[Response]]:
    """The customer's mentions in the mention's group or case, and the responses shown."""
    same = Mention.group_key == mention.group_key
    if mention.case_id is not None:
        same = or_(same, Mention.case_id == mention.case_id)
    mentions = list(
        session.scalars(select(Mention).where(same).order_by(Mention.published_at, Mention.id))
    )
    ids = [row.id for row in mentions]
    responses = list(
        session.scalars(
            select(Response)
            .where(Response.mention_id.in_(ids), Response.status.in_(_SHOWN_RESPONSES))
            .order_by(Response.created_at, Response.id)
        )
    )
    return mentions, responses


def mentions_by_publication(session: Session) -> list[tuple[str, datetime, str, str]]:
    """Every mention's id, publication time, source type and text, earliest first."""
    rows = session.execute(
        select(Mention.id, Mention.published_at, Mention.source_type, Mention.body).order_by(
            Mention.published_at, Mention.id
        )
    ).all()
    return [(row[0], row[1], row[2], row[3]) for row in rows]


def responded_count(session: Session) -> int:
    """How many mentions have had a public response."""
    count = session.scalar(
        select(func.count()).select_from(Mention).where(Mention.response_s.is_not(None))
    )
    return int(count or 0)
