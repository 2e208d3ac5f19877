"""`POST /v1/events/search`: events of the last N days filtered by their fields."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from carebase.auth.scopes import SEGMENTS_READ
from carebase.auth.service import Principal
from carebase.http.deps import DbSession, Now, get_settings, require_scope
from carebase.http.middleware import read_only_post
from carebase.http.routing import JSONRoute
from carebase.segments import events
from carebase.segments.events_schemas import EventPage, EventSearchIn
from carebase.settings import Settings

router = APIRouter(tags=["segments"], route_class=JSONRoute)
# Counting only: no turn of SQLite's single writer, no write transaction.
read_only_post(r"/v1/events/search")
Reader = Annotated[Principal, Depends(require_scope(SEGMENTS_READ))]


@router.post("/v1/events/search", operation_id="searchEvents", response_model=EventPage)
def search_events(
    body: EventSearchIn,
    _reader: Reader,
    session: DbSession,
    now: Now,
    settings: Annotated[Settings, Depends(get_settings)],
) -> EventPage:
    """Events of one type (tickets, purchases, returns, email and SMS events) in the last
    `window_days` (at most CAREBASE_EVENT_WINDOW_DAYS), filtered by a `where` tree over
    their fields, each with its profile; newest first, paginated with `cursor`."""
    return events.search_events(
        session, body, now=now, window_limit_days=settings.event_window_days
    )
