"""The notes API: a profile's notes, and writing them on behalf of a user."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from carebase.auth.scopes import NOTES_WRITE, PROFILES_READ
from carebase.auth.service import Principal
from carebase.http.deps import DbSession, Now, require_scope
from carebase.http.routing import JSONRoute
from carebase.kit.pagination import Cursor
from carebase.notes import service
from carebase.notes.schemas import AuthorOut, NoteOut, NotePage, NoteWrite

router = APIRouter(prefix="/v1/profiles/{profile_id}/notes", tags=["notes"], route_class=JSONRoute)
Reader = Annotated[Principal, Depends(require_scope(PROFILES_READ))]
Writer = Annotated[Principal, Depends(require_scope(NOTES_WRITE))]
AuthorId = Annotated[
    int,
    Query(ge=1, le=2**63 - 1, description="The user acting: only a note's author may change it."),
]
_WRITES: dict[int | str, dict[str, Any]] = {
    403: {"description": "`author_id` did not write this note (`not_author`)."}
}


def note_out(note: dict[str, Any]) -> NoteOut:
    """The API shape of a note row."""
    return NoteOut(
        id=note["id"],
        profile_id=note["profile_id"],
        author=AuthorOut(
            id=note["author_id"],
            first_name=note["author_first_name"],
            last_name=note["author_last_name"],
            email=note["author_email"],
        ),
        body=note["body"],
        created_at=note["created_at"],
        updated_at=note["updated_at"],
        edited=note["updated_at"] != note["created_at"],
        deleted_at=note["deleted_at"],
    )


@router.get("", operation_id="listProfileNotes", response_model=NotePage)
def list_notes(
    profile_id: str,
    _reader: Reader,
    session: DbSession,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> NotePage:
    """The profile's notes, newest first (a merged id: its survivor's)."""
    rows, following = service.list_notes(session, profile_id, cursor=cursor, limit=limit)
    return NotePage(items=[note_out(row) for row in rows], next_cursor=following)


@router.post("", status_code=201, operation_id="createProfileNote", response_model=NoteOut)
def create_note(
    profile_id: str, note: NoteWrite, _writer: Writer, session: DbSession, now: Now
) -> NoteOut:
    """Write a note on the profile as `author_id`."""
    row = service.write(session, profile_id, author_id=note.author_id, body=note.body, now=now)
    return note_out(row)


@router.patch(
    "/{note_id}", operation_id="editProfileNote", response_model=NoteOut, responses=_WRITES
)
def edit_note(
    profile_id: str, note_id: str, note: NoteWrite, _writer: Writer, session: DbSession, now: Now
) -> NoteOut:
    """Change a note's text; `author_id` must be its author."""
    row = service.edit(
        session, profile_id, note_id, author_id=note.author_id, body=note.body, now=now
    )
    return note_out(row)


@router.delete(
    "/{note_id}", operation_id="deleteProfileNote", response_model=NoteOut, responses=_WRITES
)
def delete_note(
    profile_id: str,
    note_id: str,
    author_id: AuthorId,
    _writer: Writer,
    session: DbSession,
    now: Now,
) -> NoteOut:
    """Delete a note; it can be restored for a day. `author_id` must be its author."""
    return note_out(service.delete(session, profile_id, note_id, author_id=author_id, now=now))


@router.post(
    "/{note_id}/restore",
    operation_id="restoreProfileNote",
    response_model=NoteOut,
    responses=_WRITES,
)
def restore_note(
    profile_id: str,
    note_id: str,
    author_id: AuthorId,
    _writer: Writer,
    session: DbSession,
    now: Now,
) -> NoteOut:
    """Bring back a note deleted less than a day ago. `author_id` must be its author."""
    return note_out(service.restore(session, profile_id, note_id, author_id=author_id, now=now))
