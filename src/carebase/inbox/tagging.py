"""Flags and labels on a mention: the follow-up flag and classifications (each change an
event). The caller holds the mention's lock (mentions.lock_mention)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from carebase.errors import ClassificationArchived, NotFound, TransitionRefused
from carebase.inbox import events
from carebase.inbox import mentions_repository as repository
from carebase.inbox.workflow import CLOSED_STATES, Actor
from carebase.models import Mention, MentionClassification


def touch(mention: Mention, now: datetime) -> None:
    """A change: bump the mention's version (the optimistic guard) and updated_at."""
    mention.version += 1
    mention.updated_at = now


def set_follow_up(
    session: Session, mention: Mention, flag: bool, actor: Actor, now: datetime
) -> None:
    """Flag (or unflag) the mention for follow-up; closed mentions cannot be flagged."""
    if flag and mention.state in CLOSED_STATES:
        raise TransitionRefused(
            f"the mention is {mention.state.replace('_', ' ')}: re-open it before flagging it"
        )
    if mention.follow_up == flag:
        return
    events.record(
        session,
        mention.id,
        "follow_up",
        actor,
        now,
        from_value=str(mention.follow_up).lower(),
        to_value=str(flag).lower(),
    )
    mention.follow_up = flag
    touch(mention, now)
    session.flush()


def classify(
    session: Session, mention: Mention, classification_id: int, actor: Actor, now: datetime
) -> bool:
    """Put a classification on the mention; False when it is on already. NotFound for an
    unknown one, ClassificationArchived for an archived one."""
    classification = repository.get_classification(session, classification_id)
    if classification is None:
        raise NotFound(f"No classification with id {classification_id}.")
    if repository.has_classification(session, mention.id, classification_id):
        return False
    if classification.archived_at is not None:
        raise ClassificationArchived()
    repository.add_classification(
        session,
        MentionClassification(
            mention_id=mention.id,
            classification_id=classification_id,
            applied_by_type=actor.type,
            applied_by_user_id=actor.user_id,
            applied_by_rule_id=actor.ref if actor.type == "rule" else None,
            applied_at=now,
        ),
    )
    events.record(
        session,
        mention.id,
        "classify",
        actor,
        now,
        to_value=str(classification_id),
        detail={"classification_id": classification_id},
    )
    touch(mention, now)
    session.flush()
    return True


def unclassify(
    session: Session, mention: Mention, classification_id: int, actor: Actor, now: datetime
) -> bool:
    """Take a classification off the mention; False when it was not on."""
    if not repository.remove_classification(session, mention.id, classification_id):
        return False
    events.record(
        session,
        mention.id,
        "unclassify",
        actor,
        now,
        from_value=str(classification_id),
        detail={"classification_id": classification_id},
    )
    touch(mention, now)
    session.flush()
    return True
