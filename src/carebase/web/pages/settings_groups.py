"""Settings > Groups (managers only): list, new, edit, archive with Undo, restore.

An archived group leaves the Activity API and its members' groups, and keeps its members for
a restore (`users.service`). Members are chosen on each user's own page.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from carebase.errors import Conflict, ValidationFailed
from carebase.users import service
from carebase.users.schemas import GroupOut
from carebase.web.actions import Toast, field_messages, now_of, read, write
from carebase.web.forms import Form, read_form
from carebase.web.pages.settings_users import SETTINGS_TABS
from carebase.web.render import render
from carebase.web.routing import page_router
from carebase.web.session import Manager

router = page_router()

GroupId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Show = Literal["active", "archived", "all"]


class GroupForm(BaseModel):
    """A group's fields."""

    name: str = Field(min_length=1, max_length=200)
    comment: str = Field(default="", max_length=2000)
    requires_approval: Literal["", "on"] = ""


def _all_groups(session: Session) -> list[GroupOut]:
    return [
        service.describe_group(session, group)
        for group in service.list_groups(session, include_archived=True)
    ]


def _toast(done: str | None, group: GroupOut | None) -> Toast | None:
    if done is None or group is None:
        return None
    if done == "archived" and group.archived:
        return Toast(
            f"Archived the group {group.name}.",
            undo_action=f"/settings/groups/{group.id}/restore",
        )
    if done == "restored":
        return Toast(f"Restored the group {group.name}, with its members.")
    if done == "saved":
        return Toast(f"Saved the group {group.name}.")
    if done == "created":
        return Toast(f"Created the group {group.name}. Add people to it on their user pages.")
    return None


@router.get("/settings/groups")
async def groups_page(
    request: Request,
    _manager: Manager,
    show: Show = "active",
    done: Annotated[str | None, Query(max_length=20)] = None,
    group_id: Annotated[int | None, Query(alias="id", ge=1, le=2**63 - 1)] = None,
) -> HTMLResponse:
    """The teams users belong to."""
    groups = await read(request, _all_groups)
    shown = [g for g in groups if show == "all" or g.archived == (show == "archived")]
    counts = {
        "active": sum(not g.archived for g in groups),
        "archived": sum(g.archived for g in groups),
        "all": len(groups),
    }
    done_group = next((g for g in groups if g.id == group_id), None)
    return render(
        request,
        "pages/settings/groups.html",
        {
            "tabs": SETTINGS_TABS,
            "groups": shown,
            "show": show,
            "counts": counts,
            "toast": _toast(done, done_group),
        },
    )


def _form_page(
    request: Request,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    editing: GroupOut | None = None,
    members: list[tuple[int, str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "pages/settings/group_form.html",
        {
            "tabs": SETTINGS_TABS,
            "values": values,
            "errors": errors,
            "editing": editing,
            "members": members or [],
        },
        status_code=status_code,
    )


def _service_errors(error: ValidationFailed | Conflict) -> dict[str, str]:
    if isinstance(error, ValidationFailed):
        return field_messages(error)
    return {"name": "Another group has this name."}


@router.get("/settings/groups/new")
async def new_group_page(request: Request, _manager: Manager) -> HTMLResponse:
    """The form for a new group."""
    return _form_page(request, values={}, errors={})


@router.post("/settings/groups/new")
async def create_group(request: Request, _manager: Manager) -> Response:
    """Create a group."""
    form: Form[GroupForm] = await read_form(request, GroupForm)
    if not form.valid or form.data is None:
        return _form_page(request, values=form.values, errors=form.errors, status_code=422)
    data, now = form.data, now_of(request)
    try:
        group_id = await write(
            request,
            lambda s: service.create_group(s, name=data.name, comment=data.comment, now=now).id,
        )
    except (ValidationFailed, Conflict) as error:
        return _form_page(
            request, values=form.values, errors=_service_errors(error), status_code=422
        )
    return RedirectResponse(f"/settings/groups?done=created&id={group_id}", status_code=303)


async def _one(request: Request, group_id: int) -> tuple[GroupOut, list[tuple[int, str]]]:
    def work(session: Session) -> tuple[GroupOut, list[tuple[int, str]]]:
        group = service.describe_group(session, service.get_group(session, group_id))
        users = {u.id: u for u in service.list_users(session)}
        members = [
            (uid, f"{users[uid].first_name} {users[uid].last_name}".strip())
            for uid in group.members
            if uid in users
        ]
        return group, members

    return await read(request, work)


@router.get("/settings/groups/{group_id}")
async def edit_group_page(request: Request, _manager: Manager, group_id: GroupId) -> HTMLResponse:
    """A group's name, comment and members."""
    group, members = await _one(request, group_id)
    values = {"name": group.name, "comment": group.comment}
    if group.requires_approval:
        values["requires_approval"] = "on"
    return _form_page(request, values=values, errors={}, editing=group, members=members)


@router.post("/settings/groups/{group_id}")
async def save_group(request: Request, _manager: Manager, group_id: GroupId) -> Response:
    """Rename a group or change its comment."""
    form: Form[GroupForm] = await read_form(request, GroupForm)
    group, members = await _one(request, group_id)
    if not form.valid or form.data is None:
        return _form_page(
            request,
            values=form.values,
            errors=form.errors,
            editing=group,
            members=members,
            status_code=422,
        )
    changes, now = form.data.model_dump(), now_of(request)
    # An unticked checkbox is not sent: its absence means "no".
    changes["requires_approval"] = changes["requires_approval"] == "on"
    try:
        await write(request, lambda s: service.update_group(s, group_id, changes, now=now).id)
    except (ValidationFailed, Conflict) as error:
        return _form_page(
            request,
            values=form.values,
            errors=_service_errors(error),
            editing=group,
            members=members,
            status_code=422,
        )
    return RedirectResponse(f"/settings/groups?done=saved&id={group_id}", status_code=303)


@router.post("/settings/groups/{group_id}/archive")
async def archive_group(request: Request, _manager: Manager, group_id: GroupId) -> RedirectResponse:
    """Archive a group; Undo restores it."""
    now = now_of(request)
    await write(request, lambda s: service.archive_group(s, group_id, now=now).id)
    return RedirectResponse(f"/settings/groups?done=archived&id={group_id}", status_code=303)


@router.post("/settings/groups/{group_id}/restore")
async def restore_group(request: Request, _manager: Manager, group_id: GroupId) -> RedirectResponse:
    """Undo an archive, members and all."""
    now = now_of(request)
    await write(request, lambda s: service.restore_group(s, group_id, now=now).id)
    return RedirectResponse(f"/settings/groups?done=restored&id={group_id}", status_code=303)
