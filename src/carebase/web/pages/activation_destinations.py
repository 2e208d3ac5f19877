"""Activation > Destinations in the console: the list (kind, last check, who uses each), a
create form per kind derived from the kind's models, the secret or public key shown once
after create, a destination's page with "Test connection" step by step, edit, and delete
(refused in words while orchestrations use it).

Who may: every signed-in user reads; managers create, change, test and delete (the API
keeps the same to `activation:write`). The same services as `/v1/destinations`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from carebase.activation import service
from carebase.activation.channel import DestinationKind
from carebase.activation.kinds import KINDS
from carebase.activation.schemas import DestinationIn, DestinationOut, DestinationUpdate
from carebase.errors import Conflict, NotFound, ValidationFailed
from carebase.web.actions import Toast, database_of, now_of, read, settings_of, write
from carebase.web.forms import read_form
from carebase.web.pages.activation_fields import (
    FormField,
    config_values,
    kind_fields,
    label_of,
    split_form,
)
from carebase.web.pages.activation_shared import (
    Named,
    all_destinations,
    form_problems,
    orchestrations_by_destination,
)
from carebase.web.pages.settings_users import created_by
from carebase.web.render import render
from carebase.web.routing import page_router
from carebase.web.session import Manager, SignedIn

router = page_router()

DestinationId = Annotated[str, Path(min_length=1, max_length=40)]
Done = Annotated[str | None, Query(max_length=20)]
KindParam = Annotated[str | None, Query(max_length=20)]


class DestinationForm(BaseModel):
    """The fields every kind shares; the kind's own come from its models."""

    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(min_length=1, max_length=20)


@dataclass(frozen=True)
class DestinationRow:
    """A destination in the list, with the orchestrations that send to it."""

    destination: DestinationOut
    used_by: list[Named]


def _kind(name: str | None) -> DestinationKind:
    kind = KINDS.get(name or "")
    if kind is None:
        raise NotFound(f"No destination kind {name!r}; choose one of {', '.join(KINDS)}.")
    return kind


def _toast(done: str | None, name: str) -> Toast | None:
    words = {
        "created": "Created {name}. Test its connection before the first run.",
        "saved": "Saved {name}.",
        "tested": "Tested the connection to {name}: each step is below.",
        "deleted": "Deleted {name}.",
    }
    return Toast(words[done].format(name=name)) if done in words else None


@router.get("/activation/destinations")
async def destinations_page(
    request: Request,
    active: SignedIn,
    done: Done = None,
    name: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """Every destination: kind, the last connection test, and who sends to it."""

    settings = settings_of(request)

    def work(session: Session) -> list[DestinationRow]:
        used = orchestrations_by_destination(session)
        return [DestinationRow(d, used.get(d.id, [])) for d in all_destinations(session, settings)]

    rows = await read(request, work)
    return render(
        request,
        "activation/destinations.html",
        {
            "destinations": rows,
            "kinds": list(KINDS.values()),
            "kind_titles": {k.name: k.title for k in KINDS.values()},
            "can_edit": active.user.is_manager,
            "toast": _toast(done, name or "the destination"),
        },
    )


def _form_page(
    request: Request,
    kind: DestinationKind,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    editing: DestinationOut | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    config_fields, secret_fields = kind_fields(kind)
    return render(
        request,
        "activation/destination_form.html",
        {
            "kind": kind,
            "kind_fields_list": kind.fields,
            "config_fields": config_fields,
            "secret_fields": secret_fields,
            "values": values,
            "errors": errors,
            "editing": editing,
            "action": (
                f"/activation/destinations/{editing.id}/edit"
                if editing
                else "/activation/destinations/new"
            ),
        },
        status_code=status_code,
    )


@router.get("/activation/destinations/new")
async def new_destination_page(
    request: Request, _manager: Manager, kind: KindParam = None
) -> HTMLResponse:
    """The form for a new destination of one kind."""
    return _form_page(request, _kind(kind), values={}, errors={})


def _form_names(kind: DestinationKind) -> set[str]:
    config_fields, secret_fields = kind_fields(kind)
    fields: list[FormField] = [*config_fields, *secret_fields]
    return {"name", "kind", *(f.name for f in fields)}


def _echoed(values: dict[str, str]) -> dict[str, str]:
    """What a form shows again: never a secret."""
    return {k: v for k, v in values.items() if not k.startswith("secrets.")}


@router.post("/activation/destinations/new")
async def create_destination(request: Request, manager: Manager) -> HTMLResponse:
    """Create the destination; show what was generated (a secret, a public key) once."""
    form = await read_form(request, DestinationForm)
    kind = _kind(form.values.get("kind"))
    values = _echoed(form.values)
    if form.data is None:
        return _form_page(request, kind, values=values, errors=form.errors, status_code=422)
    config, secrets = split_form(form.values, kind)
    body = DestinationIn(name=form.data.name, kind=kind.name, config=config, secrets=secrets)
    now, by, settings = now_of(request), created_by(manager), settings_of(request)
    try:
        created = await write(
            request,
            lambda session: service.create_destination(
                session, body, settings=settings, now=now, created_by=by
            ),
        )
    except ValidationFailed as invalid:
        errors = form_problems(invalid, _form_names(kind))
        return _form_page(request, kind, values=values, errors=errors, status_code=422)
    except Conflict as taken:
        errors = {"name": taken.message}
        return _form_page(request, kind, values=values, errors=errors, status_code=409)
    return _destination_page(
        request, created, [], can_edit=True, toast=_toast("created", created.name)
    )


def _destination_page(
    request: Request,
    destination: DestinationOut,
    used_by: list[Named],
    *,
    can_edit: bool,
    toast: Toast | None,
) -> HTMLResponse:
    kind = KINDS.get(destination.kind)
    return render(
        request,
        "activation/destination.html",
        {
            "destination": destination,
            "used_by": used_by,
            "kind_title": kind.title if kind else destination.kind,
            "shown_once": destination.shown_once,
            "label_of": label_of,
            "can_edit": can_edit,
            "toast": toast,
        },
    )


async def _load(request: Request, destination_id: str) -> tuple[DestinationOut, list[Named]]:
    settings = settings_of(request)

    def work(session: Session) -> tuple[DestinationOut, list[Named]]:
        destination = service.get_destination(session, destination_id, settings=settings)
        return destination, orchestrations_by_destination(session).get(destination_id, [])

    return await read(request, work)


@router.get("/activation/destinations/{destination_id}")
async def destination_page(
    destination_id: DestinationId, request: Request, active: SignedIn, done: Done = None
) -> HTMLResponse:
    """One destination: its settings, public details, last connection test, its users."""
    destination, used_by = await _load(request, destination_id)
    return _destination_page(
        request,
        destination,
        used_by,
        can_edit=active.user.is_manager,
        toast=_toast(done, destination.name),
    )


@router.post("/activation/destinations/{destination_id}/test")
async def check_destination(
    destination_id: DestinationId, request: Request, _manager: Manager
) -> RedirectResponse:
    """Test the connection step by step; the result is kept on the destination."""
    database, settings, now = database_of(request), settings_of(request), now_of(request)
    # The check (network I/O) runs outside any transaction; the service writes its result.
    await run_in_threadpool(service.test_destination, database, destination_id, settings, now)
    return RedirectResponse(
        f"/activation/destinations/{destination_id}?done=tested", status_code=303
    )


@router.get("/activation/destinations/{destination_id}/edit")
async def edit_destination_page(
    destination_id: DestinationId, request: Request, _manager: Manager
) -> HTMLResponse:
    """The destination's form, filled in (secrets blank: kept unless typed again)."""
    destination, _ = await _load(request, destination_id)
    values = {"name": destination.name, **config_values(destination.config)}
    return _form_page(
        request, _kind(destination.kind), values=values, errors={}, editing=destination
    )


@router.post("/activation/destinations/{destination_id}/edit")
async def update_destination(
    destination_id: DestinationId, request: Request, _manager: Manager
) -> Response:
    """Save the destination; secrets left blank keep their stored value."""
    destination, _ = await _load(request, destination_id)
    kind = _kind(destination.kind)
    form = await read_form(request, DestinationForm)
    values = _echoed(form.values)
    if form.data is None:
        return _form_page(
            request, kind, values=values, errors=form.errors, editing=destination, status_code=422
        )
    config, secrets = split_form(form.values, kind)
    body = DestinationUpdate(name=form.data.name, config=config, secrets=secrets or None)
    now, settings = now_of(request), settings_of(request)
    try:
        saved = await write(
            request,
            lambda session: service.update_destination(
                session, destination_id, body, settings=settings, now=now
            ),
        )
    except ValidationFailed as invalid:
        errors = form_problems(invalid, _form_names(kind))
        return _form_page(
            request, kind, values=values, errors=errors, editing=destination, status_code=422
        )
    except Conflict as taken:
        return _form_page(
            request,
            kind,
            values=values,
            errors={"name": taken.message},
            editing=destination,
            status_code=409,
        )
    query = urlencode({"done": "saved"})
    return RedirectResponse(f"/activation/destinations/{saved.id}?{query}", status_code=303)


@router.get("/activation/destinations/{destination_id}/delete")
async def confirm_delete_page(
    destination_id: DestinationId, request: Request, _manager: Manager
) -> HTMLResponse:
    """Ask before deleting; say why it cannot be while orchestrations use it."""
    destination, used_by = await _load(request, destination_id)
    return render(
        request,
        "activation/destination_delete.html",
        {"destination": destination, "used_by": used_by},
    )


@router.post("/activation/destinations/{destination_id}/delete")
async def delete_destination(
    destination_id: DestinationId, request: Request, _manager: Manager
) -> Response:
    """Delete the destination, or explain the 409 (orchestrations still use it)."""
    destination, _ = await _load(request, destination_id)
    try:
        await write(request, lambda session: service.delete_destination(session, destination_id))
    except Conflict:
        destination, used_by = await _load(request, destination_id)
        return render(
            request,
            "activation/destination_delete.html",
            {"destination": destination, "used_by": used_by},
            status_code=409,
        )
    query = urlencode({"done": "deleted", "name": destination.name})
    return RedirectResponse(f"/activation/destinations?{query}", status_code=303)
