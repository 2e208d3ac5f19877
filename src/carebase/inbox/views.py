"""ORM rows to API shapes for the workflow API (shared by its routers and the console)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from carebase.errors import NotFound, ValidationFailed
from carebase.inbox import mentions_repository as repository
from carebase.inbox.schemas import (
    ActorOut,
    AuthorOut,
    ClassificationOut,
    EventOut,
    MentionDetail,
    MentionOut,
    MentionResponseOut,
    PresenceOut,
)
from carebase.inbox.workflow import LABELS, is_open
from carebase.models import AgentPresence, Classification, Mention, MentionEvent, Response


def acting_user(session: Session, user_id: int, field: str = "user_id") -> int:
    """The id of a user who may act: 404 when there is none, 422 naming `field` when archived."""
    user = repository.active_user(session, user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    if user.archived:
        raise ValidationFailed.on(field, "is an archived user")
    return user.id


def classification_out(row: Classification) -> ClassificationOut:
    """A classification's API shape."""
    return ClassificationOut(
        id=row.id,
        name=row.name,
        description=row.description,
        colour=row.colour,
        archived=row.archived_at is not None,
        archived_at=row.archived_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _fields(row: Mention) -> dict[str, object]:
    return {
        "id": row.id,
        "queue_id": row.queue_id,
        "origin": row.origin,
        "origin_key": row.origin_key,
        "external_id": row.external_id,
        "conversation_ref": row.conversation_ref,
        "source_type": row.source_type,
        "account": row.account,
        "author": AuthorOut(
            key=row.author_key,
            username=row.author_username,
            fullname=row.author_fullname,
            avatar=row.author_avatar,
            url=row.author_url,
        ),
        "profile_id": row.profile_id,
        "body": row.body,
        "redacted": row.redacted_at is not None or row.forgotten,
        "published_at": row.published_at,
        "received_at": row.received_at,
        "thread_key": row.thread_key,
        "group_key": row.group_key,
        "state": row.state,
        "state_label": LABELS.get(row.state, row.state),
        "open": is_open(row.state),
        "state_at": row.state_at,
        "follow_up": row.follow_up,
        "assignee_id": row.assignee_id,
        "assigned_group_id": row.assigned_group_id,
        "assigned_at": row.assigned_at,
        "first_response_at": row.first_response_at,
        "first_responder_id": row.first_responder_id,
        "case_id": row.case_id,
        "sla": row.sla,
        "version": row.version,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def mention_out(row: Mention) -> MentionOut:
    """A mention's API shape."""
    return MentionOut.model_validate(_fields(row))


def event_out(row: MentionEvent) -> EventOut:
    """An event's API shape."""
    return EventOut(
        id=row.id,
        at=row.at,
        kind=row.kind,
        actor=ActorOut(type=row.actor_type, user_id=row.actor_user_id, ref=row.actor_ref),
        from_value=row.from_value,
        to_value=row.to_value,
        detail=row.detail,
    )


def response_out(row: Response) -> MentionResponseOut:
    """A response's API shape (as shown on its mention)."""
    return MentionResponseOut(
        id=row.id,
        author_id=row.author_id,
        agent_name=row.agent_name,
        body=row.body,
        private=row.private,
        status=row.status,
        created_at=row.created_at,
        submitted_at=row.submitted_at,
        sent_at=row.sent_at,
    )


def mention_detail(session: Session, row: Mention) -> MentionDetail:
    """A mention with its classifications, events and responses."""
    return MentionDetail.model_validate(
        {
            **_fields(row),
            "classifications": [
                classification_out(item)
                for item in repository.mention_classifications(session, row.id)
            ],
            "events": [event_out(item) for item in repository.mention_events(session, row.id)],
            "responses": [
                response_out(item) for item in repository.mention_responses(session, row.id)
            ],
        }
    )


def presence_out(user_id: int, row: AgentPresence | None) -> PresenceOut:
    """An agent's presence (offline with the default capacity before their first heartbeat)."""
    if row is None:
        return PresenceOut(
            user_id=user_id, online=False, last_seen_at=None, changed_at=None, capacity=10
        )
    return PresenceOut(
        user_id=user_id,
        online=row.online,
        last_seen_at=row.last_seen_at,
        changed_at=row.changed_at,
        capacity=row.capacity,
    )
