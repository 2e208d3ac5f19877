"""Forms and surveys over HTTP: the Activity API's list of forms (`activity:read`), managing
forms and reading their answers (`inbox:write` / `inbox:read`), and a case's survey link."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from carebase.auth.scopes import ACTIVITY_READ, INBOX_READ, INBOX_WRITE
from carebase.auth.service import Principal
from carebase.errors import ValidationFailed, problem
from carebase.http.deps import DbSession, Now, get_settings, require_scope
from carebase.http.routing import JSONRoute
from carebase.inbox import forms, surveys
from carebase.inbox import forms_repository as repository
from carebase.inbox.forms_schemas import (
    ActivityForm,
    FormCreate,
    FormOut,
    FormResponseOut,
    FormResponsePage,
    FormUpdate,
    SurveyLinkOut,
    SurveyRequest,
)
from carebase.kit.pagination import Cursor
from carebase.models import Form, FormResponse
from carebase.users.rules import activity_time

router = APIRouter(route_class=JSONRoute, tags=["forms"])
ActivityReader = Annotated[Principal, Depends(require_scope(ACTIVITY_READ))]
Reader = Annotated[Principal, Depends(require_scope(INBOX_READ))]
Writer = Annotated[Principal, Depends(require_scope(INBOX_WRITE))]
FormId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The form's numeric id.")]
CaseId = Annotated[str, Path(min_length=1, max_length=40, description="The case's id.")]

_NAME_TAKEN: dict[int | str, dict[str, Any]] = {
    409: {"description": "Another form has this name (`details.reason`: `name_taken`)."}
}
_SURVEY_CONFLICTS: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "The case has this survey's link already (`already_invited`; "
        "`renew: true` makes a new one), or answered it (`already_answered`)."
    }
}


def activity_form(form: Form, base_url: str) -> ActivityForm:
    """A form in the Activity API's shape."""
    return ActivityForm(
        id=form.id,
        name=form.name,
        title=form.title,
        archived=form.archived,
        created_at=activity_time(form.created_at) or "",
        groups=list(form.group_ids),
        nps=form.nps,
        form_url=forms.form_url(base_url, form),
    )


def form_out(form: Form, base_url: str) -> FormOut:
    """A form as a manager sees it."""
    return FormOut(
        **activity_form(form, base_url).model_dump(),
        comment_prompt=form.comment_prompt,
        updated_at=form.updated_at,
    )


def response_out(row: FormResponse) -> FormResponseOut:
    """An answer's API shape."""
    return FormResponseOut(
        id=row.id,
        form_id=row.form_id,
        invitation_id=row.invitation_id,
        case_id=row.case_id,
        profile_id=row.profile_id,
        agent_id=row.agent_id,
        groups=list(row.group_ids),
        score=row.score,
        nps_category=forms.nps_category(row.score) if row.score is not None else None,
        comment=row.comment,
        answered_at=row.answered_at,
    )


def _base_url(request: Request) -> str:
    return get_settings(request).base_url


@router.get("/v1/forms", operation_id="listForms", response_model=list[ActivityForm])
def list_forms(_reader: ActivityReader, request: Request, session: DbSession) -> list[ActivityForm]:
    """Every form, as Lexer's Activity API lists them: a JSON array ordered by id, archived
    forms included (`archived: true`). `form_url` is the form's public page."""
    base_url = _base_url(request)
    return [activity_form(form, base_url) for form in forms.list_forms(session)]


@router.post(
    "/v1/forms",
    status_code=201,
    operation_id="createForm",
    response_model=FormOut,
    responses=_NAME_TAKEN,
)
def create_form(
    body: FormCreate, _writer: Writer, request: Request, session: DbSession, now: Now
) -> FormOut:
    """Create a form (an NPS survey unless `nps: false`); it gets its public `form_url`."""
    form = forms.create_form(
        session,
        name=body.name,
        title=body.title,
        nps=body.nps,
        groups=body.groups,
        comment_prompt=body.comment_prompt,
        now=now,
    )
    return form_out(form, _base_url(request))


@router.get("/v1/forms/{form_id}", operation_id="getForm", response_model=FormOut)
def get_form(form_id: FormId, _reader: Reader, request: Request, session: DbSession) -> FormOut:
    """One form, archived or not."""
    return form_out(forms.get_form(session, form_id), _base_url(request))


@router.patch(
    "/v1/forms/{form_id}", operation_id="updateForm", response_model=FormOut, responses=_NAME_TAKEN
)
def update_form(
    form_id: FormId,
    body: FormUpdate,
    _writer: Writer,
    request: Request,
    session: DbSession,
    now: Now,
) -> FormOut:
    """Change a form's name, title, NPS flag, groups or comment prompt. Fields left out
    stay as they are; `groups` replaces the list."""
    changes = body.model_dump(exclude_unset=True)
    nulls = [problem(name, "must not be null") for name, value in changes.items() if value is None]
    if nulls:
        raise ValidationFailed(details=nulls)
    form = forms.update_form(session, form_id, changes, now=now)
    return form_out(form, _base_url(request))


@router.post("/v1/forms/{form_id}/archive", operation_id="archiveForm", response_model=FormOut)
def archive_form(
    form_id: FormId, _writer: Writer, request: Request, session: DbSession, now: Now
) -> FormOut:
    """Archive a form: its one-time links and its form_url stop taking answers (410); its
    answers stay. Archiving twice is harmless."""
    return form_out(forms.archive_form(session, form_id, now=now), _base_url(request))


@router.post("/v1/forms/{form_id}/restore", operation_id="restoreForm", response_model=FormOut)
def restore_form(
    form_id: FormId, _writer: Writer, request: Request, session: DbSession, now: Now
) -> FormOut:
    """Restore an archived form: it takes answers again."""
    return form_out(forms.restore_form(session, form_id, now=now), _base_url(request))


@router.get(
    "/v1/forms/{form_id}/responses",
    operation_id="listFormResponses",
    response_model=FormResponsePage,
)
def list_responses(
    form_id: FormId,
    _reader: Reader,
    session: DbSession,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> FormResponsePage:
    """A form's answers, newest first, with their NPS category. A forgotten profile's
    answers keep their score and lose their comment and profile."""
    rows, following = surveys.list_responses(session, form_id, cursor=cursor, limit=limit)
    return FormResponsePage(items=[response_out(row) for row in rows], next_cursor=following)


@router.post(
    "/v1/cases/{case_id}/survey",
    status_code=201,
    operation_id="sendCaseSurvey",
    response_model=SurveyLinkOut,
    responses=_SURVEY_CONFLICTS,
)
def send_survey(
    case_id: CaseId,
    body: SurveyRequest,
    _writer: Writer,
    request: Request,
    session: DbSession,
    now: Now,
) -> SurveyLinkOut:
    """Make the case's one-time survey link (to `form_id`, else the inbox settings' NPS
    form), about the case's last agent. carebase sends nothing: the answer holds the link,
    shown this once, for the agent to paste into a reply. It works for 30 days, once."""
    if not repository.active_user(session, body.user_id):
        raise ValidationFailed.on("user_id", "is not an active user")
    form_id = body.form_id if body.form_id is not None else repository.nps_form_id(session)
    if form_id is None:
        raise ValidationFailed.on(
            "form_id", "is required: the inbox settings name no NPS form (nps_form_id)"
        )
    invitation, url = surveys.invite(
        session, form_id, case_id, now, base_url=_base_url(request), renew=body.renew
    )
    return SurveyLinkOut(
        invitation_id=invitation.id,
        form_id=invitation.form_id,
        case_id=case_id,
        agent_id=invitation.agent_id,
        groups=list(invitation.group_ids),
        url=url,
        sent_at=invitation.sent_at,
        expires_at=invitation.expires_at,
    )
