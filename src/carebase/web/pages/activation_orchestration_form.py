"""The orchestration form in the console: new and edit (source, segment attributes, mapping
rows added without script, sync mode from the destination's kind, manual or cron schedule in
an IANA zone with its next fire times previewed as it is typed), for managers only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from carebase.activation import orchestrations
from carebase.activation.kinds import KINDS
from carebase.activation.schemas import DestinationOut, OrchestrationIn, OrchestrationOut
from carebase.errors import Conflict, ValidationFailed
from carebase.web.actions import now_of, read, settings_of, write
from carebase.web.forms import FORM_LEVEL, read_form
from carebase.web.pages.account import timezone_choices
from carebase.web.pages.activation_shared import (
    Named,
    all_destinations,
    form_problems,
    source_choices,
)
from carebase.web.pages.activation_words import MODES, preview_context
from carebase.web.pages.segments import attribute_choices
from carebase.web.pages.settings_users import created_by
from carebase.web.render import render
from carebase.web.routing import page_router
from carebase.web.session import Manager

router = page_router()

OrchestrationId = Annotated[str, Path(min_length=1, max_length=40)]
# The form's inputs, and what the service calls them.
FORM_NAMES = {"name", "destination_id", "source", "attributes", "mapping", "sync_mode"}
RENAMES = {
    "source.id": "source",
    "source.type": "source",
    "source.attributes": "attributes",
    "schedule.cron": "cron",
    "schedule.timezone": "timezone",
    "schedule.type": "schedule_type",
    "schedule": "cron",
}


class OrchestrationForm(BaseModel):
    """The orchestration form as posted (mapping rows as two parallel lists)."""

    name: str = Field(default="", max_length=200)
    destination_id: str = Field(default="", max_length=40)
    source: str = Field(default="", max_length=100)
    attributes: list[str] = Field(default_factory=list, max_length=200)
    map_field: list[str] = Field(default_factory=list, max_length=200)
    map_column: list[str] = Field(default_factory=list, max_length=200)
    sync_mode: str = Field(default="upsert", max_length=20)
    schedule_type: Literal["manual", "cron"] = "manual"
    cron: str = Field(default="", max_length=120)
    timezone: str = Field(default="UTC", max_length=64)
    enabled: str = Field(default="", max_length=10)
    action: str = Field(default="save", max_length=20)


@dataclass(frozen=True)
class FormChoices:
    """What the orchestration form offers, read in one unit of work."""

    destinations: list[DestinationOut]
    segments: list[Named]
    queries: list[Named]


def _choices_reader(request: Request) -> Callable[[Session], FormChoices]:
    settings = settings_of(request)

    def choices(session: Session) -> FormChoices:
        segment_list, query_list = source_choices(session)
        return FormChoices(all_destinations(session, settings), segment_list, query_list)

    return choices


def _modes_for(choices: FormChoices, destination_id: str) -> list[tuple[str, str]]:
    """The sync modes of the chosen destination's kind (all of them before one is chosen)."""
    chosen = next((d for d in choices.destinations if d.id == destination_id), None)
    kind = KINDS.get(chosen.kind) if chosen else None
    modes = kind.modes if kind else tuple(MODES)
    return [(mode, MODES.get(mode, mode)) for mode in modes]


def _fields_for(choices: FormChoices, destination_id: str) -> tuple[tuple[str, str], ...]:
    chosen = next((d for d in choices.destinations if d.id == destination_id), None)
    kind = KINDS.get(chosen.kind) if chosen else None
    return kind.fields if kind else ()


def _mapping_rows(values: OrchestrationForm | None, extra: int = 0) -> list[tuple[str, str]]:
    pairs = list(zip(values.map_field, values.map_column, strict=False)) if values else []
    filled = [(a, b) for a, b in pairs if a.strip() or b.strip()]
    blanks = len(pairs) - len(filled)
    return filled + [("", "")] * max(1, blanks + extra)


def _form_page(
    request: Request,
    choices: FormChoices,
    *,
    values: dict[str, Any],
    posted: OrchestrationForm | None,
    errors: dict[str, str],
    editing: OrchestrationOut | None = None,
    extra_rows: int = 0,
    status_code: int = 200,
) -> HTMLResponse:
    destination_id = str(values.get("destination_id", ""))
    zones, zone_groups = timezone_choices(str(values.get("timezone", "")))
    checked = list(values.get("attributes_list") or [])
    source_groups = [
        ("Segments", [(f"segment:{s.id}", s.name) for s in choices.segments]),
        ("Saved queries", [(f"query:{q.id}", q.name) for q in choices.queries]),
    ]
    mapping = _mapping_rows(posted, extra_rows)
    if posted is None and editing is not None:
        mapping = [*editing.mapping.items(), ("", "")]
    return render(
        request,
        "activation/orchestration_form.html",
        {
            "values": values,
            "errors": errors,
            "editing": editing,
            "action": (
                f"/activation/orchestrations/{editing.id}/edit"
                if editing
                else "/activation/orchestrations/new"
            ),
            "destination_options": [("", "Choose a destination")]
            + [
                (d.id, f"{d.name} ({KINDS[d.kind].title if d.kind in KINDS else d.kind})")
                for d in choices.destinations
            ],
            "source_groups": [("", [("", "Choose a segment or a saved query")]), *source_groups],
            "attribute_options": attribute_choices(),
            "checked_attributes": checked,
            "mapping_rows": mapping,
            "mode_options": _modes_for(choices, destination_id),
            "destination_fields": _fields_for(choices, destination_id),
            "zone_options": zones,
            "zone_groups": zone_groups,
            **preview_context(
                str(values.get("schedule_type", "manual")),
                str(values.get("cron", "")),
                str(values.get("timezone", "UTC")),
                now_of(request),
            ),
        },
        status_code=status_code,
    )


def _viewer_zone(request: Request) -> str:
    viewer = getattr(request.state, "viewer", None)
    zone = getattr(viewer, "timezone", None)
    return str(zone) if isinstance(zone, ZoneInfo) else "UTC"


@router.get("/activation/orchestrations/new")
async def new_orchestration_page(
    request: Request,
    _manager: Manager,
    destination: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """The form for a new orchestration."""
    choices = await read(request, _choices_reader(request))
    values = {
        "destination_id": destination or "",
        "timezone": _viewer_zone(request),
        "schedule_type": "manual",
        "enabled": "on",
    }
    return _form_page(request, choices, values=values, posted=None, errors={})


@router.get("/activation/orchestrations/sync-modes")
async def sync_modes(
    request: Request,
    _manager: Manager,
    destination_id: Annotated[str, Query(max_length=40)] = "",
    sync_mode: Annotated[str, Query(max_length=20)] = "upsert",
) -> HTMLResponse:
    """The sync mode select for the chosen destination's kind (htmx)."""
    choices = await read(request, _choices_reader(request))
    modes = _modes_for(choices, destination_id)
    chosen = sync_mode if sync_mode in dict(modes) else modes[0][0]
    return render(
        request,
        "activation/_sync_mode.html",
        {"mode_options": modes, "values": {"sync_mode": chosen}, "errors": {}},
    )


@router.get("/activation/orchestrations/schedule-preview")
async def schedule_preview(
    request: Request,
    _manager: Manager,
    schedule_type: Annotated[str, Query(max_length=10)] = "manual",
    cron: Annotated[str, Query(max_length=120)] = "",
    timezone: Annotated[str, Query(max_length=64)] = "UTC",
) -> HTMLResponse:
    """The schedule's next fire times, for the form (htmx)."""
    context = preview_context(schedule_type, cron, timezone, now_of(request))
    return render(request, "activation/_schedule_preview.html", context)


def _body(data: OrchestrationForm) -> tuple[OrchestrationIn | None, dict[str, str]]:
    """The service's body from the form, or the form's own problems."""
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = "Fill this in."
    if not data.destination_id:
        errors["destination_id"] = "Choose a destination."
    source_type, _, source_id = data.source.partition(":")
    if source_type not in {"segment", "query"} or not source_id:
        errors["source"] = "Choose a segment or a saved query."
    mapping: dict[str, str] = {}
    for target, column in zip(data.map_field, data.map_column, strict=False):
        target, column = target.strip(), column.strip()
        if not target and not column:
            continue
        if not target or not column:
            errors.setdefault("mapping", "Fill in both sides of each mapping row, or neither.")
        elif target in mapping:
            errors.setdefault("mapping", f"The field {target} is mapped twice.")
        else:
            mapping[target] = column
    if data.schedule_type == "cron" and not data.cron.strip():
        errors["cron"] = "Type a cron expression, or choose to run only when asked."
    if errors:
        return None, errors
    schedule: dict[str, Any] = (
        {"type": "cron", "cron": data.cron.strip(), "timezone": data.timezone}
        if data.schedule_type == "cron"
        else {"type": "manual"}
    )
    try:
        body = OrchestrationIn.model_validate(
            {
                "name": data.name.strip(),
                "destination_id": data.destination_id,
                "source": {
                    "type": source_type,
                    "id": source_id,
                    "attributes": data.attributes if source_type == "segment" else [],
                },
                "mapping": mapping,
                "sync_mode": data.sync_mode,
                "schedule": schedule,
                "enabled": data.enabled == "on",
            }
        )
    except ValueError:
        return None, {FORM_LEVEL: "The form could not be read; check each field."}
    return body, {}


async def _submit(request: Request, manager: Manager, editing: OrchestrationOut | None) -> Response:
    form = await read_form(request, OrchestrationForm)
    choices = await read(request, _choices_reader(request))
    values: dict[str, Any] = dict(form.values)
    data = form.data
    if data is not None:
        values["attributes_list"] = data.attributes
        values["enabled"] = data.enabled
    if data is None or data.action == "add_mapping":
        return _form_page(
            request,
            choices,
            values=values,
            posted=data,
            errors=form.errors,
            editing=editing,
            extra_rows=1,
            status_code=422 if data is None else 200,
        )
    body, errors = _body(data)
    if body is None:
        return _form_page(
            request,
            choices,
            values=values,
            posted=data,
            errors=errors,
            editing=editing,
            status_code=422,
        )
    now, by = now_of(request), created_by(manager)

    def save(session: Session) -> OrchestrationOut:
        if editing is None:
            return orchestrations.create_orchestration(session, body, now=now, created_by=by)
        return orchestrations.update_orchestration(session, editing.id, body, now=now)

    try:
        saved = await write(request, save)
    except ValidationFailed as invalid:
        errors = form_problems(invalid, FORM_NAMES, renames=RENAMES)
        return _form_page(
            request,
            choices,
            values=values,
            posted=data,
            errors=errors,
            editing=editing,
            status_code=422,
        )
    except Conflict as conflict:
        return _form_page(
            request,
            choices,
            values=values,
            posted=data,
            errors={FORM_LEVEL: conflict.message},
            editing=editing,
            status_code=409,
        )
    done = "saved" if editing else "created"
    return RedirectResponse(
        f"/activation/orchestrations/{saved.id}?{urlencode({'done': done})}", status_code=303
    )


@router.post("/activation/orchestrations/new")
async def create_orchestration(request: Request, manager: Manager) -> Response:
    """Create the orchestration (or add a mapping row and show the form again)."""
    return await _submit(request, manager, None)


async def load_orchestration(request: Request, orchestration_id: str) -> OrchestrationOut:
    """One orchestration, read in its own unit of work."""
    return await read(
        request, lambda session: orchestrations.get_orchestration(session, orchestration_id)
    )


@router.get("/activation/orchestrations/{orchestration_id}/edit")
async def edit_orchestration_page(
    orchestration_id: OrchestrationId, request: Request, _manager: Manager
) -> HTMLResponse:
    """The orchestration's form, filled in."""
    editing = await load_orchestration(request, orchestration_id)
    choices = await read(request, _choices_reader(request))
    values = {
        "name": editing.name,
        "destination_id": editing.destination_id,
        "source": f"{editing.source.type}:{editing.source.id}",
        "attributes_list": list(editing.source.attributes),
        "sync_mode": editing.sync_mode,
        "schedule_type": editing.schedule.type,
        "cron": editing.schedule.cron or "",
        "timezone": editing.schedule.timezone or _viewer_zone(request),
        "enabled": "on" if editing.enabled else "",
    }
    return _form_page(request, choices, values=values, posted=None, errors={}, editing=editing)


@router.post("/activation/orchestrations/{orchestration_id}/edit")
async def update_orchestration(
    orchestration_id: OrchestrationId, request: Request, manager: Manager
) -> Response:
    """Save the orchestration (its schedule is re-planned by the service)."""
    editing = await load_orchestration(request, orchestration_id)
    return await _submit(request, manager, editing)
