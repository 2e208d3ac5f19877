"""Notes agents leave on a profile: written, edited and deleted by their author only, read
with the profile by everyone who may read it. They follow the profile through merges and go
with it when it is forgotten (`identity/owned.py`); a deleted note can be restored for a day
(the console's Undo), then it is purged."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from carebase.errors import Forbidden, NotFound, ValidationFailed
from carebase.identity import service as identity
from carebase.ids import new_id
from carebase.kit import pagination
from carebase.notes import repository
from carebase.notes.schemas import MAX_BODY

UNDO_WINDOW = timedelta(days=1)


class NotAuthor(Forbidden):
    """Only a note's author may change it."""

    code = "not_author"
    default_message = "Only the note's author may change it."


def clean_body(body: str) -> str:
    """A note's text as stored, or a 422 naming `body`: trimmed, 1 to 5,000 characters, no
    NUL (PostgreSQL cannot store it)."""
    text = body.strip()
    if not text:
        raise ValidationFailed.on("body", "must not be empty")
    if len(text) > MAX_BODY:
        raise ValidationFailed.on("body", f"must be at most {MAX_BODY} characters")
    if "\x00" in text:
        raise ValidationFailed.on("body", "contains a NUL character")
    return text


def live_profile(session: Session, profile_id: str) -> str:
    """The live profile an id names (a merged id: its survivor), or NotFound."""
    live = identity.live_profile_id(session, profile_id)
    if live is None:
        raise NotFound("No such profile.")
    return live


def list_notes(
    session: Session, profile_id: str, *, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the profile's notes, newest first, and the cursor of the next page."""
    live = live_profile(session, profile_id)
    after = pagination.decode(cursor, datetime, str) if cursor else None
    rows = repository.page(session, live, after=after, limit=limit + 1)
    return pagination.split(
        rows, limit, lambda row: pagination.encode(row["created_at"], row["id"])
    )


def write(
    session: Session, profile_id: str, *, author_id: int, body: str, now: datetime
) -> dict[str, Any]:
    """A new note on the profile by `author_id` (an active user)."""
    live = live_profile(session, profile_id)
    if not repository.active_user(session, author_id):
        raise ValidationFailed.on("author_id", "is not an active user")
    note_id = new_id("note")
    repository.add(
        session,
        {
            "id": note_id,
            "profile_id": live,
            "author_id": author_id,
            "body": clean_body(body),
            "created_at": now,
            "updated_at": now,
        },
    )
    return _get(session, note_id)


def edit(
    session: Session, profile_id: str, note_id: str, *, author_id: int, body: str, now: datetime
) -> dict[str, Any]:
    """Change a note's text; its author only."""
    _own(session, profile_id, note_id, author_id)
    repository.set_fields(session, note_id, body=clean_body(body), updated_at=now)
    return _get(session, note_id)


def delete(
    session: Session, profile_id: str, note_id: str, *, author_id: int, now: datetime
) -> dict[str, Any]:
    """Delete a note (restorable for a day); its author only. Notes deleted longer ago on
    the same profile are purged now."""
    note = _own(session, profile_id, note_id, author_id)
    repository.set_fields(session, note_id, deleted_at=now)
    repository.purge_deleted(session, note["profile_id"], now - UNDO_WINDOW)
    return _get(session, note_id)


def restore(
    session: Session, profile_id: str, note_id: str, *, author_id: int, now: datetime
) -> dict[str, Any]:
    """Bring back a note deleted less than a day ago; its author only."""
    note = _own(session, profile_id, note_id, author_id, deleted=True)
    if note["deleted_at"] is None:
        return note
    if now - note["deleted_at"] > UNDO_WINDOW:
        raise NotFound("No such note.")
    repository.set_fields(session, note_id, deleted_at=None)
    return _get(session, note_id)


def _get(session: Session, note_id: str) -> dict[str, Any]:
    note = repository.get(session, note_id)
    assert note is not None
    return note


def _own(
    session: Session, profile_id: str, note_id: str, author_id: int, *, deleted: bool = False
) -> dict[str, Any]:
    """The note, when it is on that profile (or its survivor) and `author_id` wrote it."""
    live = live_profile(session, profile_id)
    note = repository.get(session, note_id)
    if note is None or note["profile_id"] != live or (note["deleted_at"] and not deleted):
        raise NotFound("No such note.")
    if note["author_id"] != author_id:
        raise NotAuthor()
    return note
