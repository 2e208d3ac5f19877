"""Settings > Users (managers only): `/settings` and `/settings/users`.

The list (name, email, role, groups, last sign-in in the viewer's zone; active, archived or
all), a new user (its one-time sign-in link shown once, with a copy button), editing
(name, email, role, time zone, groups), archive with Undo (restore), a new sign-in link, and
sign out everywhere. The same services as the admin API and `carebase user`.

A manager cannot archive itself or change its own role here, so the console always keeps
a manager who can reach Settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import parse_qs, urlencode

from fastapi import Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from carebase.auth.sessions import ActiveSession
from carebase.auth.signin_links import IssuedLink
from carebase.errors import Conflict, ValidationFailed
from carebase.users import rules, service
from carebase.users.schemas import UserOut
from carebase.web.actions import (
    EMAIL_MESSAGE,
    TIMEZONE_MESSAGE,
    Toast,
    field_messages,
    now_of,
    read,
    settings_of,
    write,
)
from carebase.web.forms import Form, read_form
from carebase.web.pages.account import timezone_choices
from carebase.web.render import render
from carebase.web.routing import page_router
from carebase.web.session import Manager

router = page_router()

UserId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Show = Literal["active", "archived", "all"]
ROLE_CHOICES = [
    ("agent", "Agent: reads profiles, writes notes"),
    ("manager", "Manager: also manages settings"),
]
SETTINGS_TABS = (
    ("Users", "/settings/users"),
    ("Groups", "/settings/groups"),
    ("API tokens", "/settings/tokens"),
    ("Inbox", "/settings/inbox"),
)


def created_by(active: ActiveSession) -> str:
    """Who did it, as users and links record it: `user:<id>`."""
    return f"user:{active.user.id}"


class UserForm(BaseModel):
    """A user's fields, as the new-user and edit forms post them."""

    email: str = Field(min_length=1, max_length=320)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(default="", max_length=100)
    role: Literal["agent", "manager"]
    timezone: str = Field(min_length=1, max_length=64)
    groups: list[int] = Field(default_factory=list, max_length=200)

    # Checked here as well as by the service, so one submission shows every message.
    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if rules.normalise_email(value) is None:
            raise ValueError(EMAIL_MESSAGE)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        if rules.canonical_timezone(value) is None:
            raise ValueError(TIMEZONE_MESSAGE)
        return value


@dataclass(frozen=True)
class UserRow:
    """A user as the list shows it."""

    user: UserOut
    group_names: list[str]

    @property
    def name(self) -> str:
        """First and last name."""
        return f"{self.user.first_name} {self.user.last_name}".strip()


@dataclass(frozen=True)
class Directory:
    """Users and the active groups, read in one unit of work."""

    rows: list[UserRow]
    groups: list[tuple[int, str]]


def _directory(session: Session, now: datetime) -> Directory:
    groups = [(g.id, g.name) for g in service.list_groups(session)]
    names = dict(groups)
    users = service.list_users(session)
    described = service.describe_users(session, users, now=now)
    rows = [UserRow(u, [names[g] for g in u.groups if g in names]) for u in described]
    return Directory(rows, groups)


def _full_name(user: UserOut) -> str:
    return f"{user.first_name} {user.last_name}".strip()


def _toast(done: str | None, row: UserRow | None, count: int | None) -> Toast | None:
    if done is None or row is None:
        return None
    name = row.name
    if done == "archived" and row.user.archived:
        return Toast(
            f"Archived {name}: signed out and unable to sign in.",
            undo_action=f"/settings/users/{row.user.id}/restore",
        )
    if done == "restored":
        return Toast(f"Restored {name}: they can sign in with their password again.")
    if done == "saved":
        return Toast(f"Saved {name}.")
    if done == "signed-out":
        ended = count or 0
        return Toast(f"Signed {name} out everywhere ({ended} session{'s' if ended != 1 else ''}).")
    return None


@router.get("/settings")
async def settings_home(_manager: Manager) -> RedirectResponse:
    """Settings start with the users."""
    return RedirectResponse("/settings/users", status_code=303)


@router.get("/settings/users")
async def users_page(
    request: Request,
    _manager: Manager,
    show: Show = "active",
    done: Annotated[str | None, Query(max_length=20)] = None,
    user_id: Annotated[int | None, Query(alias="id", ge=1, le=2**63 - 1)] = None,
    count: Annotated[int | None, Query(alias="n", ge=0, le=100_000)] = None,
) -> HTMLResponse:
    """Everyone who can sign in (or could: archived)."""
    now = now_of(request)
    directory = await read(request, lambda session: _directory(session, now))
    rows = [
        row
        for row in directory.rows
        if show == "all" or (row.user.archived == (show == "archived"))
    ]
    done_row = next((r for r in directory.rows if r.user.id == user_id), None)
    counts = {
        "active": sum(not r.user.archived for r in directory.rows),
        "archived": sum(r.user.archived for r in directory.rows),
        "all": len(directory.rows),
    }
    return render(
        request,
        "pages/settings/users.html",
        {
            "tabs": SETTINGS_TABS,
            "rows": rows,
            "show": show,
            "counts": counts,
            "toast": _toast(done, done_row, count),
        },
    )


def _checked(body: bytes, name: str) -> list[str]:
    return parse_qs(body.decode("utf-8", "replace")).get(name, [])


def _form_page(
    request: Request,
    *,
    groups: list[tuple[int, str]],
    values: dict[str, str],
    checked: list[str],
    errors: dict[str, str],
    editing: UserOut | None = None,
    is_self: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    zones, zone_groups = timezone_choices(values.get("timezone", ""))
    return render(
        request,
        "pages/settings/user_form.html",
        {
            "tabs": SETTINGS_TABS,
            "values": values,
            "checked": checked,
            "errors": errors,
            "groups": groups,
            "roles": ROLE_CHOICES,
            "zones": zones,
            "zone_groups": zone_groups,
            "editing": editing,
            "is_self": is_self,
        },
        status_code=status_code,
    )


def _service_errors(error: ValidationFailed | Conflict) -> dict[str, str]:
    if isinstance(error, ValidationFailed):
        return field_messages(error)
    reason = error.details.get("reason") if isinstance(error.details, dict) else None
    if reason == "email_taken":
        return {"email": "Another user has this email address."}
    return {"__form__": error.message}


@router.get("/settings/users/new")
async def new_user_page(request: Request, manager: Manager) -> HTMLResponse:
    """The form for a new user."""
    groups = await read(request, lambda s: [(g.id, g.name) for g in service.list_groups(s)])
    values = {"role": "agent", "timezone": manager.user.timezone}
    return _form_page(request, groups=groups, values=values, checked=[], errors={})


@router.post("/settings/users/new")
async def create_user(request: Request, manager: Manager) -> HTMLResponse:
    """Create the user and show its one-time sign-in link, once."""
    form: Form[UserForm] = await read_form(request, UserForm)
    checked = _checked(await request.body(), "groups")
    groups = await read(request, lambda s: [(g.id, g.name) for g in service.list_groups(s)])
    if not form.valid or form.data is None:
        return _form_page(
            request,
            groups=groups,
            values=form.values,
            checked=checked,
            errors=form.errors,
            status_code=422,
        )
    data = form.data
    settings, now = settings_of(request), now_of(request)

    def create(session: Session) -> tuple[UserOut, IssuedLink]:
        created = service.create_user(
            session,
            settings,
            email=data.email,
            first_name=data.first_name,
            last_name=data.last_name,
            role=data.role,
            timezone=data.timezone,
            groups=data.groups,
            now=now,
            created_by=created_by(manager),
        )
        return service.describe_user(session, created.user, now=now), created.link

    try:
        user, link = await write(request, create)
    except (ValidationFailed, Conflict) as error:
        return _form_page(
            request,
            groups=groups,
            values=form.values,
            checked=checked,
            errors=_service_errors(error),
            status_code=422,
        )
    return _link_page(request, user, link, created=True)


def _link_page(request: Request, user: UserOut, link: IssuedLink, *, created: bool) -> HTMLResponse:
    return render(
        request,
        "pages/settings/user_link.html",
        {
            "tabs": SETTINGS_TABS,
            "subject": user,
            "subject_name": _full_name(user),
            "link": link,
            "created": created,
        },
    )


async def _one(request: Request, user_id: int) -> tuple[UserOut, list[tuple[int, str]]]:
    now = now_of(request)

    def work(session: Session) -> tuple[UserOut, list[tuple[int, str]]]:
        user = service.describe_user(session, service.get_user(session, user_id), now=now)
        return user, [(g.id, g.name) for g in service.list_groups(session)]

    return await read(request, work)


@router.get("/settings/users/{user_id}")
async def edit_user_page(request: Request, manager: Manager, user_id: UserId) -> HTMLResponse:
    """A user's fields, and what can be done to it."""
    user, groups = await _one(request, user_id)
    values = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "timezone": user.timezone,
    }
    return _form_page(
        request,
        groups=groups,
        values=values,
        checked=[str(g) for g in user.groups],
        errors={},
        editing=user,
        is_self=user.id == manager.user.id,
    )


@router.post("/settings/users/{user_id}")
async def save_user(request: Request, manager: Manager, user_id: UserId) -> Response:
    """Save a user's fields."""
    form: Form[UserForm] = await read_form(request, UserForm)
    checked = _checked(await request.body(), "groups")
    user, groups = await _one(request, user_id)
    is_self = user.id == manager.user.id
    errors = dict(form.errors)
    if form.data is not None and is_self and form.data.role != user.role:
        errors["role"] = "You cannot change your own role; ask another manager."
    if errors or form.data is None:
        return _form_page(
            request,
            groups=groups,
            values=form.values,
            checked=checked,
            errors=errors,
            editing=user,
            is_self=is_self,
            status_code=422,
        )
    changes = form.data.model_dump()
    now = now_of(request)
    try:
        await write(request, lambda s: service.update_user(s, user_id, changes, now=now).id)
    except (ValidationFailed, Conflict) as error:
        return _form_page(
            request,
            groups=groups,
            values=form.values,
            checked=checked,
            errors=_service_errors(error),
            editing=user,
            is_self=is_self,
            status_code=422,
        )
    return _back_to_list("saved", user_id)


def _back_to_list(done: str, user_id: int, **extra: int) -> RedirectResponse:
    query = urlencode({"done": done, "id": user_id, **extra})
    return RedirectResponse(f"/settings/users?{query}", status_code=303)


@router.post("/settings/users/{user_id}/archive")
async def archive_user(request: Request, manager: Manager, user_id: UserId) -> RedirectResponse:
    """Archive: the user is signed out and cannot sign in; Undo restores it."""
    if user_id == manager.user.id:
        raise Conflict(
            "You cannot archive yourself; another manager can.", details={"reason": "self"}
        )
    now = now_of(request)
    await write(request, lambda s: service.archive_user(s, user_id, now=now).id)
    return _back_to_list("archived", user_id)


@router.post("/settings/users/{user_id}/restore")
async def restore_user(request: Request, _manager: Manager, user_id: UserId) -> RedirectResponse:
    """Undo an archive."""
    now = now_of(request)
    await write(request, lambda s: service.restore_user(s, user_id, now=now).id)
    return _back_to_list("restored", user_id)


@router.post("/settings/users/{user_id}/sign-in-link")
async def new_sign_in_link(request: Request, manager: Manager, user_id: UserId) -> HTMLResponse:
    """A new one-time sign-in link for the user (its earlier ones stop working), shown once."""
    settings, now = settings_of(request), now_of(request)

    def issue(session: Session) -> tuple[UserOut, IssuedLink]:
        link = service.issue_sign_in_link(
            session, settings, user_id, now=now, created_by=created_by(manager)
        )
        return service.describe_user(session, service.get_user(session, user_id), now=now), link

    user, link = await write(request, issue)
    return _link_page(request, user, link, created=False)


@router.post("/settings/users/{user_id}/sign-out")
async def sign_user_out(request: Request, _manager: Manager, user_id: UserId) -> RedirectResponse:
    """End every session of the user."""
    now = now_of(request)
    ended = await write(request, lambda s: service.sign_out_everywhere(s, user_id, now=now))
    return _back_to_list("signed-out", user_id, n=ended)
