"""Settings > Inbox > Forms (managers only): surveys (NPS: name, question, comment
question, groups), their public `form_url`, archive and restore. The service is
`inbox.forms`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from carebase.errors import Conflict, ValidationFailed
from carebase.inbox import forms
from carebase.web.actions import now_of, read, settings_of, write
from carebase.web.forms import read_form
from carebase.web.pages.inbox_settings_frame import (
    FormPage,
    Input,
    PageAction,
    checked,
    done_redirect,
    form_page,
    render_inbox,
    toast_for,
    with_lists,
)
from carebase.web.pages.inbox_settings_lookups import Choices, group_choices
from carebase.web.pages.inbox_settings_replies import conflict_errors
from carebase.web.routing import page_router
from carebase.web.session import Manager

router = page_router()

FormId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Done = Annotated[str | None, Query(max_length=20)]
Name = Annotated[str | None, Query(max_length=300)]

_FORM_WORDS = {
    "created": "Created the form {name}. Its public link is in the list.",
    "saved": "Saved the form {name}.",
    "archived": "Archived the form {name}: its links stop taking answers.",
    "restored": "Restored the form {name}: it takes answers again.",
}


class SurveyForm(BaseModel):
    """A form's fields."""

    name: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=300)
    comment_prompt: str = Field(default="", max_length=1000)
    nps: Literal["", "on"] = ""
    groups: list[int] = Field(default_factory=list, max_length=200)


@dataclass(frozen=True)
class SurveyRow:
    """A form in the list."""

    id: int
    name: str
    title: str
    comment_prompt: str
    nps: bool
    groups: list[str]
    group_ids: list[int]
    archived: bool
    form_url: str


def _survey_rows(session: Session, base_url: str) -> list[SurveyRow]:
    names = dict(group_choices(session))
    rows = [
        SurveyRow(
            id=f.id,
            name=f.name,
            title=f.title,
            comment_prompt=f.comment_prompt,
            nps=f.nps,
            groups=[names.get(str(g), f"Group {g}") for g in f.group_ids],
            group_ids=list(f.group_ids),
            archived=f.archived,
            form_url=forms.form_url(base_url, f),
        )
        for f in forms.list_forms(session)
    ]
    return sorted(rows, key=lambda r: (r.archived, r.name.lower()))


@router.get("/settings/inbox/forms")
async def forms_page(
    request: Request, _manager: Manager, done: Done = None, name: Name = None
) -> HTMLResponse:
    """Every form with its public link, live ones first."""
    base_url = settings_of(request).base_url
    rows = await read(request, lambda s: _survey_rows(s, base_url))
    return render_inbox(
        request,
        "inbox_settings/forms.html",
        {"rows": rows, "toast": toast_for(done, _FORM_WORDS, name or "")},
    )


def _survey_page(groups: Choices, editing: SurveyRow | None = None) -> FormPage:
    inputs = [
        Input("name", "Name", hint="Unique, for you: e.g. NPS after support.", required=True),
        Input(
            "title",
            "Question",
            hint="What customers read, e.g. How likely are you to recommend us to a friend?",
            required=True,
        ),
        Input(
            "comment_prompt",
            "Comment question",
            hint="Asked beside the 0-10 score (optional), e.g. What could we do better?",
        ),
        Input("nps", "An NPS survey", kind="checkbox", hint="Scores count toward NPS."),
        Input(
            "groups",
            "Groups",
            kind="checkboxes",
            options=groups,
            hint="The teams whose cases it surveys (none ticked: every team).",
        ),
    ]
    back = ("Forms", "/settings/inbox/forms")
    if editing is None:
        return FormPage(
            title="New form",
            action="/settings/inbox/forms/new",
            inputs=inputs,
            back=back,
            submit="Create form",
        )
    verb = "restore" if editing.archived else "archive"
    return FormPage(
        title=editing.name,
        action=f"/settings/inbox/forms/{editing.id}",
        inputs=inputs,
        back=back,
        notice="Archived: its links take no answers." if editing.archived else None,
        actions=[
            PageAction(
                "Restore" if editing.archived else "Archive",
                f"/settings/inbox/forms/{editing.id}/{verb}",
                "undo" if editing.archived else "archive",
            )
        ],
    )


_SURVEY_INPUTS = frozenset({"name", "title", "comment_prompt", "nps", "groups"})


@router.get("/settings/inbox/forms/new")
async def new_form_page(request: Request, _manager: Manager) -> HTMLResponse:
    """The form for a new survey (NPS ticked)."""
    groups = await read(request, group_choices)
    return form_page(request, _survey_page(groups), values={"nps": "on"}, errors={})


@router.post("/settings/inbox/forms/new")
async def create_form(request: Request, _manager: Manager) -> Response:
    """Create a form; it gets its public link."""
    form = await read_form(request, SurveyForm)
    groups = await read(request, group_choices)
    page = _survey_page(groups)
    values = await with_lists(request, form.values, ["groups"])
    if form.data is None:
        return form_page(request, page, values=values, errors=form.errors, status_code=422)
    data, now = form.data, now_of(request)
    try:
        name = await write(
            request,
            lambda s: (
                forms.create_form(
                    s,
                    name=data.name,
                    title=data.title,
                    nps=checked(form.values, "nps"),
                    groups=data.groups,
                    comment_prompt=data.comment_prompt,
                    now=now,
                ).name
            ),
        )
    except (ValidationFailed, Conflict) as error:
        errors = conflict_errors(error, _SURVEY_INPUTS)
        return form_page(request, page, values=values, errors=errors, status_code=422)
    return done_redirect("/settings/inbox/forms", "created", name)


async def _survey(request: Request, form_id: int) -> SurveyRow:
    base_url = settings_of(request).base_url

    def work(session: Session) -> SurveyRow:
        f = forms.get_form(session, form_id)
        return SurveyRow(
            id=f.id,
            name=f.name,
            title=f.title,
            comment_prompt=f.comment_prompt,
            nps=f.nps,
            groups=[],
            group_ids=list(f.group_ids),
            archived=f.archived,
            form_url=forms.form_url(base_url, f),
        )

    return await read(request, work)


@router.get("/settings/inbox/forms/{form_id}")
async def edit_form_page(request: Request, _manager: Manager, form_id: FormId) -> HTMLResponse:
    """A form's fields, filled in."""
    survey = await _survey(request, form_id)
    groups = await read(request, group_choices)
    values = {
        "name": survey.name,
        "title": survey.title,
        "comment_prompt": survey.comment_prompt,
        "nps": "on" if survey.nps else "",
        "groups": [str(g) for g in survey.group_ids],
    }
    return form_page(request, _survey_page(groups, survey), values=values, errors={})


@router.post("/settings/inbox/forms/{form_id}")
async def save_form(request: Request, _manager: Manager, form_id: FormId) -> Response:
    """Save a form's fields."""
    form = await read_form(request, SurveyForm)
    survey = await _survey(request, form_id)
    groups = await read(request, group_choices)
    page = _survey_page(groups, survey)
    values = await with_lists(request, form.values, ["groups"])
    if form.data is None:
        return form_page(request, page, values=values, errors=form.errors, status_code=422)
    changes = form.data.model_dump()
    changes["nps"] = checked(form.values, "nps")
    now = now_of(request)
    try:
        name = await write(request, lambda s: forms.update_form(s, form_id, changes, now=now).name)
    except (ValidationFailed, Conflict) as error:
        errors = conflict_errors(error, _SURVEY_INPUTS)
        return form_page(request, page, values=values, errors=errors, status_code=422)
    return done_redirect("/settings/inbox/forms", "saved", name)


@router.post("/settings/inbox/forms/{form_id}/{verb}")
async def archive_form(
    request: Request, _manager: Manager, form_id: FormId, verb: Literal["archive", "restore"]
) -> Response:
    """Archive a form (its links stop taking answers) or restore it."""
    now = now_of(request)
    if verb == "archive":
        name = await write(request, lambda s: forms.archive_form(s, form_id, now=now).name)
        return done_redirect("/settings/inbox/forms", "archived", name)
    name = await write(request, lambda s: forms.restore_form(s, form_id, now=now).name)
    return done_redirect("/settings/inbox/forms", "restored", name)
