"""Settings > Inbox > Classifications (managers only): the labels agents and rules put on
mentions, each with a colour (always shown beside its name); archive (it stays on old
mentions and cannot be applied anew) and restore. The service is `inbox.classifications`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from carebase.errors import Conflict, ValidationFailed
from carebase.inbox import classifications
from carebase.models.inbox import Classification
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

ClassificationId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Done = Annotated[str | None, Query(max_length=20)]
Name = Annotated[str | None, Query(max_length=300)]
Show = Literal["active", "archived", "all"]

_WORDS = {
    "created": "Created the classification {name}.",
    "saved": "Saved the classification {name}.",
    "archived": "Archived the classification {name}: it stays on mentions, rules and agents "
    "cannot apply it anew.",
    "restored": "Restored the classification {name}.",
}
_INPUTS = frozenset({"name", "description", "colour"})


class ClassificationForm(BaseModel):
    """A classification's fields."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    colour: str = Field(min_length=1, max_length=20)


@dataclass(frozen=True)
class ClassificationRow:
    """A classification as the pages show it."""

    id: int
    name: str
    description: str
    colour: str
    archived: bool


def _row(c: Classification) -> ClassificationRow:
    return ClassificationRow(c.id, c.name, c.description, c.colour, c.archived_at is not None)


def _rows(session: Session) -> list[ClassificationRow]:
    return [_row(c) for c in classifications.list_classifications(session)]


@router.get("/settings/inbox/classifications")
async def classifications_page(
    request: Request, _manager: Manager, show: Show = "active", done: Done = None, name: Name = None
) -> HTMLResponse:
    """Every classification with its colour; archived ones on their own tab."""
    rows = await read(request, _rows)
    shown = [r for r in rows if show == "all" or r.archived == (show == "archived")]
    counts = {
        "active": sum(not r.archived for r in rows),
        "archived": sum(r.archived for r in rows),
        "all": len(rows),
    }
    return render_inbox(
        request,
        "inbox_settings/classifications.html",
        {
            "rows": shown,
            "show": show,
            "counts": counts,
            "toast": toast_for(done, _WORDS, name or ""),
        },
    )


def _page(editing: ClassificationRow | None = None) -> FormPage:
    inputs = [
        Input("name", "Name", hint="Unique, e.g. Complaint or Delivery.", required=True),
        Input("description", "Description", kind="textarea", hint="When to use it (optional)."),
        Input(
            "colour",
            "Colour",
            kind="colour",
            hint="Shown beside its name in the inbox, e.g. #d9480f.",
        ),
    ]
    back = ("Classifications", "/settings/inbox/classifications")
    if editing is None:
        return FormPage(
            title="New classification",
            action="/settings/inbox/classifications/new",
            inputs=inputs,
            back=back,
            submit="Create classification",
        )
    verb = "restore" if editing.archived else "archive"
    return FormPage(
        title=editing.name,
        action=f"/settings/inbox/classifications/{editing.id}",
        inputs=inputs,
        back=back,
        notice=(
            "Archived: it stays on mentions; rules and agents cannot apply it anew."
            if editing.archived
            else None
        ),
        actions=[
            PageAction(
                "Restore" if editing.archived else "Archive",
                f"/settings/inbox/classifications/{editing.id}/{verb}",
                "undo" if editing.archived else "archive",
            )
        ],
    )


def _errors(error: ValidationFailed | Conflict) -> dict[str, str]:
    if isinstance(error, ValidationFailed):
        return problems(error, _INPUTS)
    return {"name": error.message}


@router.get("/settings/inbox/classifications/new")
async def new_classification_page(request: Request, _manager: Manager) -> HTMLResponse:
    """The form for a new classification."""
    return form_page(request, _page(), values={"colour": "#4f46e5"}, errors={})


@router.post("/settings/inbox/classifications/new")
async def create_classification(request: Request, _manager: Manager) -> Response:
    """Create a classification."""
    form = await read_form(request, ClassificationForm)
    if form.data is None:
        return form_page(request, _page(), values=form.values, errors=form.errors, status_code=422)
    data, now = form.data, now_of(request)
    try:
        name = await write(
            request,
            lambda s: (
                classifications.create(
                    s, name=data.name, colour=data.colour, description=data.description, now=now
                ).name
            ),
        )
    except (ValidationFailed, Conflict) as error:
        return form_page(
            request, _page(), values=form.values, errors=_errors(error), status_code=422
        )
    return done_redirect("/settings/inbox/classifications", "created", name)


async def _one(request: Request, classification_id: int) -> ClassificationRow:
    return await read(request, lambda s: _row(classifications.get(s, classification_id)))


@router.get("/settings/inbox/classifications/{classification_id}")
async def edit_classification_page(
    request: Request, _manager: Manager, classification_id: ClassificationId
) -> HTMLResponse:
    """A classification's form, filled in."""
    row = await _one(request, classification_id)
    values = {"name": row.name, "description": row.description, "colour": row.colour}
    return form_page(request, _page(row), values=values, errors={})


@router.post("/settings/inbox/classifications/{classification_id}")
async def save_classification(
    request: Request, _manager: Manager, classification_id: ClassificationId
) -> Response:
    """Save a classification's name, description and colour."""
    form = await read_form(request, ClassificationForm)
    page = _page(await _one(request, classification_id))
    if form.data is None:
        return form_page(request, page, values=form.values, errors=form.errors, status_code=422)
    changes, now = form.data.model_dump(), now_of(request)
    try:
        name = await write(
            request, lambda s: classifications.update(s, classification_id, changes, now).name
        )
    except (ValidationFailed, Conflict) as error:
        return form_page(request, page, values=form.values, errors=_errors(error), status_code=422)
    return done_redirect("/settings/inbox/classifications", "saved", name)


@router.post("/settings/inbox/classifications/{classification_id}/{verb}")
async def archive_classification(
    request: Request,
    _manager: Manager,
    classification_id: ClassificationId,
    verb: Literal["archive", "restore"],
) -> Response:
    """Archive a classification, or restore it."""
    now = now_of(request)
    if verb == "archive":
        name = await write(
            request, lambda s: classifications.archive(s, classification_id, now).name
        )
        return done_redirect("/settings/inbox/classifications", "archived", name)
    name = await write(request, lambda s: classifications.unarchive(s, classification_id, now).name)
    return done_redirect("/settings/inbox/classifications", "restored", name)
