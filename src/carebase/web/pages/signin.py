"""Signing in and out: `/sign-in`, `/sign-out`, `/sign-out/everywhere`, and
`/set-password/{token}` (the one-time links of invitations and resets).

Sign-in checks the email and password (`users.service.sign_in`: argon2 on a worker thread,
throttled per account and per address), opens a session and sends the browser to `next`
(a path on this site, `safe_next`) or profile search. Every wrong credential gets one
message; a throttled one the 429 message with the minutes to wait. The forms posted before
a session exists are guarded by `carebase.web.presession` (same site, and a token bound to a
cookie); signing out is a session form like any other.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from carebase.auth import sessions
from carebase.auth.signin_links import LinkInfo
from carebase.errors import InvalidCredentials, TooManyAttempts, ValidationFailed
from carebase.inbox import presence
from carebase.users import service
from carebase.users.service import SignedIn as SignedInUser
from carebase.web.actions import (
    client_address,
    database_of,
    field_messages,
    now_of,
    read,
    settings_of,
    write,
)
from carebase.web.errors import SIGN_IN_PATH, safe_next
from carebase.web.forms import FORM_LEVEL, read_form
from carebase.web.presession import PresessionToken, check_presession
from carebase.web.render import render
from carebase.web.routing import page_router
from carebase.web.session import MaybeSignedIn, SignedIn, clear_session_cookie, set_session_cookie

router = page_router()

START_PATH = "/profiles"
# The link's token: 32 random bytes, URL-safe base64 (anything else is refused as unknown).
LinkToken = Annotated[str, Path(max_length=100)]

_SIGNED_OUT = {
    "1": "You have signed out.",
    "everywhere": "You have signed out everywhere: every browser must sign in again.",
}


class SignInForm(BaseModel):
    """The sign-in form."""

    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1000)
    next: str = Field(default="", max_length=2000)


class SetPasswordForm(BaseModel):
    """The form of a one-time link."""

    password: str = Field(min_length=1, max_length=1000)
    password_confirm: str = Field(min_length=1, max_length=1000)


def _sign_in_page(
    request: Request,
    *,
    next_page: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    token = PresessionToken(request)
    response = render(
        request,
        "pages/sign_in.html",
        {
            "next": next_page,
            "values": values or {},
            "errors": errors or {},
            "notice": notice,
            "csrf_token": token.token,
        },
        status_code=status_code,
        headers=headers,
    )
    token.set_cookie(response)
    return response


def _signed_in(request: Request, signed: SignedInUser, target: str) -> RedirectResponse:
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, settings_of(request), signed.session)
    return response


@router.get("/sign-in")
async def sign_in_page(
    request: Request,
    active: MaybeSignedIn,
    next_page: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
    signed_out: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """The sign-in form; someone signed in already goes on to `next`."""
    target = safe_next(next_page, START_PATH)
    if active is not None:
        return RedirectResponse(target, status_code=303)
    return _sign_in_page(
        request,
        next_page=safe_next(next_page),
        notice=_SIGNED_OUT.get(signed_out or ""),
    )


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    """Check the email and password; open a session and go on to `next`."""
    await check_presession(request)
    form = await read_form(request, SignInForm, secret=frozenset({"password"}))
    next_page = safe_next(form.values.get("next"))
    values = {"email": form.values.get("email", "")}
    if not form.valid or form.data is None:
        return _sign_in_page(
            request, next_page=next_page, values=values, errors=form.errors, status_code=422
        )
    data = form.data
    try:
        signed = await run_in_threadpool(
            lambda: service.sign_in(
                database_of(request),
                settings_of(request),
                email=data.email,
                password=data.password,
                ip=client_address(request),
                user_agent=request.headers.get("user-agent"),
                now=now_of(request),
            )
        )
    except TooManyAttempts as refused:
        return _sign_in_page(
            request,
            next_page=next_page,
            values=values,
            errors={FORM_LEVEL: refused.message},
            status_code=429,
            headers=refused.headers,
        )
    except InvalidCredentials as wrong:
        return _sign_in_page(
            request,
            next_page=next_page,
            values=values,
            errors={FORM_LEVEL: wrong.message},
            status_code=422,
        )
    target = safe_next(next_page, START_PATH)
    return _signed_in(request, signed, START_PATH if target == "/" else target)


@router.post("/sign-out")
async def sign_out(request: Request, active: SignedIn) -> RedirectResponse:
    """End this browser's session."""
    now = now_of(request)
    user_id = active.user.id

    def end(session: Session) -> None:
        sessions.revoke(session, active.id, now=now)
        # Signing out takes the agent offline (their claimed, unstarted work back to New).
        presence.on_sign_out(session, user_id, now)

    await write(request, end)
    response = RedirectResponse(f"{SIGN_IN_PATH}?signed_out=1", status_code=303)
    clear_session_cookie(response, settings_of(request))
    return response


@router.post("/sign-out/everywhere")
async def sign_out_everywhere(request: Request, active: SignedIn) -> RedirectResponse:
    """End every session of the signed-in user, this one included."""
    now = now_of(request)
    user_id = active.user.id

    def end(session: Session) -> None:
        service.sign_out_everywhere(session, user_id, now=now)
        presence.on_sign_out(session, user_id, now)

    await write(request, end)
    response = RedirectResponse(f"{SIGN_IN_PATH}?signed_out=everywhere", status_code=303)
    clear_session_cookie(response, settings_of(request))
    return response


def _set_password_page(
    request: Request,
    token: str,
    link: LinkInfo,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    presession = PresessionToken(request)
    response = render(
        request,
        "pages/set_password.html",
        {
            "token": token,
            "link": link,
            "errors": errors or {},
            "csrf_token": presession.token,
        },
        status_code=status_code,
        # The token is in this page's address: never send it on, not even to this site.
        headers={"Referrer-Policy": "no-referrer"},
    )
    presession.set_cookie(response)
    return response


@router.get("/set-password/{token}")
async def set_password_page(request: Request, token: LinkToken) -> HTMLResponse:
    """The form to set a password through a one-time link; 410 when the link is used,
    expired, unknown or its user archived."""
    now = now_of(request)
    link = await read(request, lambda session: service.inspect_link(session, token, now=now))
    return _set_password_page(request, token, link)


@router.post("/set-password/{token}")
async def set_password(request: Request, token: LinkToken) -> Response:
    """Set the password, spend the link and sign in."""
    await check_presession(request)
    now = now_of(request)
    link = await read(request, lambda session: service.inspect_link(session, token, now=now))
    form = await read_form(
        request, SetPasswordForm, secret=frozenset({"password", "password_confirm"})
    )
    if not form.valid or form.data is None:
        return _set_password_page(request, token, link, errors=form.errors, status_code=422)
    data = form.data
    if data.password != data.password_confirm:
        errors = {"password_confirm": "The two passwords are not the same; type it again."}
        return _set_password_page(request, token, link, errors=errors, status_code=422)
    try:
        signed = await run_in_threadpool(
            lambda: service.set_password_with_link(
                database_of(request),
                settings_of(request),
                token=token,
                password=data.password,
                user_agent=request.headers.get("user-agent"),
                now=now,
            )
        )
    except ValidationFailed as invalid:
        errors = field_messages(invalid)
        return _set_password_page(request, token, link, errors=errors, status_code=422)
    response = _signed_in(request, signed, START_PATH)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
