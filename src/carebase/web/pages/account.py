"""`/account`: the signed-in user's own name, time zone and password, and the browsers it is
signed in on (with "sign out everywhere")."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Annotated

from fastapi import Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field, field_validator

from carebase.auth import sessions
from carebase.auth.sessions import ActiveSession
from carebase.errors import TooManyAttempts, ValidationFailed
from carebase.users import rules, service
from carebase.web.actions import (
    TIMEZONE_MESSAGE,
    Toast,
    client_address,
    database_of,
    field_messages,
    now_of,
    read,
    settings_of,
    write,
)
from carebase.web.forms import FORM_LEVEL, read_form
from carebase.web.render import render
from carebase.web.routing import page_router
from carebase.web.session import SignedIn

router = page_router()

_REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@cache
def _zones_by_region() -> tuple[tuple[str, tuple[str, ...]], ...]:
    zones = zoneinfo.available_timezones()
    return tuple(
        (region, tuple(sorted(z for z in zones if z.startswith(region + "/"))))
        for region in _REGIONS
    )


def timezone_choices(
    current: str,
) -> tuple[list[tuple[str, str]], list[tuple[str, list[tuple[str, str]]]]]:
    """The time zone select's options: UTC (and `current` when the list lacks it), then
    the tz database's zones by region (`Australia/Sydney` shown as `Sydney`)."""
    top = [(rules.DEFAULT_TIMEZONE, "UTC")]
    listed = {z for _, zones in _zones_by_region() for z in zones}
    if current and current != rules.DEFAULT_TIMEZONE and current not in listed:
        top.append((current, current))
    groups = [
        (region, [(zone, zone.split("/", 1)[1].replace("_", " ")) for zone in zones])
        for region, zones in _zones_by_region()
    ]
    return top, groups


class ProfileForm(BaseModel):
    """Your name and time zone."""

    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(default="", max_length=100)
    timezone: str = Field(min_length=1, max_length=64)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        if rules.canonical_timezone(value) is None:
            raise ValueError(TIMEZONE_MESSAGE)
        return value


class PasswordForm(BaseModel):
    """Changing your password."""

    current_password: str = Field(min_length=1, max_length=1000)
    new_password: str = Field(min_length=1, max_length=1000)


@dataclass(frozen=True)
class SessionRow:
    """One browser the user is signed in on."""

    current: bool
    browser: str
    created_at: datetime
    last_seen_at: datetime


def browser_name(user_agent: str | None) -> str:
    """`Chrome on Linux` from a User-Agent header, roughly; `Unknown browser` without one."""
    if not user_agent:
        return "Unknown browser"
    browser = "A browser"
    for marker, name in (
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ):
        if marker in user_agent:
            browser = name
            break
    for marker, name in (
        ("Windows", "Windows"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ):
        if marker in user_agent:
            return f"{browser} on {name}"
    return browser


async def _page(
    request: Request,
    active: ActiveSession,
    *,
    profile_values: dict[str, str] | None = None,
    profile_errors: dict[str, str] | None = None,
    password_errors: dict[str, str] | None = None,
    toast: Toast | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    now = now_of(request)
    user = active.user
    rows = await read(
        request,
        lambda session: [
            SessionRow(
                row.id == active.id,
                browser_name(row.user_agent),
                row.created_at,
                row.last_seen_at,
            )
            for row in sessions.live_sessions(session, user.id, now=now)
        ],
    )
    values = profile_values or {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "timezone": user.timezone,
    }
    zones, zone_groups = timezone_choices(values.get("timezone", user.timezone))
    return render(
        request,
        "pages/account.html",
        {
            "values": values,
            "profile_errors": profile_errors or {},
            "password_errors": password_errors or {},
            "zones": zones,
            "zone_groups": zone_groups,
            "live_sessions": rows,
            "toast": toast,
        },
        status_code=status_code,
        headers=headers,
    )


_DONE = {
    "saved": "Your details are saved.",
}


@router.get("/account")
async def account_page(
    request: Request,
    active: SignedIn,
    done: Annotated[str | None, Query(max_length=20)] = None,
    ended: Annotated[int | None, Query(ge=0, le=100_000)] = None,
) -> HTMLResponse:
    """Your name, time zone and password, and where you are signed in."""
    toast = None
    if done == "password":
        others = ended or 0
        toast = Toast(
            "Your password is changed."
            + (f" {others} other session{'s' if others != 1 else ''} signed out." if others else "")
        )
    elif done in _DONE:
        toast = Toast(_DONE[done])
    return await _page(request, active, toast=toast)


@router.post("/account")
async def save_account(request: Request, active: SignedIn) -> Response:
    """Save your name and time zone."""
    form = await read_form(request, ProfileForm)
    if not form.valid or form.data is None:
        return await _page(
            request,
            active,
            profile_values=form.values,
            profile_errors=form.errors,
            status_code=422,
        )
    changes = form.data.model_dump()
    now = now_of(request)
    try:
        await write(
            request,
            lambda session: service.update_user(session, active.user.id, changes, now=now).id,
        )
    except ValidationFailed as invalid:
        return await _page(
            request,
            active,
            profile_values=form.values,
            profile_errors=field_messages(invalid),
            status_code=422,
        )
    return RedirectResponse("/account?done=saved", status_code=303)


@router.post("/account/password")
async def change_password(request: Request, active: SignedIn) -> Response:
    """Change your password: your other sessions end, this one stays."""
    secret = frozenset({"current_password", "new_password"})
    form = await read_form(request, PasswordForm, secret=secret)
    if not form.valid or form.data is None:
        return await _page(request, active, password_errors=form.errors, status_code=422)
    data = form.data
    try:
        ended = await run_in_threadpool(
            lambda: service.change_password(
                database_of(request),
                settings_of(request),
                user_id=active.user.id,
                current_password=data.current_password,
                new_password=data.new_password,
                keep_session=active.id,
                ip=client_address(request),
                now=now_of(request),
            )
        )
    except TooManyAttempts as refused:
        return await _page(
            request,
            active,
            password_errors={FORM_LEVEL: refused.message},
            status_code=429,
            headers=refused.headers,
        )
    except ValidationFailed as invalid:
        errors = field_messages(invalid)
        if "current_password" in errors:
            errors["current_password"] = "This is not your current password."  # noqa: S105 - a message
        return await _page(request, active, password_errors=errors, status_code=422)
    return RedirectResponse(f"/account?done=password&ended={ended}", status_code=303)
