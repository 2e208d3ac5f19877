"""Request and response shapes of the notes API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

MAX_BODY = 5000


class NoteWrite(BaseModel):
    """A note's text, and the user writing it (an API token has no user of its own)."""

    model_config = ConfigDict(extra="forbid")

    # Bounded like every user id: a larger number is a 422 naming the field, not an
    # overflow in the database driver.
    author_id: int = Field(
        ge=1, le=2**63 - 1, description="The user writing the note: an active user's id."
    )
    body: str = Field(min_length=1, max_length=MAX_BODY, description="Plain text.")


class AuthorOut(BaseModel):
    """Who wrote a note."""

    id: int
    first_name: str
    last_name: str
    email: str


class NoteOut(BaseModel):
    """A note on a profile."""

    id: str
    profile_id: str
    author: AuthorOut
    body: str
    created_at: datetime
    updated_at: datetime
    edited: bool = Field(description="Changed since it was written.")
    deleted_at: datetime | None = Field(
        None, description="When it was deleted; it can be restored for a day after."
    )


class NotePage(BaseModel):
    """A page of a profile's notes, newest first."""

    items: list[NoteOut]
    next_cursor: str | None
