"""Settings > Inbox > Queues (managers only): the queues mentions wait in (each with its
SLA policy; one is the default), archive and restore. A queue's rules have pages of their
own (`inbox_settings_rules`). The service is `inbox.queues`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from carebase.errors import Conflict, ValidationFailed
from carebase.inbox import queues
from carebase.web.actions import now_of, read, write
from carebase.web.forms import read_form
from carebase.web.pages.inbox_settings_frame import (
    FormPage,
    Input,
    PageAction,
    checked,
    done_redirect,
    form_page,
    problems,
    render_inbox,
    toast_for,
)
from carebase.web.pages.inbox_settings_lookups import policy_choices
from carebase.web.routing import page_router
from carebase.web.session import Manager

router = page_router()

QueueId = Annotated[str, Path(min_length=1, max_length=40)]
Done = Annotated[str | None, Query(max_length=20)]
Name = Annotated[str | None, Query(max_length=300)]

_QUEUE_WORDS = {
    "created": "Created the queue {name}. Add rules to route its new mentions.",
    "saved": "Saved the queue {name}.",
    "archived": "Archived the queue {name}: no new mentions land in it.",
    "restored": "Restored the queue {name}.",
}


class QueueForm(BaseModel):
    """A queue's fields."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    sla_policy_id: str = Field(default="", max_length=40)
    is_default: Literal["", "on"] = ""


@dataclass(frozen=True)
class QueueRow:
    """A queue in the list."""

    id: str
    name: str
    description: str
    policy: str
    is_default: bool
    archived: bool


def _queue_rows(session: Session) -> list[QueueRow]:
    names = dict(policy_choices(session))
    return [
        QueueRow(
            id=q.id,
            name=q.name,
            description=q.description,
            policy=names.get(q.sla_policy_id or "", "The default policy"),
            is_default=q.is_default,
            archived=q.archived_at is not None,
        )
        for q in queues.list_queues(session, include_archived=True)
    ]


@router.get("/settings/inbox/queues")
async def queues_page(
    request: Request, _manager: Manager, done: Done = None, name: Name = None
) -> HTMLResponse:
    """Every queue, the default first."""
    rows = await read(request, _queue_rows)
    return render_inbox(
        request,
        "inbox_settings/queues.html",
        {"rows": rows, "toast": toast_for(done, _QUEUE_WORDS, name or "")},
    )


def _queue_page(policies: list[tuple[str, str]], *, editing: QueueRow | None = None) -> FormPage:
    options = [("", "The default policy"), *policies]
    inputs = [
        Input("name", "Name", hint="Unique, e.g. Social or VIP customers.", required=True),
        Input("description", "Description", kind="textarea", hint="What lands here (optional)."),
        Input(
            "sla_policy_id",
            "SLA policy",
            kind="select",
            options=options,
            hint="How fast its mentions should be answered.",
        ),
        Input(
            "is_default",
            "The default queue",
            kind="checkbox",
            hint="Mentions that name no queue land here (only one queue is the default).",
        ),
    ]
    if editing is None:
        return FormPage(
            title="New queue",
            action="/settings/inbox/queues/new",
            inputs=inputs,
            back=("Queues", "/settings/inbox/queues"),
            submit="Create queue",
        )
    archive = "restore" if editing.archived else "archive"
    return FormPage(
        title=editing.name,
        action=f"/settings/inbox/queues/{editing.id}",
        inputs=inputs,
        back=("Queues", "/settings/inbox/queues"),
        notice="Archived: no new mentions land in it." if editing.archived else None,
        actions=[
            PageAction(
                "Rules", f"/settings/inbox/queues/{editing.id}/rules", "settings", link=True
            ),
            PageAction(
                "Restore" if editing.archived else "Archive",
                f"/settings/inbox/queues/{editing.id}/{archive}",
                "undo" if editing.archived else "archive",
            ),
        ],
    )


_QUEUE_INPUTS = frozenset({"name", "description", "sla_policy_id", "is_default"})


def _queue_errors(error: ValidationFailed | Conflict) -> dict[str, str]:
    if isinstance(error, ValidationFailed):
        return problems(error, _QUEUE_INPUTS)
    field = (error.details or {}).get("field") if isinstance(error.details, dict) else None
    return {str(field or "name"): error.message}


@router.get("/settings/inbox/queues/new")
async def new_queue_page(request: Request, _manager: Manager) -> HTMLResponse:
    """The form for a new queue."""
    policies = await read(request, policy_choices)
    return form_page(request, _queue_page(policies), values={}, errors={})


@router.post("/settings/inbox/queues/new")
async def create_queue(request: Request, _manager: Manager) -> Response:
    """Create a queue."""
    form = await read_form(request, QueueForm)
    policies = await read(request, policy_choices)
    page = _queue_page(policies)
    if form.data is None:
        return form_page(request, page, values=form.values, errors=form.errors, status_code=422)
    data, now = form.data, now_of(request)
    try:
        created = await write(
            request,
            lambda s: (
                queues.create_queue(
                    s,
                    data.name,
                    now,
                    description=data.description.strip(),
                    sla_policy_id=data.sla_policy_id or None,
                    is_default=checked(form.values, "is_default"),
                ).name
            ),
        )
    except (ValidationFailed, Conflict) as error:
        return form_page(
            request, page, values=form.values, errors=_queue_errors(error), status_code=422
        )
    return done_redirect("/settings/inbox/queues", "created", created)


async def _queue(request: Request, queue_id: str) -> QueueRow:
    def work(session: Session) -> QueueRow:
        queue = queues.get_queue(session, queue_id)
        return QueueRow(
            id=queue.id,
            name=queue.name,
            description=queue.description,
            policy=queue.sla_policy_id or "",
            is_default=queue.is_default,
            archived=queue.archived_at is not None,
        )

    return await read(request, work)


@router.get("/settings/inbox/queues/{queue_id}")
async def edit_queue_page(request: Request, _manager: Manager, queue_id: QueueId) -> HTMLResponse:
    """A queue's form, filled in."""
    queue = await _queue(request, queue_id)
    policies = await read(request, policy_choices)
    values = {
        "name": queue.name,
        "description": queue.description,
        "sla_policy_id": queue.policy,
        "is_default": "on" if queue.is_default else "",
    }
    return form_page(request, _queue_page(policies, editing=queue), values=values, errors={})


@router.post("/settings/inbox/queues/{queue_id}")
async def save_queue(request: Request, _manager: Manager, queue_id: QueueId) -> Response:
    """Save a queue's name, description, SLA policy, or make it the default."""
    form = await read_form(request, QueueForm)
    queue = await _queue(request, queue_id)
    policies = await read(request, policy_choices)
    page = _queue_page(policies, editing=queue)
    if form.data is None:
        return form_page(request, page, values=form.values, errors=form.errors, status_code=422)
    data, now = form.data, now_of(request)
    make_default = checked(form.values, "is_default") and not queue.is_default
    try:
        saved = await write(
            request,
            lambda s: (
                queues.update_queue(
                    s,
                    queue_id,
                    now,
                    name=data.name,
                    description=data.description.strip(),
                    sla_policy_id=data.sla_policy_id or None,
                    clear_sla_policy=not data.sla_policy_id,
                    make_default=make_default,
                ).name
            ),
        )
    except (ValidationFailed, Conflict) as error:
        return form_page(
            request, page, values=form.values, errors=_queue_errors(error), status_code=422
        )
    return done_redirect("/settings/inbox/queues", "saved", saved)


@router.post("/settings/inbox/queues/{queue_id}/archive")
async def archive_queue(request: Request, _manager: Manager, queue_id: QueueId) -> Response:
    """Archive a queue (the default cannot be: the page says why)."""
    now = now_of(request)
    try:
        name = await write(request, lambda s: queues.archive_queue(s, queue_id, now).name)
    except Conflict as refused:
        queue = await _queue(request, queue_id)
        policies = await read(request, policy_choices)
        values = {"name": queue.name, "description": queue.description}
        values["sla_policy_id"] = queue.policy
        values["is_default"] = "on" if queue.is_default else ""
        return form_page(
            request,
            _queue_page(policies, editing=queue),
            values=values,
            errors={"__form__": refused.message},
            status_code=409,
        )
    return done_redirect("/settings/inbox/queues", "archived", name)


@router.post("/settings/inbox/queues/{queue_id}/restore")
async def restore_queue(request: Request, _manager: Manager, queue_id: QueueId) -> Response:
    """Bring an archived queue back."""
    now = now_of(request)
    name = await write(request, lambda s: queues.unarchive_queue(s, queue_id, now).name)
    return done_redirect("/settings/inbox/queues", "restored", name)
