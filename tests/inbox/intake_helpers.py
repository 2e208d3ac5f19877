"""Helpers for intake tests: messages to receive, and reading mentions back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from carebase.db.session import Database
from carebase.inbox.intake import MentionIn
from carebase.models import Mention, MentionEvent

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def message(external_id: str = "m1", **fields: Any) -> MentionIn:
    """An API-origin message with sensible defaults."""
    values: dict[str, Any] = {
        "origin": "api",
        "origin_key": "ds_test",
        "external_id": external_id,
        "source_type": "twitter",
        "body": "Where is my order?",
        "published_at": T0,
        "author_key": "twitter_219",
        "author_username": "@kim",
        "author_fullname": "Kim Lee",
    }
    values.update(fields)
    return MentionIn(**values)


def mention(database: Database, mention_id: str) -> Mention:
    """A mention, detached from its session."""
    with database.unit_of_work() as session:
        row = session.get(Mention, mention_id)
        assert row is not None
        session.expunge(row)
        return row


def events_of(database: Database, mention_id: str) -> list[tuple[str, str, str | None, str | None]]:
    """(kind, actor_type, actor_ref, to_value) of a mention's events, in order."""
    with database.unit_of_work() as session:
        rows = session.execute(
            select(
                MentionEvent.kind,
                MentionEvent.actor_type,
                MentionEvent.actor_ref,
                MentionEvent.to_value,
            )
            .where(MentionEvent.mention_id == mention_id)
            .order_by(MentionEvent.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]
