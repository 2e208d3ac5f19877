"""Request and response shapes of the workflow API: mentions, their events, classifications,
bulk changes and presence."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from carebase.inbox.workflow import STATES

UserIdField = Field(
    ge=1, le=2**63 - 1, description="The user acting: an active (not archived) user's id."
)
StateName = Literal[
    "new",
    "assigned",
    "in_progress",
    "responded",
    "awaiting_approval",
    "redirected",
    "irrelevant",
    "duplicate",
    "closed",
    "no_response_required",
    "closed_thread",
]
assert set(get_args(StateName)) == set(STATES)


class ClassificationOut(BaseModel):
    """A classification."""

    id: int
    name: str
    description: str
    colour: str = Field(description="`#rrggbb`.")
    archived: bool
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ClassificationCreate(BaseModel):
    """A new classification."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    colour: str = Field(pattern=r"^#[0-9a-fA-F]{6}$", description="`#rrggbb`.")


class ClassificationUpdate(BaseModel):
    """Changes to a classification; fields left out stay."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    colour: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$")


class AuthorOut(BaseModel):
    """Who wrote a mention, as its network knows them."""

    key: str | None
    username: str | None
    fullname: str | None
    avatar: str | None
    url: str | None


class MentionOut(BaseModel):
    """A mention: an inbound customer message and where it is in the workflow."""

    id: str
    queue_id: str
    origin: str
    origin_key: str
    external_id: str
    conversation_ref: str | None
    source_type: str
    account: str | None
    author: AuthorOut
    profile_id: str | None
    body: str
    redacted: bool
    published_at: datetime
    received_at: datetime
    thread_key: str | None
    group_key: str
    state: str
    state_label: str
    open: bool
    state_at: datetime
    follow_up: bool
    assignee_id: int | None
    assigned_group_id: int | None
    assigned_at: datetime | None
    first_response_at: datetime | None
    first_responder_id: int | None
    case_id: str | None
    sla: dict[str, Any]
    version: int = Field(description="Pass as `expected_version` to refuse a stale change.")
    created_at: datetime
    updated_at: datetime


class MentionPageOut(BaseModel):
    """A page of mentions, oldest first."""

    items: list[MentionOut]
    next_cursor: str | None


class ActorOut(BaseModel):
    """Who made a change."""

    type: str
    user_id: int | None
    ref: str | None


class EventOut(BaseModel):
    """One thing that happened to a mention."""

    id: int
    at: datetime
    kind: str
    actor: ActorOut
    from_value: str | None
    to_value: str | None
    detail: dict[str, Any] | None


class MentionResponseOut(BaseModel):
    """A response (or private note) to a mention."""

    id: str
    author_id: int | None
    agent_name: str | None
    body: str
    private: bool
    status: str
    created_at: datetime
    submitted_at: datetime | None
    sent_at: datetime | None


class MentionDetail(MentionOut):
    """A mention with its classifications, events and responses."""

    classifications: list[ClassificationOut]
    events: list[EventOut]
    responses: list[MentionResponseOut]


class EventList(BaseModel):
    """A mention's events, oldest first."""

    items: list[EventOut]


class ActingUser(BaseModel):
    """The user acting (an API token has no user of its own)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    user_id: int = UserIdField


class AssignBody(ActingUser):
    """Assign to one user, or to a group (by capacity)."""

    assignee_id: int | None = Field(None, ge=1, le=2**63 - 1)
    group_id: int | None = Field(None, ge=1, le=2**63 - 1)


class StateBody(ActingUser):
    """Move a mention to a state."""

    state: StateName
    expected_version: int | None = Field(
        None,
        ge=1,
        le=2**31 - 1,
        description="Refuse (409 stale) unless the mention is this version.",
    )


class FollowUpBody(ActingUser):
    """Flag or unflag for follow-up."""

    follow_up: bool


class ClaimedOut(BaseModel):
    """The mentions a claim took (the customer's group): newest first."""

    items: list[MentionOut]


class ClassifiedOut(BaseModel):
    """Whether the change did something (False: it was so already)."""

    changed: bool
    mention: MentionOut


BulkKind = Literal["state", "assign", "unassign", "claim", "classify", "unclassify", "follow_up"]


class BulkBody(ActingUser):
    """One change to many mentions."""

    mention_ids: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        min_length=1, max_length=500
    )
    action: BulkKind
    state: StateName | None = None
    assignee_id: int | None = Field(None, ge=1, le=2**63 - 1)
    group_id: int | None = Field(None, ge=1, le=2**63 - 1)
    classification_id: int | None = Field(None, ge=1, le=2**63 - 1)
    follow_up: bool | None = None


class BulkResultOut(BaseModel):
    """What happened to one mention."""

    mention_id: str
    ok: bool
    code: str | None = Field(description="The error code when refused (transition_refused…).")
    reason: str | None = Field(description="Why it was refused.")


class BulkOut(BaseModel):
    """Each mention's outcome, in the order asked."""

    results: list[BulkResultOut]
    changed: int
    refused: int


class PresenceOut(BaseModel):
    """An agent's presence."""

    user_id: int
    online: bool
    last_seen_at: datetime | None
    changed_at: datetime | None
    capacity: int


class PresenceUpdate(BaseModel):
    """Go online (a heartbeat) or offline; optionally set capacity."""

    model_config = ConfigDict(extra="forbid", strict=True)

    online: bool
    capacity: int | None = Field(None, ge=0, le=1000)


class PresenceChanged(PresenceOut):
    """Presence after a change, and the mentions going offline handed back to New."""

    returned_mention_ids: list[str]


class ConversationItemOut(BaseModel):
    """One message of a conversation: the customer's (`customer`) or an agent's (`agent`)."""

    kind: Literal["customer", "agent"]
    at: datetime
    mention_id: str
    response_id: str | None
    body: str
    author: str | None
    author_id: int | None
    private: bool
    status: str | None = Field(description="An agent message's status (sent, sending…).")
    state: str | None = Field(description="A customer message's workflow state.")


class ConversationOut(BaseModel):
    """The customer's messages in the mention's group or case and the answers, in time order."""

    items: list[ConversationItemOut]
