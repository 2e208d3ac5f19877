"""The compact profile beside a helpdesk conversation, and signing in inside the frame.

- `GET /embed/profile?external_id=&email=&phone=`: the profile those keys name (external id,
  then email, then phone), as a page; none found is an empty state with a search link.
- `GET /embed/profile/lookup?…`: the same, as the fragment the Zendesk and Chatwoot pages
  load once their script has read the helpdesk's context.
- `POST /embed/profile/{id}/notes`: add a note (a signed-in carebase user only).
- `GET|POST /embed/sign-in`, `POST /embed/sign-out`: a carebase session kept in the frame's
  partitioned cookie.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from carebase.auth import sessions
from carebase.db.session import Database
from carebase.embeds import lookup
from carebase.embeds.lookup import CompactProfile, LookupKeys
from carebase.errors import InvalidCredentials, TooManyAttempts, ValidationFailed
from carebase.notes import service as notes_service
from carebase.notes.schemas import MAX_BODY
from carebase.settings import Settings
from carebase.users import service as users
from carebase.web.forms import FORM_LEVEL, read_form
from carebase.web.pages.embed_base import (
    EmbedRoute,
    MaybeViewer,
    Viewer,
    Writer,
    clear_embed_cookie,
    from_this_site,
    render_embed,
    safe_embed_next,
    session_cookie_name,
    set_session_cookie,
)
from carebase.web.session import CsrfFailed

router = APIRouter(route_class=EmbedRoute, include_in_schema=False)

KeyParam = Annotated[str | None, Query(max_length=lookup.MAX_KEY_LENGTH * 4)]


def _keys(external_id: str | None, email: str | None, phone: str | None) -> LookupKeys:
    return LookupKeys.of(external_id=external_id, email=email, phone=phone)


def _find(request: Request, keys: LookupKeys) -> CompactProfile | None:
    database: Database = request.app.state.database
    settings: Settings = request.app.state.settings
    now: datetime = request.app.state.clock()
    with database.unit_of_work(write=False) as session:
        return lookup.find(session, keys, now=now, region=settings.default_phone_region)


def panel_context(profile: CompactProfile | None, keys: LookupKeys) -> dict[str, Any]:
    """What the profile fragment (or its empty state) is rendered with."""
    return {"profile": profile, "keys": keys, "note_error": None}


@router.get("/embed/profile")
async def profile_page(
    request: Request,
    viewer: Viewer,
    external_id: KeyParam = None,
    email: KeyParam = None,
    phone: KeyParam = None,
) -> HTMLResponse:
    """The compact profile as a page of its own."""
    keys = _keys(external_id, email, phone)
    profile = await run_in_threadpool(_find, request, keys)
    return render_embed(request, "embed/profile.html", panel_context(profile, keys))


@router.get("/embed/profile/lookup")
async def profile_lookup(
    request: Request,
    viewer: Viewer,
    external_id: KeyParam = None,
    email: KeyParam = None,
    phone: KeyParam = None,
) -> HTMLResponse:
    """The compact profile (or the empty state) as a fragment for the host pages."""
    keys = _keys(external_id, email, phone)
    profile = await run_in_threadpool(_find, request, keys)
    return render_embed(request, "embed/lookup.html", panel_context(profile, keys))


class NoteForm(BaseModel):
    """A note added from the panel."""

    body: str = Field(min_length=1, max_length=MAX_BODY)


@router.post("/embed/profile/{profile_id}/notes")
async def add_note(request: Request, profile_id: str, viewer: Writer) -> HTMLResponse:
    """Add a note as the signed-in user; answers the notes section again."""
    assert viewer.session is not None
    author = viewer.session.user.id
    form = await read_form(request, NoteForm)
    database: Database = request.app.state.database
    now: datetime = request.app.state.clock()
    error: str | None = None
    if form.data is None:
        error = form.errors.get("body") or next(iter(form.errors.values()), "Fill this in.")

    def write_and_read() -> tuple[CompactProfile, str | None]:
        problem = error
        if problem is None:
            assert form.data is not None
            try:
                with database.unit_of_work() as session:
                    notes_service.write(
                        session, profile_id, author_id=author, body=form.data.body, now=now
                    )
            except ValidationFailed as invalid:
                problem = _note_problem(invalid)
        with database.unit_of_work(write=False) as session:
            return lookup.condense(session, profile_id, now=now), problem

    profile, problem = await run_in_threadpool(write_and_read)
    context = panel_context(profile, LookupKeys())
    context["note_error"] = problem
    context["note_value"] = form.values.get("body", "") if problem else ""
    context["note_added"] = problem is None
    return render_embed(request, "embed/_notes.html", context, status_code=422 if problem else 200)


def _note_problem(invalid: ValidationFailed) -> str:
    """The service's refusal of a note, in words for the form."""
    details = invalid.details if isinstance(invalid.details, list) else []
    for detail in details:
        if isinstance(detail, dict) and detail.get("field") == "body":
            return f"The note {detail.get('reason')}."
    return invalid.message


# Signing in inside the frame.


class SignInForm(BaseModel):
    """The in-frame sign-in form."""

    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1000)
    next: str = ""


@router.get("/embed/sign-in")
async def sign_in_page(
    request: Request,
    viewer: MaybeViewer,
    next_page: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
) -> Response:
    """The sign-in form, inside the frame (a signed-in user goes straight back)."""
    target = safe_embed_next(next_page)
    if viewer is not None and viewer.session is not None:
        return RedirectResponse(target, status_code=303)
    return render_embed(
        request,
        "embed/sign_in.html",
        {"return_to": target, "values": {}, "errors": {}, "message": None},
    )


@router.post("/embed/sign-in")
async def sign_in(request: Request) -> Response:
    """Check the password and keep the session in the frame's partitioned cookie."""
    settings: Settings = request.app.state.settings
    if not from_this_site(request):
        raise CsrfFailed()
    form = await read_form(request, SignInForm, secret=frozenset({"password"}))
    target = safe_embed_next(form.values.get("next"))

    def again(
        status: int, errors: dict[str, str], headers: dict[str, str] | None = None
    ) -> Response:
        return render_embed(
            request,
            "embed/sign_in.html",
            {"return_to": target, "values": form.values, "errors": errors, "message": None},
            status_code=status,
            headers=headers,
        )

    if form.data is None:
        return again(422, form.errors)
    data = form.data
    try:
        signed_in = await run_in_threadpool(
            lambda: users.sign_in(
                request.app.state.database,
                settings,
                email=data.email,
                password=data.password,
                ip=request.client.host if request.client else None,
                user_agent=request.headers.get("user-agent"),
                now=request.app.state.clock(),
            )
        )
    except InvalidCredentials as refused:
        return again(401, {FORM_LEVEL: refused.message})
    except TooManyAttempts as throttled:
        return again(429, {FORM_LEVEL: throttled.message}, throttled.headers)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, settings, signed_in.session)
    return response


class SignOutForm(BaseModel):
    """The sign-out button's form."""

    next: str = ""


@router.post("/embed/sign-out")
async def sign_out(request: Request, viewer: Writer) -> Response:
    """End the session signed in inside the frame (a console session is signed out in the
    console)."""
    assert viewer.session is not None
    settings: Settings = request.app.state.settings
    form = await read_form(request, SignOutForm)
    target = safe_embed_next(form.values.get("next"))
    if viewer.via == "embed":
        database: Database = request.app.state.database
        now: datetime = request.app.state.clock()
        session_id = viewer.session.id

        def revoke() -> None:
            with database.unit_of_work() as session:
                sessions.revoke(session, session_id, now=now)

        await run_in_threadpool(revoke)
    response = RedirectResponse(target, status_code=303)
    clear_embed_cookie(response, settings, session_cookie_name(settings))
    return response
