"""Bulk changes: one action (a state, an assignment, a claim, a classification, a follow-up
flag) applied to many mentions, each in its own savepoint, so one refused or unknown id never
blocks the others."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from carebase.errors import CarebaseError, ValidationFailed
from carebase.inbox import mentions, tagging
from carebase.inbox.workflow import Actor
from carebase.models import Mention

BulkKind = Literal["state", "assign", "unassign", "claim", "classify", "unclassify", "follow_up"]


@dataclass(frozen=True)
class BulkAction:
    """One change applied to many mentions."""

    kind: BulkKind
    state: str | None = None
    user_id: int | None = None
    group_id: int | None = None
    classification_id: int | None = None
    flag: bool | None = None


@dataclass(frozen=True)
class BulkResult:
    """What happened to one mention of a bulk change: ok, or why not."""

    mention_id: str
    ok: bool
    reason: str | None = None
    code: str | None = None


def _apply(
    session: Session, mention: Mention, action: BulkAction, actor: Actor, now: datetime
) -> None:
    if action.kind == "state":
        mentions.set_state(session, mention, action.state or "", actor, now)
    elif action.kind == "assign":
        mentions.assign(
            session, mention, actor, now, user_id=action.user_id, group_id=action.group_id
        )
    elif action.kind == "unassign":
        mentions.unassign(session, mention, actor, now)
    elif action.kind == "claim":
        if actor.user_id is None:
            raise ValidationFailed.on("user_id", "a claim is made by a user")
        mentions.claim(session, mention, actor.user_id, now)
    elif action.kind in ("classify", "unclassify"):
        if action.classification_id is None:
            raise ValidationFailed.on("classification_id", "is required for this action")
        change = tagging.classify if action.kind == "classify" else tagging.unclassify
        change(session, mention, action.classification_id, actor, now)
    else:
        tagging.set_follow_up(session, mention, bool(action.flag), actor, now)


def _reason(error: CarebaseError) -> str:
    if isinstance(error, ValidationFailed) and isinstance(error.details, list):
        return "; ".join(f"{item['field']} {item['reason']}" for item in error.details)
    return error.message


def bulk(
    session: Session, mention_ids: Sequence[str], action: BulkAction, actor: Actor, now: datetime
) -> list[BulkResult]:
    """Apply one action to each mention, each in its own savepoint: one refused (or unknown)
    id never blocks the others. Mentions are handled in id order (one lock order)."""
    results: dict[str, BulkResult] = {}
    for mention_id in sorted(set(mention_ids)):
        try:
            with session.begin_nested():
                mention = mentions.lock_mention(session, mention_id)
                _apply(session, mention, action, actor, now)
            results[mention_id] = BulkResult(mention_id, True)
        except CarebaseError as error:
            results[mention_id] = BulkResult(mention_id, False, _reason(error), error.code)
    # Answer in the order asked.
    seen: dict[str, BulkResult] = {}
    for mention_id in mention_ids:
        seen.setdefault(mention_id, results[mention_id])
    return list(seen.values())
