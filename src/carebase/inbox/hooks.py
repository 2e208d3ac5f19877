"""What intake calls in the workflow (inbox-workflow) and SLA/cases (inbox-sla) modules.

Those modules are built in parallel: until they are present, the minimal behaviour below
stands in (state and event writes only), so intake works and is testable on its own."""

from __future__ import annotations

import contextlib
import importlib
from datetime import datetime
from types import ModuleType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebase.errors import ClassificationArchived
from carebase.inbox import events
from carebase.inbox.workflow import ASSIGNED, NEW, Actor, refusal
from carebase.models import Classification, Mention, MentionClassification

DEFAULT_SLA: dict[str, Any] = {
    "id": None,
    "name": "Default",
    "customer_sla_seconds": 7200,
    "agent_sla_seconds": 7200,
    "business_hours": None,
}


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"carebase.inbox.{name}")
    except ModuleNotFoundError:
        return None


def _function(module: str, name: str) -> Any:
    found = _module(module)
    return getattr(found, name, None) if found is not None else None


def may_move(current: str, target: str) -> bool:
    """Whether a rule may move a mention from `current` to `target`."""
    return refusal(current, target, "rule") is None


def sla_snapshot(session: Session, queue_id: str) -> dict[str, Any]:
    """The SLA a new mention of the queue is measured against."""
    snapshot = _function("sla", "snapshot_for_queue")
    if snapshot is None:
        return dict(DEFAULT_SLA)
    return dict(snapshot(session, queue_id))


def set_state(session: Session, mention: Mention, target: str, actor: Actor, now: datetime) -> None:
    """Move a mention to `target` through the workflow."""
    real = _function("mentions", "set_state")
    if real is not None:
        real(session, mention, target, actor, now)
        return
    previous = mention.state
    mention.state, mention.state_at = target, now
    mention.version += 1
    mention.updated_at = now
    if target == NEW:
        mention.assignee_id = None
    session.flush()
    events.record(session, mention.id, "state", actor, now, from_value=previous, to_value=target)


def classify(
    session: Session, mention: Mention, classification_id: int, actor: Actor, now: datetime
) -> None:
    """Put a classification on a mention; an archived or deleted one is skipped."""
    real = _function("mentions", "classify")
    if real is not None:
        # Archived since the rule was saved: the rule's other actions still run.
        with contextlib.suppress(ClassificationArchived):
            real(session, mention, classification_id, actor, now)
        return
    found = session.get(Classification, classification_id)
    if found is None or found.archived_at is not None:
        return
    already = session.scalars(
        select(MentionClassification).where(
            MentionClassification.mention_id == mention.id,
            MentionClassification.classification_id == classification_id,
        )
    ).first()
    if already is not None:
        return
    session.add(
        MentionClassification(
            mention_id=mention.id,
            classification_id=classification_id,
            applied_by_type=actor.type,
            applied_by_user_id=actor.user_id,
            applied_by_rule_id=actor.ref if actor.type == "rule" else None,
            applied_at=now,
        )
    )
    session.flush()
    events.record(
        session, mention.id, "classify", actor, now, detail={"classification_id": classification_id}
    )


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
    real = _function("mentions", "assign")
    if real is not None:
        real(session, mention, actor, now, user_id=user_id, group_id=group_id)
        return
    if user_id is not None:
        mention.assignee_id = user_id
        mention.assigned_at = mention.assigned_at or now
        events.record(session, mention.id, "assign", actor, now, to_value=str(user_id))
        if mention.state == NEW:
            set_state(session, mention, ASSIGNED, actor, now)
    elif group_id is not None:
        mention.assigned_group_id = group_id
        events.record(session, mention.id, "assign", actor, now, detail={"group_id": group_id})
    session.flush()


def on_customer_mention(session: Session, mention: Mention, now: datetime) -> None:
    """Let cases know a customer wrote (joins or re-opens a case)."""
    real = _function("cases", "on_customer_mention")
    if real is not None:
        real(session, mention, now)


def route_customer_reply(session: Session, mention: Mention, now: datetime) -> None:
    """Route a customer's reply to the agent who answered them last, when online."""
    real = _function("presence", "route_customer_reply")
    if real is not None:
        real(session, mention, now)
