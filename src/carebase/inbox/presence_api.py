"""Agents' presence over HTTP: read it (`inbox:read`), go online (a heartbeat) or offline,
and set capacity (`inbox:write`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from carebase.auth.scopes import INBOX_READ, INBOX_WRITE
from carebase.auth.service import Principal
from carebase.http.deps import DbSession, Now, require_scope
from carebase.http.routing import JSONRoute
from carebase.inbox import presence
from carebase.inbox.schemas import PresenceChanged, PresenceOut, PresenceUpdate
from carebase.inbox.views import acting_user, presence_out

router = APIRouter(prefix="/v1/presence", tags=["inbox"], route_class=JSONRoute)
Reader = Annotated[Principal, Depends(require_scope(INBOX_READ))]
Writer = Annotated[Principal, Depends(require_scope(INBOX_WRITE))]
UserId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The agent's user id.")]


@router.get("/{user_id}", operation_id="getPresence", response_model=PresenceOut)
def get_presence(user_id: UserId, _reader: Reader, session: DbSession) -> PresenceOut:
    """Whether the agent is online, when last seen, and their capacity."""
    return presence_out(user_id, presence.describe(session, user_id))


@router.put("/{user_id}", operation_id="setPresence", response_model=PresenceChanged)
def set_presence(
    user_id: UserId, body: PresenceUpdate, _writer: Writer, session: DbSession, now: Now
) -> PresenceChanged:
    """Online (a heartbeat: seen now) or offline (claimed work not started goes back to New)."""
    acting_user(session, user_id)
    returned: list[str] = []
    if body.capacity is not None:
        presence.set_capacity(session, user_id, body.capacity, now)
    if body.online:
        presence.heartbeat(session, user_id, now)
    else:
        returned = presence.go_offline(session, user_id, now, reason="manual")
    out = presence_out(user_id, presence.describe(session, user_id))
    return PresenceChanged(**out.model_dump(), returned_mention_ids=returned)
