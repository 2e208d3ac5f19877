"""Replying from the inbox: the composer's post (save a draft, or send: draft and submit in
one go; a private note is saved at once and never sent), discarding a draft, and the
managers' approvals (`/inbox/approvals`, and approve or reject beside a pending reply).

The replies service (`carebase.inbox.replies`) decides what submitting means: a reply by a
member of a group that requires approval waits for a manager; otherwise it is sent.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from carebase.auth.sessions import ActiveSession
from carebase.errors import CarebaseError, NotFound, ValidationFailed
from carebase.inbox import console_repository as queries
from carebase.inbox import replies
from carebase.models import Response as ResponseRow
from carebase.web.actions import Toast, now_of, read, write
from carebase.web.forms import read_form
from carebase.web.pages.inbox import HELPERS
from carebase.web.pages.inbox_mention import DONE, MentionId, mention_page
from carebase.web.pages.inbox_mention import _reason as reason_of
from carebase.web.pages.inbox_shared import parse_choice
from carebase.web.render import is_htmx, render
from carebase.web.routing import page_router
from carebase.web.session import Manager, SignedIn

router = page_router()

ResponseId = Annotated[str, Path(min_length=1, max_length=40)]
MAX_REPLY = 20_000


class ReplyForm(BaseModel):
    """The composer: the text, whether it is a private note, the template it came from,
    the draft it updates, and which button was pressed."""

    body: str = Field(default="", max_length=MAX_REPLY)
    private: str = Field(default="", max_length=5)
    template_id: str = Field(default="", max_length=40)
    response_id: str = Field(default="", max_length=40)
    intent: str = Field(default="send", max_length=10)


class ReviewForm(BaseModel):
    """A manager's decision: a comment (required to reject) and where to go back to."""

    comment: str = Field(default="", max_length=5000)
    back: str = Field(default="", max_length=200)


def _composer(values: dict[str, str]) -> dict[str, Any]:
    return {
        "body": values.get("body", ""),
        "private": bool(values.get("private")),
        "template_id": values.get("template_id", ""),
        "response_id": values.get("response_id", ""),
    }


@router.post("/inbox/m/{mention_id}/reply")
async def reply(mention_id: MentionId, request: Request, active: SignedIn) -> Response:
    """Save the composer as a draft, or send it (a private note is saved, never sent)."""
    form = await read_form(request, ReplyForm)
    composer = _composer(form.values)
    if form.data is None:
        message = next(iter(form.errors.values()), "Check the reply.")
        return await _refused(request, mention_id, active, message, composer, 422)
    data = form.data
    intent = parse_choice("intent", data.intent, ("save", "send")) or "send"
    body = data.body.strip()
    if not body:
        return await _refused(request, mention_id, active, "Write the reply first.", composer, 422)
    private, user_id, now = bool(data.private), active.user.id, now_of(request)

    def work(session: Session) -> str:
        if data.response_id:
            draft = replies.update_draft(session, data.response_id, user_id, body, now)
        else:
            draft = replies.draft(
                session,
                mention_id,
                user_id,
                body,
                now,
                private=private,
                template_id=data.template_id or None,
            )
        if intent == "save" and not private:
            return "saved"
        submitted = replies.submit(session, draft.id, user_id, now)
        return "noted" if private else _submitted_word(submitted.status)

    try:
        done = await write(request, work)
    except NotFound:
        raise
    except CarebaseError as refused:
        status = refused.status_code
        return await _refused(request, mention_id, active, reason_of(refused), composer, status)
    return await _done(request, mention_id, active, done)


def _submitted_word(status: str) -> str:
    return "awaiting" if status == "awaiting_approval" else "submitted"


DONE.setdefault("awaiting", "Reply submitted: it waits for a manager's approval.")


async def _refused(
    request: Request,
    mention_id: str,
    active: ActiveSession,
    message: str,
    composer: dict[str, Any],
    status_code: int,
) -> HTMLResponse:
    return await mention_page(
        request,
        mention_id,
        active,
        refused=("reply", message),
        composer=composer,
        status_code=status_code,
    )


async def _done(request: Request, mention_id: str, active: ActiveSession, done: str) -> Response:
    if is_htmx(request):
        return await mention_page(request, mention_id, active, toast=DONE[done])
    return RedirectResponse(f"/inbox/m/{mention_id}?done={done}", status_code=303)


@router.post("/inbox/responses/{response_id}/discard")
async def discard(response_id: ResponseId, request: Request, active: SignedIn) -> Response:
    """Throw away a draft of yours."""
    user_id, now = active.user.id, now_of(request)
    mention_id = await read(request, lambda s: _mention_of(s, response_id))
    try:
        await write(request, lambda s: replies.discard(s, response_id, user_id, now))
    except NotFound:
        raise
    except CarebaseError as refused:
        composer = {"body": "", "private": False, "template_id": "", "response_id": ""}
        status = refused.status_code
        return await _refused(request, mention_id, active, reason_of(refused), composer, status)
    return await _done(request, mention_id, active, "discarded")


def _mention_of(session: Session, response_id: str) -> str:
    row = session.get(ResponseRow, response_id)
    if row is None:
        raise NotFound("No response has this id.")
    return row.mention_id


async def _review(
    request: Request, response_id: str, manager: ActiveSession, *, approve: bool
) -> Response:
    form = await read_form(request, ReviewForm)
    values = form.values
    mention_id = await read(request, lambda s: _mention_of(s, response_id))
    back_to_list = values.get("back") == "approvals"
    comment = (form.data.comment if form.data else "").strip()
    reviewer, now = manager.user.id, now_of(request)
    try:
        if approve:
            await write(request, lambda s: replies.approve(s, response_id, reviewer, now))
        else:
            if not comment:
                raise _comment_needed()
            await write(request, lambda s: replies.reject(s, response_id, reviewer, comment, now))
    except NotFound:
        raise
    except CarebaseError as refused:
        if back_to_list:
            return await approvals_page_response(
                request, refused=(response_id, reason_of(refused)), status_code=refused.status_code
            )
        return await mention_page(
            request,
            mention_id,
            manager,
            refused=("review", reason_of(refused)),
            status_code=refused.status_code,
        )
    done = "approved" if approve else "rejected"
    if back_to_list:
        if is_htmx(request):
            return await approvals_page_response(request, toast=DONE[done])
        return RedirectResponse(f"/inbox/approvals?done={done}", status_code=303)
    return await _done(request, mention_id, manager, done)


def _comment_needed() -> CarebaseError:
    return ValidationFailed.on("comment", "say why the reply is rejected")


@router.post("/inbox/responses/{response_id}/approve")
async def approve(response_id: ResponseId, request: Request, manager: Manager) -> Response:
    """Approve a reply that waits: it is sent."""
    return await _review(request, response_id, manager, approve=True)


@router.post("/inbox/responses/{response_id}/reject")
async def reject(response_id: ResponseId, request: Request, manager: Manager) -> Response:
    """Reject a reply that waits, with a comment: it goes back to its agent."""
    return await _review(request, response_id, manager, approve=False)


async def approvals_page_response(
    request: Request,
    *,
    toast: str | None = None,
    refused: tuple[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The approvals list with a toast or a refusal beside one reply."""

    def work(session: Session) -> dict[str, Any]:
        pending = queries.awaiting_approval(session)
        authors = queries.users_named(session, {r.author_id for r, _ in pending if r.author_id})
        return {"pending": pending, "authors": authors}

    context = await read(request, work)
    return render(
        request,
        "inbox/approvals.html",
        {
            **HELPERS,
            **context,
            "toast": Toast(toast) if toast else None,
            "refused": {refused[0]: refused[1]} if refused else {},
        },
        status_code=status_code,
    )


@router.get("/inbox/approvals")
async def approvals(
    request: Request, _manager: Manager, done: Annotated[str | None, Query(max_length=20)] = None
) -> HTMLResponse:
    """Replies waiting for a manager, oldest first."""
    words = DONE.get(done or "") if done in {"approved", "rejected"} else None
    return await approvals_page_response(request, toast=words)
