"""Settings > Inbox > Templates (managers only): reply templates (a body with
`{{ profile.first_name }}`-style variables, the groups that see it, archive and restore).
The service is `inbox.templates`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from carebase.errors import Conflict, ValidationFailed
from carebase.inbox import templates
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
    with_lists,
)
from carebase.web.pages.inbox_settings_lookups import Choices, group_choices
from carebase.web.routing import page_router
from carebase.web.session import Manager

router = page_router()

TemplateId = Annotated[str, Path(min_length=1, max_length=40)]
Done = Annotated[str | None, Query(max_length=20)]
Name = Annotated[str | None, Query(max_length=300)]

_TEMPLATE_WORDS = {
    "created": "Created the template {name}. Agents can start replies from it.",
    "saved": "Saved the template {name}.",
    "archived": "Archived the template {name}: new replies cannot use it.",
    "restored": "Restored the template {name}.",
}
# What a template may use, shown beside its body.
VARIABLES: tuple[tuple[str, str], ...] = (
    ("{{ profile.first_name }}", "The customer's first name."),
    ("{{ profile.last_name }}", "Their last name."),
    ("{{ profile.email }}", "Their email address."),
    ("{{ profile.mobile }}", "Their mobile number."),
    ("{{ profile.city }}", "Their city."),
    ("{{ profile.loyalty }}", "Their loyalty tier."),
    ("{{ profile.commerce.… }}", "Purchase figures, as the Profile Read API names them."),
    ("{{ profile.support.… }}", "Support attributes (tickets, satisfaction)."),
    (
        "{{ profile.first_name or 'there' }}",
        "A fallback for customers without a value (empty otherwise).",
    ),
)


class TemplateForm(BaseModel):
    """A template's fields."""

    name: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=10_000)
    groups: list[int] = Field(default_factory=list, max_length=200)


@dataclass(frozen=True)
class TemplateRow:
    """A template in the list."""

    id: str
    name: str
    body: str
    groups: list[str]
    group_ids: list[int]
    archived: bool


def conflict_errors(
    error: ValidationFailed | Conflict, names: frozenset[str], name_field: str = "name"
) -> dict[str, str]:
    if isinstance(error, ValidationFailed):
        # The templates service names the groups `group_ids`; the form, `groups`.
        return problems(error, names, renames={"group_ids": "groups"})
    return {name_field: error.message}


# Templates.


def _template_rows(session: Session) -> list[TemplateRow]:
    names = dict(group_choices(session))
    found = [
        *templates.list_templates(session),
        *templates.list_templates(session, archived=True),
    ]
    rows = {
        t.id: TemplateRow(
            id=t.id,
            name=t.name,
            body=t.body,
            groups=[names.get(str(g), f"Group {g}") for g in t.group_ids],
            group_ids=list(t.group_ids),
            archived=t.archived_at is not None,
        )
        for t in found
    }
    return sorted(rows.values(), key=lambda r: (r.archived, r.name.lower()))


@router.get("/settings/inbox/templates")
async def templates_page(
    request: Request, _manager: Manager, done: Done = None, name: Name = None
) -> HTMLResponse:
    """Every reply template, live ones first."""
    rows = await read(request, _template_rows)
    return render_inbox(
        request,
        "inbox_settings/templates.html",
        {"rows": rows, "toast": toast_for(done, _TEMPLATE_WORDS, name or "")},
    )


def _template_page(groups: Choices, editing: TemplateRow | None = None) -> FormPage:
    inputs = [
        Input("name", "Name", hint="Unique, e.g. Apology for a late delivery.", required=True),
        Input(
            "body",
            "Body",
            kind="textarea",
            rows=8,
            hint="Variables in double braces are filled from the customer's profile.",
        ),
        Input(
            "groups",
            "Groups that see it",
            kind="checkboxes",
            options=groups,
            hint="None ticked: everyone.",
        ),
    ]
    back = ("Templates", "/settings/inbox/templates")
    if editing is None:
        return FormPage(
            title="New template",
            action="/settings/inbox/templates/new",
            inputs=inputs,
            back=back,
            submit="Create template",
            help_items=VARIABLES,
        )
    verb = "restore" if editing.archived else "archive"
    return FormPage(
        title=editing.name,
        action=f"/settings/inbox/templates/{editing.id}",
        inputs=inputs,
        back=back,
        notice="Archived: new replies cannot use it." if editing.archived else None,
        help_items=VARIABLES,
        actions=[
            PageAction(
                "Restore" if editing.archived else "Archive",
                f"/settings/inbox/templates/{editing.id}/{verb}",
                "undo" if editing.archived else "archive",
            )
        ],
    )


_TEMPLATE_INPUTS = frozenset({"name", "body", "groups"})


@router.get("/settings/inbox/templates/new")
async def new_template_page(request: Request, _manager: Manager) -> HTMLResponse:
    """The form for a new template."""
    groups = await read(request, group_choices)
    return form_page(request, _template_page(groups), values={}, errors={})


@router.post("/settings/inbox/templates/new")
async def create_template(request: Request, _manager: Manager) -> Response:
    """Create a template."""
    form = await read_form(request, TemplateForm)
    groups = await read(request, group_choices)
    page = _template_page(groups)
    values = await with_lists(request, form.values, ["groups"])
    if form.data is None:
        return form_page(request, page, values=values, errors=form.errors, status_code=422)
    data, now = form.data, now_of(request)
    try:
        name = await write(
            request,
            lambda s: (
                templates.create_template(
                    s, name=data.name, body=data.body, group_ids=data.groups, now=now
                ).name
            ),
        )
    except (ValidationFailed, Conflict) as error:
        errors = conflict_errors(error, _TEMPLATE_INPUTS)
        return form_page(request, page, values=values, errors=errors, status_code=422)
    return done_redirect("/settings/inbox/templates", "created", name)


async def _template(request: Request, template_id: str) -> TemplateRow:
    def work(session: Session) -> TemplateRow:
        t = templates.get_template(session, template_id)
        return TemplateRow(
            t.id, t.name, t.body, [], list(t.group_ids), archived=t.archived_at is not None
        )

    return await read(request, work)


@router.get("/settings/inbox/templates/{template_id}")
async def edit_template_page(
    request: Request, _manager: Manager, template_id: TemplateId
) -> HTMLResponse:
    """A template's form, filled in."""
    template = await _template(request, template_id)
    groups = await read(request, group_choices)
    values = {
        "name": template.name,
        "body": template.body,
        "groups": [str(g) for g in template.group_ids],
    }
    return form_page(request, _template_page(groups, template), values=values, errors={})


@router.post("/settings/inbox/templates/{template_id}")
async def save_template(request: Request, _manager: Manager, template_id: TemplateId) -> Response:
    """Save a template's name, body and groups."""
    form = await read_form(request, TemplateForm)
    template = await _template(request, template_id)
    groups = await read(request, group_choices)
    page = _template_page(groups, template)
    values = await with_lists(request, form.values, ["groups"])
    if form.data is None:
        return form_page(request, page, values=values, errors=form.errors, status_code=422)
    data, now = form.data, now_of(request)
    try:
        name = await write(
            request,
            lambda s: (
                templates.update_template(
                    s, template_id, now=now, name=data.name, body=data.body, group_ids=data.groups
                ).name
            ),
        )
    except (ValidationFailed, Conflict) as error:
        errors = conflict_errors(error, _TEMPLATE_INPUTS)
        return form_page(request, page, values=values, errors=errors, status_code=422)
    return done_redirect("/settings/inbox/templates", "saved", name)


@router.post("/settings/inbox/templates/{template_id}/{verb}")
async def archive_template(
    request: Request,
    _manager: Manager,
    template_id: TemplateId,
    verb: Literal["archive", "restore"],
) -> Response:
    """Archive a template (new replies cannot use it) or restore it."""
    now = now_of(request)
    archived = verb == "archive"
    name = await write(
        request,
        lambda s: templates.update_template(s, template_id, now=now, archived=archived).name,
    )
    return done_redirect("/settings/inbox/templates", "archived" if archived else "restored", name)
