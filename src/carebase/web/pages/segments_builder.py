"""The segment builder (managers): `/segments/new` and `/segments/{id}/edit`, the condition
rows htmx adds, re-renders and removes (`/segments/builder/row`), and the live count
(`POST /segments/preview`).

Every button is also a plain submit: without script, the builder posts itself back with the
row added or removed (`segment_form.apply_action`) and Save works the same; only the live
count needs script. A saved definition the rows cannot hold opens in the JSON editor.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from carebase.errors import Conflict, UnsupportedMediaType, ValidationFailed
from carebase.http.middleware import read_only_post
from carebase.segments import fields as f
from carebase.segments import service
from carebase.segments.schemas import PreviewOut, SegmentOut
from carebase.web import segment_form as sf
from carebase.web import segment_load as sl
from carebase.web import segment_values as sv
from carebase.web.actions import field_messages, now_of, read, write
from carebase.web.forms import FORM_CONTENT_TYPE
from carebase.web.pages.segments import SEGMENT_HEAD, SegmentId, window_limit
from carebase.web.render import render
from carebase.web.routing import page_router
from carebase.web.session import Manager

router = page_router()
# Counting only: no turn of SQLite's single writer, no write transaction.
read_only_post(r"/segments/preview")

MAX_FORM_FIELDS = 2000
# After settling: segments.js has put back what was typed while the row was on its way.
CHANGED = {"HX-Trigger-After-Settle": "segment-changed"}
Mode = Annotated[str | None, Query(max_length=10)]


def _attribute_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for field in f.attribute_fields():
        groups[field.family.capitalize()].append((field.name, field.label))
    return list(groups.items())


def _ops(field: f.AttributeField | f.EventField) -> list[tuple[str, str]]:
    return [(op, sv.operator_word(field.type, op)) for op in field.operators]


def _event_options() -> list[tuple[str, str]]:
    return [(event.name, event.label) for event in f.event_types()]


def _count_options() -> list[tuple[str, str]]:
    return [(op, sv.COUNT_WORDS[op]) for op in f.COUNT_OPERATORS]


def _event_field_options(event: f.EventType) -> list[tuple[str, str]]:
    return [(field.name, field.label) for field in event.fields]


def builder_helpers(request: Request) -> dict[str, Any]:
    """What the builder's templates look fields and words up with."""
    return {
        "ops": _ops,
        "event_options": _event_options,
        "count_options": _count_options,
        "event_field_options": _event_field_options,
        "attribute_groups": _attribute_groups(),
        "event_types": f.event_types(),
        "attribute_field": f.attribute_field,
        "event_type": f.event_type,
        "operator_word": sv.operator_word,
        "value_hint": sv.value_hint,
        "count_words": sv.COUNT_WORDS,
        "presence": f.PRESENCE,
        "window_limit": window_limit(request),
        "group_labels": sf.GROUP_LABELS,
        "segment_head": SEGMENT_HEAD,
    }


async def _pairs(request: Request) -> list[tuple[str, str]]:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != FORM_CONTENT_TYPE:
        raise UnsupportedMediaType(
            details={"content_type": content_type or None, "expected": FORM_CONTENT_TYPE}
        )
    try:
        text = (await request.body()).decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return []


def _zone(request: Request) -> ZoneInfo:
    viewer = getattr(request.state, "viewer", None)
    zone = getattr(viewer, "timezone", None)
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo("UTC")


@dataclass
class Editing:
    """The segment being edited (None: a new one)."""

    segment: SegmentOut | None

    @property
    def action(self) -> str:
        """Where the form posts."""
        return f"/segments/{self.segment.id}/edit" if self.segment else "/segments/new"


def _page(
    request: Request,
    form: sf.BuilderForm,
    editing: Editing,
    *,
    errors: dict[str, str] | None = None,
    refresh_hours: str = "24",
    status_code: int = 200,
) -> HTMLResponse:
    for row in form.rows:
        sf.fit_operators(row)
    return render(
        request,
        "pages/segments/builder.html",
        {
            **builder_helpers(request),
            "form": form,
            "editing": editing.segment,
            "form_action": editing.action,
            "errors": errors or {},
            "refresh_hours": refresh_hours,
        },
        status_code=status_code,
    )


@router.get("/segments/new")
async def new_segment(request: Request, _manager: Manager, mode: Mode = None) -> HTMLResponse:
    """An empty builder with one Must row (or the JSON editor)."""
    if mode == "json":
        form = sl.json_form({"type": "group", "op": "and", "children": []})
    else:
        form = sf.BuilderForm(rows=[sf.new_row("must", "attribute")])
    return _page(request, form, Editing(None))


@router.get("/segments/{segment_id}/edit")
async def edit_segment(
    segment_id: SegmentId, request: Request, _manager: Manager, mode: Mode = None
) -> HTMLResponse:
    """The builder holding a saved segment; the JSON editor when its definition does not
    fit Must / Should / Not (or when asked for)."""
    segment = await read(request, lambda session: service.get_segment(session, segment_id))
    definition = {k: v for k, v in segment.definition.items() if k != "version"}
    fitted = None if mode == "json" else sl.from_definition(definition)
    form = fitted or sl.json_form(definition)
    form.name, form.description = segment.name, segment.description or ""
    return _page(
        request,
        form,
        Editing(segment),
        refresh_hours=str(segment.refresh_every_hours),
        errors={} if fitted or mode == "json" else {"definition_json": NOT_FITTING},
    )


NOT_FITTING = (
    "This definition nests deeper than Must, Should and Not (it was built with the API), "
    "so it opens as JSON. It is checked the same way when you save."
)


@router.post("/segments/new")
async def create_segment(request: Request, manager: Manager) -> Response:
    """Save a new segment, or (without script) do what a builder button asked."""
    return await _submit(request, manager_id=manager.user.id, editing=Editing(None))


@router.post("/segments/{segment_id}/edit")
async def update_segment(segment_id: SegmentId, request: Request, manager: Manager) -> Response:
    """Save the segment's new definition, or do what a builder button asked."""
    segment = await read(request, lambda session: service.get_segment(session, segment_id))
    return await _submit(request, manager_id=manager.user.id, editing=Editing(segment))


def _built(form: sf.BuilderForm, zone: ZoneInfo) -> sf.Built:
    return sf.json_definition(form) if form.mode == "json" else sf.to_definition(form, zone)


def _switch(form: sf.BuilderForm, target: str, zone: ZoneInfo) -> dict[str, str]:
    """Builder → JSON editor (the rows as they are) or back (when the JSON fits)."""
    if target == "json" and form.mode == "builder":
        built = sf.to_definition(form, zone)
        data = built.definition or {"type": "group", "op": "and", "children": []}
        form.mode, form.json_text = "json", sl.json_form(data).json_text
        return {}
    if target == "builder" and form.mode == "json":
        built = sf.json_definition(form)
        fitted = sl.from_definition(built.definition) if built.definition else None
        if fitted is None:
            return built.errors or {"definition_json": NOT_FITTING}
        form.mode, form.rows, form.should_min = "builder", fitted.rows, fitted.should_min
    return {}


async def _submit(request: Request, *, manager_id: int, editing: Editing) -> Response:
    pairs = await _pairs(request)
    action = next((value for name, value in reversed(pairs) if name == "action"), "save")
    refresh_hours = next((v for n, v in pairs if n == "refresh_every_hours"), "24")
    form = sf.read_form(pairs)
    zone = _zone(request)
    if action != "save":
        sf.apply_action(form, action)
        errors = _switch(form, action.removeprefix("to_"), zone) if action.startswith("to_") else {}
        return _page(request, form, editing, errors=errors, refresh_hours=refresh_hours)
    built = _built(form, zone)
    errors = dict(built.errors)
    if not form.name.strip():
        errors["name"] = "Give the segment a name."
    try:
        hours = int(refresh_hours)
    except ValueError:
        errors["refresh_every_hours"] = "Enter a whole number of hours."
        hours = 24
    if errors or built.definition is None:
        return _page(
            request, form, editing, errors=errors, refresh_hours=refresh_hours, status_code=422
        )
    data = {
        "name": form.name.strip(),
        "description": form.description.strip() or None,
        "definition": built.definition,
        "refresh_every_hours": hours,
    }
    now, limit = now_of(request), window_limit(request)

    def work(session: Session) -> SegmentOut:
        if editing.segment is None:
            return service.create_segment(
                session, data, now=now, created_by=f"user:{manager_id}", window_limit_days=limit
            )
        return service.update_segment(
            session, editing.segment.id, data, now=now, window_limit_days=limit
        )

    try:
        saved = await write(request, work)
    except ValidationFailed as invalid:
        errors = _save_problems(invalid, built, json_mode=form.mode == "json")
        return _page(
            request, form, editing, errors=errors, refresh_hours=refresh_hours, status_code=422
        )
    except Conflict as taken:
        return _page(
            request,
            form,
            editing,
            errors={"name": taken.message},
            refresh_hours=refresh_hours,
            status_code=422,
        )
    done = "created" if editing.segment is None else "saved"
    return RedirectResponse(f"/segments/{saved.id}?{urlencode({'done': done})}", status_code=303)


def _save_problems(
    invalid: ValidationFailed, built: sf.Built, *, json_mode: bool
) -> dict[str, str]:
    """The service's 422: definition problems beside their rows, the rest beside fields."""
    details = invalid.details if isinstance(invalid.details, list) else []
    in_definition = [p for p in details if str(p.get("field", "")).startswith("definition")]
    others = [p for p in details if p not in in_definition]
    messages = sf.problem_messages(in_definition, built.paths, json_mode=json_mode)
    if others:
        renamed = {"refresh_every_hours": "refresh_every_hours", "name": "name"}
        messages.update(field_messages(ValidationFailed(details=others), fields=renamed))
    if not messages:
        messages[sf.FORM_LEVEL] = invalid.message
    return messages


# ---- htmx: rows and the live count -------------------------------------------------------


@router.get("/segments/builder/row")
async def builder_row(request: Request, _manager: Manager) -> HTMLResponse:
    """One condition row: a new one (`action=add:<group>:<kind>`), the row sent re-rendered
    for its new field or event (operators that fit), with a where-line added or removed,
    or nothing (`action=remove:<row>`: the row goes)."""
    pairs = list(request.query_params.multi_items())
    action = next((value for name, value in reversed(pairs) if name == "action"), "")
    form = sf.read_form(pairs)
    added = sf.apply_action(form, action)
    row = added or (form.rows[0] if form.rows else None)
    if row is None:
        return HTMLResponse("", headers=CHANGED)
    sf.fit_operators(row)
    return render(
        request,
        "partials/segment_row.html",
        {**builder_helpers(request), "row": row, "errors": {}, "focus_new": added is not None},
        headers=CHANGED,
    )


@router.post("/segments/preview")
async def preview_count(request: Request, _manager: Manager) -> HTMLResponse:
    """How many profiles the form's definition selects now (the live count)."""
    form = sf.read_form(await _pairs(request))
    # Rows still waiting for their attribute or event do not stop the others being counted.
    form.rows = [row for row in form.rows if row.field or row.kind == "event"]
    context: dict[str, Any] = {"counted": None, "problem": None}
    if form.mode == "builder" and not form.rows:
        context["problem"] = "choose a condition to see how many customers match."
        return render(request, "partials/segment_count.html", context)
    built = _built(form, _zone(request))
    if built.definition is None:
        context["problem"] = next(iter(built.errors.values()), "Finish the conditions.")
        return render(request, "partials/segment_count.html", context)
    now, limit, definition = now_of(request), window_limit(request), built.definition

    def work(session: Session) -> PreviewOut:
        return service.preview(session, definition, now=now, window_limit_days=limit)

    try:
        context["counted"] = await read(request, work)
    except ValidationFailed as invalid:
        problems = _save_problems(invalid, built, json_mode=form.mode == "json")
        context["problem"] = next(iter(problems.values()))
        context["problem_count"] = len(problems)
    return render(request, "partials/segment_count.html", context)
