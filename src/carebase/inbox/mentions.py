"""TEMPORARY stand-in for A's inbox/mentions.py (branch inbox-workflow), with the contract's
signatures, so the replies can be built and tested before it lands. Replaced by A's module
on merge (take theirs)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebase.errors import NotFound, TransitionRefused
from carebase.inbox import events
from carebase.inbox.workflow import RESPONDED, Actor, refusal
from carebase.models import Mention, Response


def get_mention(session: Session, mention_id: str) -> Mention:
    """One mention, or NotFound."""
    mention = session.get(Mention, mention_id)
    if mention is None:
        raise NotFound(f"No mention with id {mention_id!r}.")
    return mention


def lock_mention(session: Session, mention_id: str) -> Mention:
    """One mention, locked."""
    mention = session.scalars(
        select(Mention)
        .where(Mention.id == mention_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if mention is None:
        raise NotFound(f"No mention with id {mention_id!r}.")
    return mention


def set_state(
    session: Session,
    mention: Mention,
    target: str,
    actor: Actor,
    now: datetime,
    *,
    expected_version: int | None = None,
) -> None:
    """Move a mention to `target`."""
    reason = refusal(mention.state, target, actor.type)
    if reason is not None:
        raise TransitionRefused(reason)
    events.record(
        session, mention.id, "state", actor, now, from_value=mention.state, to_value=target
    )
    mention.state = target
    mention.state_at = now
    mention.version += 1
    mention.updated_at = now
    session.flush()


def mark_responded(
    session: Session, mention: Mention, response: Response, actor: Actor, now: datetime
) -> None:
    """A sent public response."""
    if mention.first_response_at is None:
        mention.first_response_at = now
        mention.first_responder_id = response.author_id
    if refusal(mention.state, RESPONDED, actor.type) is None:
        set_state(session, mention, RESPONDED, actor, now)
    events.record(
        session,
        mention.id,
        "response",
        actor,
        now,
        detail={"response_id": response.id, "case_id": response.case_id},
    )
    session.flush()
