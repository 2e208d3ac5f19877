"""The append-only log of what happens to mentions: every state change, assignment,
classification, response and redaction is one row, so time-in-state and every report can be
recomputed from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from carebase.inbox.workflow import Actor
from carebase.models import MentionEvent

KINDS = frozenset(
    {
        "received",
        "state",
        "assign",
        "unassign",
        "classify",
        "unclassify",
        "response",
        "redact",
        "follow_up",
        "case",
    }
)

_INSERT = insert(cast(Table, MentionEvent.__table__))


def record(
    session: Session,
    mention_id: str,
    kind: str,
    actor: Actor,
    at: datetime,
    *,
    from_value: str | None = None,
    to_value: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one event. `detail` holds ids only, never message text."""
    if kind not in KINDS:
        raise ValueError(f"unknown mention event kind {kind!r}")
    # One statement object for every event, its parameters passed apart: building
    # `insert().values(...)` per event made SQLAlchemy compute a new cache key each time,
    # most of the cost of logging one.
    session.execute(
        _INSERT,
        {
            "mention_id": mention_id,
            "at": at,
            "kind": kind,
            "actor_type": actor.type,
            "actor_user_id": actor.user_id,
            "actor_ref": actor.ref,
            "from_value": from_value,
            "to_value": to_value,
            "detail": detail,
        },
    )
