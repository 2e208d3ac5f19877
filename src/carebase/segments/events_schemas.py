"""Event search: the request body and the page it answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from carebase.segments.fields import event_types

MAX_PAGE = 200


class EventSearchIn(BaseModel):
    """Events of one type in the last `window_days`, filtered by `where`, newest first."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(
        min_length=1,
        max_length=100,
        description="The event type.",
        # Documented as an enum; checked by the service, whose 422 names `event`.
        json_schema_extra={"enum": [event.name for event in event_types()]},
    )
    where: dict[str, Any] | None = Field(
        default=None,
        description="An event-field tree (`group`, `not`, `event_field`), as in a segment's "
        "event condition.",
    )
    window_days: int | None = Field(
        default=None,
        ge=1,
        description="How many days back; at most (and by default) CAREBASE_EVENT_WINDOW_DAYS.",
    )
    profile_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Only this profile's events (a merged id: its survivor's).",
    )
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(
        default=None, max_length=512, description="`next_cursor` of the previous page."
    )


class EventOut(BaseModel):
    """One event with the profile it belongs to."""

    event: str
    id: str = Field(description="The ticket_id, or the event's natural key.")
    profile_id: str
    occurred_at: datetime = Field(
        description="When it happened: a ticket's created_at, another event's action_at."
    )
    fields: dict[str, Any] = Field(description="Its searchable fields, named as in `where`.")


class EventPage(BaseModel):
    """A page of events, newest first."""

    items: list[EventOut]
    next_cursor: str | None
