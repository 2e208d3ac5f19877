"""The customer's survey pages, without sign-in: `/f/{token}` (a case's one-time link) and
`/forms/{public_key}` (a form's public `form_url`).

Each shows the form's title, its 0-10 question as a radio group and a comment box. A bad
score is a message beside the question (422), never an error page. A link answered already
says so (409 after a second answer); an expired or unknown link, or an archived form, is a
410 page. The form is guarded like sign-in (`carebase.web.presession`: same site and a token
bound to a cookie). The link's token is in the address, so the pages send no referrer.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from carebase.errors import FormAnswered, NotFound, SurveyClosed, ValidationFailed
from carebase.inbox import surveys
from carebase.inbox.surveys import OpenSurvey
from carebase.web.actions import field_messages, now_of, read, write
from carebase.web.forms import read_form
from carebase.web.presession import PresessionToken, check_presession
from carebase.web.render import render
from carebase.web.routing import page_router

router = page_router()

LinkToken = Annotated[str, Path(max_length=100)]
PublicKey = Annotated[str, Path(max_length=100)]
_ANSWERED = "This survey has been answered already. Thank you!"
_THANKS = "Thank you! Your answer has been recorded."
_NOT_FOUND = "This survey does not exist. Check the address you were sent."
_SCORE_MESSAGE = "Choose a score from 0 to 10."
_HEADERS = {"Referrer-Policy": "no-referrer"}


class SurveyForm(BaseModel):
    """The survey form: the score as typed (checked by the service) and the comment."""

    score: str = Field(default="", max_length=10)
    comment: str = Field(default="", max_length=surveys.MAX_COMMENT)


def _page(
    request: Request,
    *,
    action: str,
    survey: OpenSurvey | None,
    state: str,
    message: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    token = PresessionToken(request)
    context: dict[str, Any] = {
        "action": action,
        "survey": survey,
        "state": state,
        "message": message,
        "values": values or {},
        "errors": errors or {},
        "csrf_token": token.token,
    }
    response = render(
        request, "surveys/survey.html", context, status_code=status_code, headers=_HEADERS
    )
    token.set_cookie(response)
    return response


def _closed(request: Request, action: str, error: SurveyClosed | NotFound) -> HTMLResponse:
    message = error.message if isinstance(error, SurveyClosed) else _NOT_FOUND
    return _page(
        request,
        action=action,
        survey=None,
        state="closed",
        message=message,
        status_code=error.status_code,
    )


async def _submitted(
    request: Request,
) -> tuple[dict[str, str], int | None, str | None, dict[str, str]]:
    """The posted values, the score and comment when valid, else messages per field."""
    await check_presession(request)
    form = await read_form(request, SurveyForm)
    values = {"score": form.values.get("score", ""), "comment": form.values.get("comment", "")}
    if not form.valid or form.data is None:
        errors = {key: value for key, value in form.errors.items() if key != "csrf_token"}
        if "score" in errors:
            errors["score"] = _SCORE_MESSAGE
        return values, None, None, errors
    try:
        score = surveys.parse_score(form.data.score)
        comment = surveys.check_comment(form.data.comment)
    except ValidationFailed as invalid:
        errors = field_messages(invalid)
        if "score" in errors:
            errors["score"] = _SCORE_MESSAGE
        return values, None, None, errors
    return values, score, comment, {}


@router.get("/f/{token}")
async def link_page(request: Request, token: LinkToken) -> Response:
    """A case's survey through its one-time link."""
    action, now = f"/f/{token}", now_of(request)
    try:
        survey = await read(request, lambda session: surveys.inspect(session, token, now))
    except SurveyClosed as closed:
        return _closed(request, action, closed)
    if survey.answered:
        return _page(request, action=action, survey=survey, state="answered", message=_ANSWERED)
    return _page(request, action=action, survey=survey, state="open")


@router.post("/f/{token}")
async def answer_link(request: Request, token: LinkToken) -> Response:
    """Answer a case's survey, once."""
    action, now = f"/f/{token}", now_of(request)
    values, score, comment, errors = await _submitted(request)
    try:
        if score is None:
            survey = await read(request, lambda session: surveys.inspect(session, token, now))
            if survey.answered:
                raise FormAnswered()
            return _page(
                request,
                action=action,
                survey=survey,
                state="open",
                values=values,
                errors=errors,
                status_code=422,
            )
        await write(request, lambda session: surveys.answer(session, token, score, comment, now))
    except SurveyClosed as closed:
        return _closed(request, action, closed)
    except FormAnswered:
        survey = await read(request, lambda session: surveys.inspect(session, token, now))
        return _page(
            request,
            action=action,
            survey=survey,
            state="answered",
            message=_ANSWERED,
            status_code=409,
        )
    return _page(request, action=action, survey=None, state="thanks", message=_THANKS)


@router.get("/forms/{public_key}")
async def form_page(request: Request, public_key: PublicKey) -> Response:
    """A form through its public form_url."""
    action = f"/forms/{public_key}"
    try:
        survey = await read(request, lambda session: surveys.inspect_public(session, public_key))
    except (SurveyClosed, NotFound) as closed:
        return _closed(request, action, closed)
    return _page(request, action=action, survey=survey, state="open")


@router.post("/forms/{public_key}")
async def answer_form(request: Request, public_key: PublicKey) -> Response:
    """Answer a form through its public form_url."""
    action, now = f"/forms/{public_key}", now_of(request)
    values, score, comment, errors = await _submitted(request)
    try:
        if score is None:
            survey = await read(
                request, lambda session: surveys.inspect_public(session, public_key)
            )
            return _page(
                request,
                action=action,
                survey=survey,
                state="open",
                values=values,
                errors=errors,
                status_code=422,
            )
        await write(
            request,
            lambda session: surveys.answer_public(session, public_key, score, comment, now),
        )
    except (SurveyClosed, NotFound) as closed:
        return _closed(request, action, closed)
    return _page(request, action=action, survey=None, state="thanks", message=_THANKS)
