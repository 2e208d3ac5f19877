"""Replies to mentions and private notes on them: drafted by an agent, submitted, approved or
rejected by a manager where the author's group requires it, then sent by the
`inbox_reply_send` job (inbox/reply_jobs.py).

Lock order, on every path: the mention, then the response. Two submits (or approvals) of one
response racing each other serialise on those locks; the second sees the first's status and
is refused (409), so a reply is queued for sending once.

Who approves: a manager (users.role == 'manager') who is not the reply's author. A manager's
own replies never wait for approval, whatever their groups, so no one ever approves their own
reply.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from carebase.errors import Forbidden, NotFound, TransitionRefused, ValidationFailed
from carebase.ids import new_id
from carebase.inbox import mentions, reply_jobs, templates
from carebase.inbox import replies_repository as repository
from carebase.inbox.workflow import AWAITING_APPROVAL, IN_PROGRESS, Actor, refusal
from carebase.kit import pagination
from carebase.models import Mention, Response

MAX_BODY = 10_000
MAX_COMMENT = 2_000
ORIGINS = ("console", "api")
Origin = Literal["console", "api"]
# A response in one of these may still be edited, submitted or discarded by its author.
EDITABLE = frozenset({"draft", "rejected", "failed"})


class NotAuthor(Forbidden):
    """Only a response's author may change, submit or discard it."""

    code = "not_author"
    default_message = "Only the reply's author may do that."


class NotReviewer(Forbidden):
    """Only a manager other than the author may approve or reject a reply."""

    code = "not_reviewer"
    default_message = "Only a manager other than its author may approve or reject a reply."


def clean_body(body: str, field: str = "body", limit: int = MAX_BODY) -> str:
    """A reply's text as stored, or a 422 naming `field`: trimmed, not empty, at most
    `limit` characters, no NUL (PostgreSQL cannot store it)."""
    text = body.strip()
    if not text:
        raise ValidationFailed.on(field, "must not be empty")
    if len(text) > limit:
        raise ValidationFailed.on(field, f"must be at most {limit} characters")
    if "\x00" in text:
        raise ValidationFailed.on(field, "contains a NUL character")
    return text


def active_user(session: Session, user_id: int, field: str = "user_id") -> str:
    """The role of an active user, or a 422 naming `field`."""
    found = repository.user(session, user_id)
    if found is None or found[1]:
        raise ValidationFailed.on(field, "is not an active user")
    return found[0]


def get_response(session: Session, response_id: str) -> Response:
    """One response, or NotFound."""
    response = repository.get(session, response_id)
    if response is None:
        raise NotFound(f"No response with id {response_id!r}.")
    return response


def list_responses(
    session: Session,
    *,
    status: str | None = None,
    mention_id: str | None = None,
    author_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Response], str | None]:
    """A page of responses, oldest first, and the next page's cursor."""
    after = pagination.decode(cursor, datetime, str) if cursor else None
    rows = repository.page(
        session,
        status=status,
        mention_id=mention_id,
        author_id=author_id,
        after=after,
        limit=limit + 1,
    )
    return pagination.split(rows, limit, lambda row: pagination.encode(row.created_at, row.id))


def sent_reply(
    mention: Mention,
    *,
    at: datetime,
    body: str,
    author_id: int | None,
    agent_name: str | None = None,
    private: bool = False,
    origin: str = "console",
    origin_key: str = "",
    external_id: str | None = None,
) -> Response:
    """A reply (or private note) already sent at `at` outside the send job — a helpdesk
    agent's comment, the demo's history — as a new row for the caller to add; a public one is
    then recorded with `mentions.mark_responded`."""
    return Response(
        id=new_id("rsp"),
        mention_id=mention.id,
        case_id=mention.case_id,
        profile_id=mention.profile_id,
        author_id=author_id,
        agent_name=agent_name,
        body=body,
        private=private,
        status="sent",
        origin=origin,
        origin_key=origin_key,
        external_id=external_id,
        submitted_at=at,
        sent_at=at,
        created_at=at,
        updated_at=at,
    )


def draft(
    session: Session,
    mention_id: str,
    user_id: int,
    body: str,
    now: datetime,
    *,
    private: bool = False,
    template_id: str | None = None,
    origin: Origin = "console",
) -> Response:
    """A new draft reply (or private note) by `user_id`; a reply moves the mention to
    in_progress when the workflow allows it (a closed mention stays closed)."""
    active_user(session, user_id)
    text = clean_body(body)
    mention = mentions.lock_mention(session, mention_id)
    if template_id is not None:
        templates.usable(session, template_id)
    response_id = new_id("rsp")
    repository.add(
        session,
        {
            "id": response_id,
            "mention_id": mention.id,
            "case_id": mention.case_id,
            "profile_id": mention.profile_id,
            "author_id": user_id,
            "agent_name": None,
            "body": text,
            "private": private,
            "status": "draft",
            "origin": origin,
            "origin_key": "",
            "external_id": None,
            "template_id": template_id,
            "created_at": now,
            "updated_at": now,
        },
    )
    if not private:
        _move(session, mention, IN_PROGRESS, Actor.user(user_id), now)
    return get_response(session, response_id)


def update_draft(
    session: Session, response_id: str, user_id: int, body: str, now: datetime
) -> Response:
    """Change a draft's text (a rejected or failed reply becomes a draft again); its author only."""
    active_user(session, user_id)
    text = clean_body(body)
    _, response = _lock(session, response_id)
    _own(response, user_id)
    if response.status not in EDITABLE:
        raise TransitionRefused(f"a reply that is {_label(response.status)} cannot be edited")
    repository.set_fields(
        session, response_id, body=text, status="draft", error=None, updated_at=now
    )
    return _fresh(session, response_id)


def submit(session: Session, response_id: str, user_id: int, now: datetime) -> Response:
    """Send a draft: a private note is saved as sent at once (never delivered, not a response
    for the SLA); a reply by a member of a group requiring approval waits for a manager
    (awaiting_approval, the mention too); any other reply is queued for sending."""
    role = active_user(session, user_id)
    mention, response = _lock(session, response_id)
    _own(response, user_id)
    if response.status not in EDITABLE:
        raise TransitionRefused(f"a reply that is {_label(response.status)} cannot be submitted")
    values: dict[str, object] = {"submitted_at": now, "updated_at": now, "error": None}
    if response.private:
        repository.set_fields(session, response_id, status="sent", sent_at=now, **values)
    elif role != "manager" and repository.needs_approval(session, user_id):
        repository.set_fields(
            session,
            response_id,
            status="awaiting_approval",
            reviewed_by=None,
            reviewed_at=None,
            review_comment=None,
            **values,
        )
        _move(session, mention, AWAITING_APPROVAL, Actor.user(user_id), now)
    else:
        _queue(session, mention, response_id, Actor.user(user_id), now, values)
    return _fresh(session, response_id)


def approve(session: Session, response_id: str, reviewer_id: int, now: datetime) -> Response:
    """Approve a reply awaiting approval: it is queued for sending, the mention goes back to
    in_progress until it is sent. A manager other than the author only."""
    mention, _ = _review(session, response_id, reviewer_id)
    values: dict[str, object] = {"reviewed_by": reviewer_id, "reviewed_at": now, "updated_at": now}
    _queue(session, mention, response_id, Actor.user(reviewer_id), now, values)
    return _fresh(session, response_id)


def reject(
    session: Session, response_id: str, reviewer_id: int, comment: str, now: datetime
) -> Response:
    """Send a reply back to its author with the reviewer's comment (rejected; the mention
    back to in_progress). A manager other than the author only."""
    text = clean_body(comment, "comment", MAX_COMMENT)
    mention, _ = _review(session, response_id, reviewer_id)
    repository.set_fields(
        session,
        response_id,
        status="rejected",
        reviewed_by=reviewer_id,
        reviewed_at=now,
        review_comment=text,
        updated_at=now,
    )
    _move(session, mention, IN_PROGRESS, Actor.user(reviewer_id), now)
    return _fresh(session, response_id)


def discard(session: Session, response_id: str, user_id: int, now: datetime) -> None:
    """Delete a draft (or a rejected or failed reply); its author only."""
    active_user(session, user_id)
    _, response = _lock(session, response_id)
    _own(response, user_id)
    if response.status not in EDITABLE:
        raise TransitionRefused(f"a reply that is {_label(response.status)} cannot be discarded")
    repository.delete(session, response)


def _queue(
    session: Session,
    mention: Mention,
    response_id: str,
    actor: Actor,
    now: datetime,
    values: dict[str, object],
) -> None:
    """Mark the reply sending and queue its job, in the caller's transaction."""
    job_id = reply_jobs.queue_send(session, response_id, now=now)
    repository.set_fields(session, response_id, status="sending", job_id=job_id, **values)
    _move(session, mention, IN_PROGRESS, actor, now)


def _review(session: Session, response_id: str, reviewer_id: int) -> tuple[Mention, Response]:
    role = active_user(session, reviewer_id)
    mention, response = _lock(session, response_id)
    if role != "manager" or response.author_id == reviewer_id:
        raise NotReviewer()
    if response.status != "awaiting_approval":
        raise TransitionRefused(f"the reply is {_label(response.status)}, not awaiting approval")
    return mention, response


def _lock(session: Session, response_id: str) -> tuple[Mention, Response]:
    """The response's mention and the response, both locked (mention first)."""
    mention_id = repository.mention_id_of(session, response_id)
    if mention_id is None:
        raise NotFound(f"No response with id {response_id!r}.")
    mention = mentions.lock_mention(session, mention_id)
    response = repository.lock(session, response_id)
    if response is None:
        raise NotFound(f"No response with id {response_id!r}.")
    return mention, response


def _own(response: Response, user_id: int) -> None:
    if response.author_id != user_id:
        raise NotAuthor()


def _move(session: Session, mention: Mention, target: str, actor: Actor, now: datetime) -> None:
    """Move the mention along when the workflow allows it (a closed mention stays closed,
    one already there stays)."""
    if refusal(mention.state, target, actor.type) is None:
        mentions.set_state(session, mention, target, actor, now)


def _fresh(session: Session, response_id: str) -> Response:
    response = repository.lock(session, response_id)
    assert response is not None
    return response


def _label(status: str) -> str:
    return status.replace("_", " ")
