"""Readers for the workflow tests: a mention as stored and its events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from carebase.db.session import Database
from carebase.models import Classification, Mention, MentionEvent
from tests.conftest import FakeClock


def stored(database: Database, mention_id: str) -> Mention:
    """The mention as committed."""
    with database.unit_of_work(write=False) as session:
        row = session.get(Mention, mention_id)
        assert row is not None
        session.expunge(row)
        return row


def event_log(database: Database, mention_id: str) -> list[tuple[Any, ...]]:
    """(kind, actor type, actor ref, from, to) of each event, oldest first."""
    with database.unit_of_work(write=False) as session:
        rows = session.scalars(
            select(MentionEvent)
            .where(MentionEvent.mention_id == mention_id)
            .order_by(MentionEvent.at, MentionEvent.id)
        )
        return [(r.kind, r.actor_type, r.actor_ref, r.from_value, r.to_value) for r in rows]


def label(database: Database, name: str, *, archived: bool = False) -> int:
    """A classification's id (archived when asked)."""
    now = FakeClock().now
    with database.unit_of_work() as session:
        row = Classification(
            name=name,
            description="",
            colour="#336699",
            archived_at=now if archived else None,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        return row.id
