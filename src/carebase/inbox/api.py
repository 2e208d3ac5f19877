"""The workflow API: list and read mentions, claim, assign, unassign, change state, flag for
follow-up, classify, and bulk changes. Writes act on behalf of `user_id` (an active user)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from carebase.auth.scopes import INBOX_READ, INBOX_WRITE
from carebase.auth.service import Principal
from carebase.errors import ValidationFailed
from carebase.http.deps import DbSession, Now, require_scope
from carebase.http.routing import JSONRoute
from carebase.inbox import mentions
from carebase.inbox import mentions_repository as repository
from carebase.inbox.bulk import BulkAction, bulk
from carebase.inbox.mentions import MentionFilters
from carebase.inbox.schemas import (
    ActingUser,
    AssignBody,
    BulkBody,
    BulkOut,
    BulkResultOut,
    ClaimedOut,
    ClassifiedOut,
    ConversationItemOut,
    ConversationOut,
    EventList,
    FollowUpBody,
    MentionDetail,
    MentionOut,
    MentionPageOut,
    StateBody,
    StateName,
)
from carebase.inbox.views import acting_user, event_out, mention_detail, mention_out
from carebase.inbox.workflow import Actor
from carebase.kit.pagination import Cursor

router = APIRouter(prefix="/v1/mentions", tags=["inbox"], route_class=JSONRoute)
Reader = Annotated[Principal, Depends(require_scope(INBOX_READ))]
Writer = Annotated[Principal, Depends(require_scope(INBOX_WRITE))]
MentionId = Annotated[str, Path(min_length=1, max_length=40, description="The mention's id.")]
BigId = Annotated[int | None, Query(ge=1, le=2**63 - 1)]
ClassificationId = Annotated[
    int, Path(ge=1, le=2**63 - 1, description="The classification's numeric id.")
]
_REFUSED: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "The workflow refuses the change (`transition_refused`, the message "
        "says why), or the mention changed since `expected_version` (`stale`)."
    }
}


@router.get("", operation_id="listMentions", response_model=MentionPageOut)
def list_mentions(
    _reader: Reader,
    session: DbSession,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    queue_id: Annotated[str | None, Query(max_length=40)] = None,
    tab: Annotated[
        str | None, Query(pattern="^(new|mine|all)$", description="`mine` needs `user_id`.")
    ] = None,
    state: Annotated[list[StateName] | None, Query(description="Repeat for several.")] = None,
    assignee_id: BigId = None,
    group_id: BigId = None,
    classification_id: BigId = None,
    source_type: Annotated[str | None, Query(max_length=40)] = None,
    profile_id: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in body or author.")] = None,
    user_id: BigId = None,
    follow_up: bool | None = None,
) -> MentionPageOut:
    """Mentions matching every filter given, oldest first."""
    filters = MentionFilters(
        queue_id=queue_id,
        tab=tab,  # type: ignore[arg-type]  # checked by the pattern
        states=tuple(state or ()),
        assignee_id=assignee_id,
        group_id=group_id,
        classification_id=classification_id,
        source_type=source_type,
        profile_id=profile_id,
        q=q,
        user_id=user_id,
        follow_up=follow_up,
    )
    page = mentions.list_mentions(session, filters, cursor=cursor, limit=limit)
    return MentionPageOut(
        items=[mention_out(row) for row in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/bulk",
    operation_id="bulkChangeMentions",
    response_model=BulkOut,
    responses={404: {"description": "No user with this `user_id`."}},
)
def bulk_change(body: BulkBody, _writer: Writer, session: DbSession, now: Now) -> BulkOut:
    """One change to many mentions; each is done or refused on its own (the result says why)."""
    user_id = acting_user(session, body.user_id)
    action = BulkAction(
        kind=body.action,
        state=body.state,
        user_id=body.assignee_id if body.action == "assign" else user_id,
        group_id=body.group_id,
        classification_id=body.classification_id,
        flag=body.follow_up,
    )
    results = bulk(session, body.mention_ids, action, Actor.user(user_id), now)
    out = [
        BulkResultOut(mention_id=item.mention_id, ok=item.ok, code=item.code, reason=item.reason)
        for item in results
    ]
    changed = sum(1 for item in out if item.ok)
    return BulkOut(results=out, changed=changed, refused=len(out) - changed)


@router.get("/{mention_id}", operation_id="getMention", response_model=MentionDetail)
def get_mention(mention_id: MentionId, _reader: Reader, session: DbSession) -> MentionDetail:
    """A mention with its classifications, events and responses."""
    return mention_detail(session, mentions.get_mention(session, mention_id))


@router.get("/{mention_id}/events", operation_id="listMentionEvents", response_model=EventList)
def list_events(mention_id: MentionId, _reader: Reader, session: DbSession) -> EventList:
    """Everything that happened to the mention, oldest first."""
    mentions.get_mention(session, mention_id)
    return EventList(
        items=[event_out(row) for row in repository.mention_events(session, mention_id)]
    )


@router.get(
    "/{mention_id}/conversation",
    operation_id="getMentionConversation",
    response_model=ConversationOut,
)
def get_conversation(mention_id: MentionId, _reader: Reader, session: DbSession) -> ConversationOut:
    """The customer's messages in the mention's group or case and the responses to them."""
    items = mentions.conversation(session, mentions.get_mention(session, mention_id))
    return ConversationOut(
        items=[
            ConversationItemOut(
                kind=item.kind,
                at=item.at,
                mention_id=item.mention_id,
                response_id=item.response_id,
                body=item.body,
                author=item.author,
                author_id=item.author_id,
                private=item.private,
                status=item.status,
                state=item.state,
            )
            for item in items
        ]
    )


@router.post(
    "/{mention_id}/claim",
    operation_id="claimMention",
    response_model=ClaimedOut,
    responses=_REFUSED,
)
def claim(
    mention_id: MentionId, body: ActingUser, _writer: Writer, session: DbSession, now: Now
) -> ClaimedOut:
    """`user_id` takes the mention and the customer's other open messages: the newest stays
    theirs, the others go to closed_thread."""
    user_id = acting_user(session, body.user_id)
    # claim() locks the whole group itself, in one order.
    mention = mentions.get_mention(session, mention_id)
    claimed = mentions.claim(session, mention, user_id, now)
    return ClaimedOut(items=[mention_out(row) for row in claimed])


@router.post(
    "/{mention_id}/assign",
    operation_id="assignMention",
    response_model=MentionOut,
    responses=_REFUSED,
)
def assign(
    mention_id: MentionId, body: AssignBody, _writer: Writer, session: DbSession, now: Now
) -> MentionOut:
    """Assign to `assignee_id`, or to `group_id` (its least-loaded online member)."""
    user_id = acting_user(session, body.user_id)
    if (body.assignee_id is None) == (body.group_id is None):
        raise ValidationFailed.on("assignee_id", "give exactly one of assignee_id or group_id")
    if body.assignee_id is not None:
        acting_user(session, body.assignee_id, field="assignee_id")
    mention = mentions.lock_mention(session, mention_id)
    mentions.assign(
        session,
        mention,
        Actor.user(user_id),
        now,
        user_id=body.assignee_id,
        group_id=body.group_id,
    )
    return mention_out(mention)


@router.post(
    "/{mention_id}/unassign",
    operation_id="unassignMention",
    response_model=MentionOut,
    responses=_REFUSED,
)
def unassign(
    mention_id: MentionId, body: ActingUser, _writer: Writer, session: DbSession, now: Now
) -> MentionOut:
    """Back to New: nobody holds it."""
    user_id = acting_user(session, body.user_id)
    mention = mentions.lock_mention(session, mention_id)
    mentions.unassign(session, mention, Actor.user(user_id), now)
    return mention_out(mention)


@router.post(
    "/{mention_id}/state",
    operation_id="setMentionState",
    response_model=MentionOut,
    responses=_REFUSED,
)
def set_state(
    mention_id: MentionId, body: StateBody, _writer: Writer, session: DbSession, now: Now
) -> MentionOut:
    """Move the mention to `state` if the workflow allows it (409 with the reason if not)."""
    user_id = acting_user(session, body.user_id)
    mention = mentions.lock_mention(session, mention_id)
    mentions.set_state(
        session,
        mention,
        body.state,
        Actor.user(user_id),
        now,
        expected_version=body.expected_version,
    )
    return mention_out(mention)


@router.post(
    "/{mention_id}/follow_up",
    operation_id="setMentionFollowUp",
    response_model=MentionOut,
    responses=_REFUSED,
)
def follow_up(
    mention_id: MentionId, body: FollowUpBody, _writer: Writer, session: DbSession, now: Now
) -> MentionOut:
    """Flag (or unflag) the mention for follow-up."""
    user_id = acting_user(session, body.user_id)
    mention = mentions.lock_mention(session, mention_id)
    mentions.set_follow_up(session, mention, body.follow_up, Actor.user(user_id), now)
    return mention_out(mention)


@router.post(
    "/{mention_id}/classifications/{classification_id}",
    operation_id="classifyMention",
    response_model=ClassifiedOut,
    responses={409: {"description": "The classification is archived."}},
)
def classify(
    mention_id: MentionId,
    classification_id: ClassificationId,
    body: ActingUser,
    _writer: Writer,
    session: DbSession,
    now: Now,
) -> ClassifiedOut:
    """Put a classification on the mention (`changed` false: it was on)."""
    user_id = acting_user(session, body.user_id)
    mention = mentions.lock_mention(session, mention_id)
    changed = mentions.classify(session, mention, classification_id, Actor.user(user_id), now)
    return ClassifiedOut(changed=changed, mention=mention_out(mention))


@router.delete(
    "/{mention_id}/classifications/{classification_id}",
    operation_id="unclassifyMention",
    response_model=ClassifiedOut,
)
def unclassify(
    mention_id: MentionId,
    classification_id: ClassificationId,
    user_id: Annotated[int, Query(ge=1, le=2**63 - 1, description="The user acting.")],
    _writer: Writer,
    session: DbSession,
    now: Now,
) -> ClassifiedOut:
    """Take a classification off the mention (`changed` false: it was not on)."""
    actor = acting_user(session, user_id)
    mention = mentions.lock_mention(session, mention_id)
    changed = mentions.unclassify(session, mention, classification_id, Actor.user(actor), now)
    return ClassifiedOut(changed=changed, mention=mention_out(mention))
