"""Every SQL statement the inbox console pages read that no service answers in one go: a
page of mentions for a tab and its filters (with each row's classifications and assignee),
the count of every tab (so the tab strip needs no query per tab), the conversation, drafts
and approvals. Read-only: every change goes through the workflow's services
(`carebase.inbox.mentions`, `carebase.inbox.replies`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from carebase.inbox.workflow import OPEN_STATES, STATES
from carebase.models import (
    Classification,
    Mention,
    MentionClassification,
    Queue,
    Response,
)
from carebase.models.users import Group, User

# The tabs before the per-state ones: New, Mine (my open ones), All (every open one).
FIRST_TABS: tuple[tuple[str, str], ...] = (("new", "New"), ("mine", "Mine"), ("all", "All open"))


@dataclass(frozen=True)
class Filters:
    """What the list shows: a queue, a tab, and the optional filters."""

    queue_id: str | None = None
    tab: str = "new"
    classification_id: int | None = None
    source_type: str | None = None
    # An assignee's id; 0 means "nobody".
    assignee_id: int | None = None
    follow_up: bool = False


@dataclass
class Row:
    """A mention as the list shows it."""

    mention: Mention
    classifications: list[Classification] = field(default_factory=list)
    assignee: User | None = None
    group: Group | None = None


def _tab_condition(tab: str, user_id: int) -> Any:
    if tab == "mine":
        return and_(Mention.assignee_id == user_id, Mention.state.in_(OPEN_STATES))
    if tab == "all":
        return Mention.state.in_(OPEN_STATES)
    if tab == "follow_up":
        return Mention.follow_up.is_(True)
    return Mention.state == tab


def _filtered(statement: Any, filters: Filters) -> Any:
    # `Any`: the statements select different column tuples (SQLAlchemy types each).
    if filters.queue_id:
        statement = statement.where(Mention.queue_id == filters.queue_id)
    if filters.source_type:
        statement = statement.where(Mention.source_type == filters.source_type)
    if filters.assignee_id == 0:
        statement = statement.where(Mention.assignee_id.is_(None))
    elif filters.assignee_id is not None:
        statement = statement.where(Mention.assignee_id == filters.assignee_id)
    if filters.follow_up:
        statement = statement.where(Mention.follow_up.is_(True))
    if filters.classification_id is not None:
        tagged = select(MentionClassification.mention_id).where(
            MentionClassification.classification_id == filters.classification_id
        )
        statement = statement.where(Mention.id.in_(tagged))
    return statement


def page_of(
    session: Session, filters: Filters, user_id: int, *, offset: int, limit: int
) -> tuple[list[Row], bool]:
    """One page of the tab, oldest first (the longest waiting on top); whether more follow."""
    statement = _filtered(select(Mention), filters).where(_tab_condition(filters.tab, user_id))
    statement = statement.order_by(Mention.published_at, Mention.id).offset(offset)
    mentions = list(session.scalars(statement.limit(limit + 1)))
    more = len(mentions) > limit
    rows = [Row(m) for m in mentions[:limit]]
    _attach(session, rows)
    return rows, more


def _attach(session: Session, rows: Sequence[Row]) -> None:
    """Each row's classifications, assignee and group, in three queries for the page."""
    ids = [row.mention.id for row in rows]
    if not ids:
        return
    labels: dict[str, list[Classification]] = {}
    pairs = session.execute(
        select(MentionClassification.mention_id, Classification)
        .join(Classification, Classification.id == MentionClassification.classification_id)
        .where(MentionClassification.mention_id.in_(ids))
        .order_by(Classification.name)
    )
    for mention_id, classification in pairs:
        labels.setdefault(mention_id, []).append(classification)
    user_ids = {r.mention.assignee_id for r in rows if r.mention.assignee_id is not None}
    group_ids = {r.mention.assigned_group_id for r in rows if r.mention.assigned_group_id}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    groups = {g.id: g for g in session.scalars(select(Group).where(Group.id.in_(group_ids)))}
    for row in rows:
        row.classifications = labels.get(row.mention.id, [])
        row.assignee = users.get(row.mention.assignee_id or 0)
        row.group = groups.get(row.mention.assigned_group_id or 0)


def tab_counts(session: Session, filters: Filters, user_id: int) -> dict[str, int]:
    """How many mentions each tab holds under the same queue and filters."""
    grouped = _filtered(select(Mention.state, func.count()), filters).group_by(Mention.state)
    by_state: dict[str, int] = {str(state): int(n) for state, n in session.execute(grouped)}
    counts = {state: int(by_state.get(state, 0)) for state in STATES}
    counts["all"] = sum(counts[state] for state in OPEN_STATES)
    mine = _filtered(select(func.count()).select_from(Mention), filters).where(
        _tab_condition("mine", user_id)
    )
    counts["mine"] = int(session.scalar(mine) or 0)
    flagged = _filtered(select(func.count()).select_from(Mention), filters).where(
        Mention.follow_up.is_(True)
    )
    counts["follow_up"] = int(session.scalar(flagged) or 0)
    return counts


def queues(session: Session) -> list[Queue]:
    """The live queues, the default first."""
    statement = (
        select(Queue)
        .where(Queue.archived_at.is_(None))
        .order_by(Queue.is_default.desc(), Queue.name)
    )
    return list(session.scalars(statement))


def classifications(session: Session, *, include_archived: bool = False) -> list[Classification]:
    """Classifications by name (the archived ones only when asked: they are not offered)."""
    statement = select(Classification).order_by(Classification.name)
    if not include_archived:
        statement = statement.where(Classification.archived_at.is_(None))
    return list(session.scalars(statement))


def source_types(session: Session) -> list[str]:
    """The source types mentions have come from."""
    return sorted(str(s) for s in session.scalars(select(Mention.source_type).distinct()))


def agents(session: Session) -> list[User]:
    """The people a mention can be assigned to: live users, by name."""
    statement = (
        select(User)
        .where(User.archived.is_(False))
        .order_by(User.first_name, User.last_name, User.email)
    )
    return list(session.scalars(statement))


def groups(session: Session) -> list[Group]:
    """The live groups a mention can be assigned to."""
    return list(
        session.scalars(select(Group).where(Group.archived_at.is_(None)).order_by(Group.name))
    )


def mention_classifications(session: Session, mention_id: str) -> list[Classification]:
    """The classifications on one mention, by name (archived ones too: they stay on)."""
    statement = (
        select(Classification)
        .join(MentionClassification, MentionClassification.classification_id == Classification.id)
        .where(MentionClassification.mention_id == mention_id)
        .order_by(Classification.name)
    )
    return list(session.scalars(statement))


def users_named(session: Session, ids: set[int]) -> dict[int, User]:
    """Users by id (authors of responses, reviewers)."""
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}


def awaiting_approval(session: Session) -> list[tuple[Response, Mention]]:
    """Responses waiting for a manager, oldest first, with their mentions."""
    statement = (
        select(Response, Mention)
        .join(Mention, Mention.id == Response.mention_id)
        .where(Response.status == "awaiting_approval")
        .order_by(Response.submitted_at, Response.id)
    )
    return [(r, m) for r, m in session.execute(statement).all()]


@dataclass(frozen=True)
class Item:
    """One line of a conversation: a customer's message or an agent's response (or note)."""

    at: datetime
    mention: Mention | None = None
    response: Response | None = None
    author: User | None = None


def conversation(session: Session, mention: Mention) -> list[Item]:
    """The customer's messages of the mention's group (and case), and every response to
    them, in time order (drafts only the viewer's own page shows; they are left out)."""
    together = Mention.group_key == mention.group_key
    if mention.case_id is not None:
        together = or_(together, Mention.case_id == mention.case_id)
    messages = list(session.scalars(select(Mention).where(together).order_by(Mention.published_at)))
    ids = [m.id for m in messages]
    responses = list(
        session.scalars(
            select(Response)
            .where(Response.mention_id.in_(ids), Response.status != "draft")
            .order_by(Response.created_at)
        )
    )
    authors = users_named(session, {r.author_id for r in responses if r.author_id is not None})
    items = [Item(m.published_at, mention=m) for m in messages]
    items += [
        Item(
            r.sent_at or r.submitted_at or r.created_at,
            response=r,
            author=authors.get(r.author_id or 0),
        )
        for r in responses
    ]
    return sorted(items, key=lambda item: item.at)


def drafts_of(session: Session, mention_id: str, user_id: int) -> list[Response]:
    """The viewer's unsent replies on the mention (drafts, rejected, failed), newest first."""
    statement = (
        select(Response)
        .where(
            Response.mention_id == mention_id,
            Response.author_id == user_id,
            Response.status.in_(("draft", "rejected", "failed")),
        )
        .order_by(Response.updated_at.desc())
    )
    return list(session.scalars(statement))


def pending_of(session: Session, mention_id: str) -> list[Response]:
    """The mention's responses that wait for a manager's approval."""
    statement = (
        select(Response)
        .where(Response.mention_id == mention_id, Response.status == "awaiting_approval")
        .order_by(Response.submitted_at)
    )
    return list(session.scalars(statement))


def queue_name(session: Session, queue_id: str) -> str:
    """A queue's name."""
    queue = session.get(Queue, queue_id)
    return queue.name if queue is not None else queue_id
