"""What intake calls in the workflow (mentions, presence) and SLA/cases modules: one place,
so intake's own code reads as the steps it takes."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.errors import CarebaseError
from carebase.inbox import cases, mentions, presence, sla
from carebase.inbox.workflow import Actor, refusal
from carebase.models import Mention

log = logging.getLogger(__name__)


def may_move(current: str, target: str) -> bool:
    """Whether a rule may move a mention from `current` to `target`."""
    return refusal(current, target, "rule") is None


def sla_snapshot(session: Session, queue_id: str, now: datetime) -> dict[str, Any]:
    """The SLA a new mention of the queue is measured against."""
    return sla.snapshot_for_queue(session, queue_id, now)


def set_state(session: Session, mention: Mention, target: str, actor: Actor, now: datetime) -> None:
    """Move a mention to `target` through the workflow."""
    mentions.set_state(session, mention, target, actor, now)


def rule_action(
    session: Session, mention: Mention, rule_id: str, action: str, work: Any, *args: Any
) -> bool:
    """Run one rule action in a savepoint: an action that became impossible since the rule
    was saved (an archived classification, user or group) is skipped, never failing the
    message's arrival. True when it ran."""
    try:
        with session.begin_nested():
            work(*args)
    except CarebaseError as error:
        # Ids and the error code only: no message text in logs.
        log.warning(
            "rule %s: %s skipped on mention %s (%s)", rule_id, action, mention.id, error.code
        )
        session.refresh(mention)
        return False
    return True


def classify(
    session: Session, mention: Mention, classification_id: int, actor: Actor, now: datetime
) -> None:
    """Put a classification on a mention."""
    mentions.classify(session, mention, classification_id, actor, now)


def assign(
    session: Session,
    mention: Mention,
    actor: Actor,
    now: datetime,
    *,
    user_id: int | None,
    group_id: int | None,
) -> None:
    """Assign a mention to a user, or to a group by capacity."""
    mentions.assign(session, mention, actor, now, user_id=user_id, group_id=group_id)


def case_key(mention: Mention) -> str:
    """The customer key a mention's case is kept under."""
    return cases.case_key(mention)


def keys_with_open_cases(session: Session, keys: set[str]) -> set[str]:
    """Which customer keys have an open case (the keys locked for this transaction)."""
    return cases.keys_with_open_cases(session, keys)


def on_customer_mention(session: Session, mention: Mention, now: datetime) -> None:
    """Let cases know a customer wrote (joins or re-opens a case)."""
    cases.on_customer_mention(session, mention, now)


def route_customer_reply(session: Session, mention: Mention, now: datetime) -> None:
    """Route a customer's reply to the agent who answered them last, when online."""
    presence.route_customer_reply(session, mention, now)
