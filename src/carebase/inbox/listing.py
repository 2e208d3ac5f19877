"""Reading mentions: the inbox's filtered lists (cursor pages, oldest first) and a
mention's conversation (the customer's messages in its group or case and the answers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, or_
from sqlalchemy.orm import Session

from carebase.errors import ValidationFailed
from carebase.inbox import mentions_repository as repository
from carebase.inbox.workflow import NEW, OPEN_STATES, STATES
from carebase.kit.pagination import decode, encode
from carebase.models import Mention

Tab = Literal["new", "mine", "all"]


@dataclass(frozen=True)
class MentionFilters:
    """What a list shows; every filter given must match."""

    queue_id: str | None = None
    tab: Tab | None = None
    states: tuple[str, ...] = ()
    assignee_id: int | None = None
    group_id: int | None = None
    classification_id: int | None = None
    source_type: str | None = None
    profile_id: str | None = None
    q: str | None = None
    # Whose "mine" tab.
    user_id: int | None = None
    follow_up: bool | None = None


@dataclass
class MentionPage:
    """One page of mentions and the cursor of the next (None on the last page)."""

    items: list[Mention] = field(default_factory=list)
    next_cursor: str | None = None


def _conditions(filters: MentionFilters) -> list[Any]:
    conditions: list[Any] = []
    if filters.tab == "new":
        conditions.append(Mention.state == NEW)
    elif filters.tab == "mine":
        if filters.user_id is None:
            raise ValidationFailed.on("user_id", "is required for the mine tab")
        conditions.append(Mention.assignee_id == filters.user_id)
        conditions.append(Mention.state.in_(sorted(OPEN_STATES)))
    for state in filters.states:
        if state not in STATES:
            raise ValidationFailed.on("state", f"must be one of {', '.join(STATES)}")
    if filters.states:
        conditions.append(Mention.state.in_(list(filters.states)))
    if filters.queue_id is not None:
        conditions.append(Mention.queue_id == filters.queue_id)
    if filters.assignee_id is not None:
        conditions.append(Mention.assignee_id == filters.assignee_id)
    if filters.group_id is not None:
        conditions.append(Mention.assigned_group_id == filters.group_id)
    if filters.classification_id is not None:
        conditions.append(repository.classified_with(filters.classification_id))
    if filters.source_type is not None:
        conditions.append(Mention.source_type == filters.source_type.strip().lower())
    if filters.profile_id is not None:
        conditions.append(Mention.profile_id == filters.profile_id)
    if filters.follow_up is not None:
        conditions.append(Mention.follow_up.is_(filters.follow_up))
    text = (filters.q or "").strip().lower()
    if text:
        conditions.append(
            or_(
                *(
                    func.lower(column).contains(text, autoescape=True)
                    for column in (
                        Mention.body,
                        Mention.author_username,
                        Mention.author_fullname,
                        Mention.author_key,
                    )
                )
            )
        )
    return conditions


def list_mentions(
    session: Session, filters: MentionFilters, *, cursor: str | None, limit: int
) -> MentionPage:
    """Mentions matching the filters, oldest first (published_at, then id)."""
    after: tuple[datetime, str] | None = None
    if cursor:
        published_at, mention_id = decode(cursor, datetime, str)
        after = (published_at, mention_id)
    rows = repository.list_mentions(session, _conditions(filters), after, limit + 1)
    if len(rows) > limit:
        last = rows[limit - 1]
        return MentionPage(rows[:limit], encode(last.published_at, last.id))
    return MentionPage(rows, None)


@dataclass(frozen=True)
class ConversationItem:
    """One message of a conversation: the customer's (a mention) or an agent's (a response)."""

    kind: Literal["customer", "agent"]
    at: datetime
    mention_id: str
    body: str
    author: str | None
    response_id: str | None = None
    author_id: int | None = None
    private: bool = False
    status: str | None = None
    state: str | None = None


def conversation(session: Session, mention: Mention) -> list[ConversationItem]:
    """The customer's messages in the mention's group or case and the responses to them
    (not drafts nor rejected ones), in time order."""
    mentions, responses = repository.conversation_rows(session, mention)
    items = [
        ConversationItem(
            kind="customer",
            at=row.published_at,
            mention_id=row.id,
            body=row.body,
            author=row.author_fullname or row.author_username,
            state=row.state,
        )
        for row in mentions
    ]
    items.extend(
        ConversationItem(
            kind="agent",
            at=row.sent_at or row.submitted_at or row.created_at,
            mention_id=row.mention_id,
            body=row.body,
            author=row.agent_name,
            response_id=row.id,
            author_id=row.author_id,
            private=row.private,
            status=row.status,
        )
        for row in responses
    )
    items.sort(
        key=lambda item: (item.at, item.kind == "agent", item.response_id or item.mention_id)
    )
    return items
