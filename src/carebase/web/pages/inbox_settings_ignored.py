"""Settings > Inbox > Ignored senders (managers only): the senders (an author key, handle or
email, or a pattern with `*`) whose messages arrive as irrelevant. The service is
`inbox.ignored`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from carebase.errors import Conflict, ValidationFailed
from carebase.inbox import ignored
from carebase.web.actions import now_of, read, write
from carebase.web.forms import read_form
from carebase.web.pages.inbox_settings_frame import (
    FormPage,
    Input,
    PageAction,
    done_redirect,
    form_page,
    problems,
    render_inbox,
    toast_for,
)
from carebase.web.routing import page_router
from carebase.web.session import Manager

router = page_router()

SenderId = Annotated[str, Path(min_length=1, max_length=40)]
Done = Annotated[str | None, Query(max_length=20)]
Name = Annotated[str | None, Query(max_length=300)]

_SENDER_WORDS = {
    "created": "Ignoring {name} from now on: their messages arrive as irrelevant.",
    "saved": "Saved {name}.",
    "removed": "Stopped ignoring {name}.",
}


class SenderForm(BaseModel):
    """An ignored sender's fields."""

    pattern: str = Field(min_length=1, max_length=300)
    comment: str = Field(default="", max_length=2000)


@router.get("/settings/inbox/ignored")
async def ignored_page(
    request: Request, _manager: Manager, done: Done = None, name: Name = None
) -> HTMLResponse:
    """Every ignored sender pattern."""
    rows = await read(
        request, lambda s: [(r.id, r.pattern, r.comment) for r in ignored.list_ignored(s)]
    )
    return render_inbox(
        request,
        "inbox_settings/ignored.html",
        {"rows": rows, "toast": toast_for(done, _SENDER_WORDS, name or "")},
    )


def _sender_page(editing: tuple[str, str] | None = None) -> FormPage:
    inputs = [
        Input(
            "pattern",
            "Sender",
            hint=(
                "An author key, handle or email; * matches anything, e.g. *@noreply.example.com."
            ),
            required=True,
        ),
        Input("comment", "Comment", kind="textarea", hint="Why they are ignored (optional)."),
    ]
    if editing is None:
        return FormPage(
            title="Ignore a sender",
            action="/settings/inbox/ignored/new",
            inputs=inputs,
            back=("Ignored senders", "/settings/inbox/ignored"),
            submit="Ignore sender",
        )
    sender_id, pattern = editing
    return FormPage(
        title=pattern,
        action=f"/settings/inbox/ignored/{sender_id}",
        inputs=inputs,
        back=("Ignored senders", "/settings/inbox/ignored"),
        actions=[
            PageAction("Stop ignoring", f"/settings/inbox/ignored/{sender_id}/delete", "close")
        ],
    )


def _sender_errors(error: ValidationFailed | Conflict) -> dict[str, str]:
    if isinstance(error, ValidationFailed):
        return problems(error, {"pattern", "comment"})
    return {"pattern": error.message}


@router.get("/settings/inbox/ignored/new")
async def new_sender_page(request: Request, _manager: Manager) -> HTMLResponse:
    """The form for a sender to ignore."""
    return form_page(request, _sender_page(), values={}, errors={})


@router.post("/settings/inbox/ignored/new")
async def create_sender(request: Request, _manager: Manager) -> Response:
    """Ignore a sender from now on."""
    form = await read_form(request, SenderForm)
    if form.data is None:
        return form_page(
            request, _sender_page(), values=form.values, errors=form.errors, status_code=422
        )
    data, now = form.data, now_of(request)
    try:
        pattern = await write(
            request,
            lambda s: (
                ignored.add_ignored(s, data.pattern, now, comment=data.comment.strip()).pattern
            ),
        )
    except (ValidationFailed, Conflict) as error:
        return form_page(
            request,
            _sender_page(),
            values=form.values,
            errors=_sender_errors(error),
            status_code=422,
        )
    return done_redirect("/settings/inbox/ignored", "created", pattern)


@router.get("/settings/inbox/ignored/{sender_id}")
async def edit_sender_page(
    request: Request, _manager: Manager, sender_id: SenderId
) -> HTMLResponse:
    """An ignored sender's form, filled in."""
    pattern, comment = await read(
        request, lambda s: (lambda r: (r.pattern, r.comment))(ignored.get_ignored(s, sender_id))
    )
    values = {"pattern": pattern, "comment": comment}
    return form_page(request, _sender_page((sender_id, pattern)), values=values, errors={})


@router.post("/settings/inbox/ignored/{sender_id}")
async def save_sender(request: Request, _manager: Manager, sender_id: SenderId) -> Response:
    """Change a pattern or its comment."""
    form = await read_form(request, SenderForm)
    current = await read(request, lambda s: ignored.get_ignored(s, sender_id).pattern)
    page = _sender_page((sender_id, current))
    if form.data is None:
        return form_page(request, page, values=form.values, errors=form.errors, status_code=422)
    data = form.data
    try:
        pattern = await write(
            request,
            lambda s: (
                ignored.update_ignored(
                    s, sender_id, pattern=data.pattern, comment=data.comment.strip()
                ).pattern
            ),
        )
    except (ValidationFailed, Conflict) as error:
        return form_page(
            request, page, values=form.values, errors=_sender_errors(error), status_code=422
        )
    return done_redirect("/settings/inbox/ignored", "saved", pattern)


@router.post("/settings/inbox/ignored/{sender_id}/delete")
async def delete_sender(request: Request, _manager: Manager, sender_id: SenderId) -> Response:
    """Stop ignoring a sender."""

    def work(session: Session) -> str:
        pattern = ignored.get_ignored(session, sender_id).pattern
        ignored.remove_ignored(session, sender_id)
        return pattern

    pattern = await write(request, work)
    return done_redirect("/settings/inbox/ignored", "removed", pattern)
