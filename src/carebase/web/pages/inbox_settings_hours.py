"""Settings > Inbox > Business hours (managers only): when the team works, for SLAs measured
in business time. A schedule has an IANA zone, intervals per weekday (an end at or before
its start runs past midnight) and holidays (a whole day, or some hours of it). The form is
rows of inputs; each problem the service names (`intervals.2.end`) is shown beside the
input of the row it came from. The service is `inbox.policies` (business hours part).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from carebase.errors import Conflict, ValidationFailed
from carebase.inbox import policies
from carebase.models.inbox import BusinessHours
from carebase.web.actions import Toast, now_of, read, sentence, write
from carebase.web.forms import FORM_LEVEL, read_form
from carebase.web.pages.inbox_settings_frame import done_redirect, render_inbox, toast_for
from carebase.web.routing import page_router
from carebase.web.session import Manager

router = page_router()

HoursId = Annotated[str, Path(min_length=1, max_length=40)]
Done = Annotated[str | None, Query(max_length=20)]
Name = Annotated[str | None, Query(max_length=300)]

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
BLANK_INTERVALS = 3
BLANK_HOLIDAYS = 2
MAX_ROWS = 60
_WORDS = {
    "created": "Created the business hours {name}. Choose them on an SLA policy to use them.",
    "saved": "Saved the business hours {name}. Mentions already received keep their targets.",
    "deleted": "Deleted the business hours {name}.",
}
_PROBLEM = re.compile(r"^(intervals|holidays)\.(\d+)(?:\.(\w+))?$")
_Rows = Annotated[list[str], Field(default_factory=list, max_length=MAX_ROWS)]


class HoursForm(BaseModel):
    """A schedule as the form sends it: a name, a zone, and rows of inputs."""

    name: str = Field(default="", max_length=200)
    timezone: str = Field(default="", max_length=64)
    interval_weekday: _Rows
    interval_start: _Rows
    interval_end: _Rows
    holiday_date: _Rows
    holiday_name: _Rows
    holiday_start: _Rows
    holiday_end: _Rows


@dataclass
class Editor:
    """What the form shows: its values as rows, and a message per input id."""

    name: str = ""
    timezone: str = ""
    intervals: list[dict[str, str]] = field(default_factory=list)
    holidays: list[dict[str, str]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def _cell(values: list[str], index: int) -> str:
    return values[index].strip() if index < len(values) else ""


def _from_form(data: HoursForm) -> tuple[Editor, dict[str, Any], list[int], list[int]]:
    """The editor's rows, the service's values, and which row each service item came from."""
    editor = Editor(name=data.name, timezone=data.timezone)
    intervals: list[dict[str, Any]] = []
    interval_rows: list[int] = []
    for row in range(len(data.interval_start)):
        cells = {
            "weekday": _cell(data.interval_weekday, row),
            "start": _cell(data.interval_start, row),
            "end": _cell(data.interval_end, row),
        }
        editor.intervals.append(cells)
        if not cells["start"] and not cells["end"]:
            continue  # a blank row
        weekday = int(cells["weekday"]) if cells["weekday"].isdigit() else -1
        intervals.append({"weekday": weekday, "start": cells["start"], "end": cells["end"]})
        interval_rows.append(row)
    holidays: list[dict[str, Any]] = []
    holiday_rows: list[int] = []
    for row in range(len(data.holiday_date)):
        cells = {
            "date": _cell(data.holiday_date, row),
            "name": _cell(data.holiday_name, row),
            "start": _cell(data.holiday_start, row),
            "end": _cell(data.holiday_end, row),
        }
        editor.holidays.append(cells)
        if not any(cells.values()):
            continue
        holidays.append(
            {
                "date": cells["date"],
                "name": cells["name"],
                "start": cells["start"] or None,
                "end": cells["end"] or None,
            }
        )
        holiday_rows.append(row)
    values = {
        "name": data.name,
        "timezone": data.timezone.strip(),
        "intervals": intervals,
        "holidays": holidays,
    }
    return editor, values, interval_rows, holiday_rows


def _from_row(hours: BusinessHours) -> Editor:
    return Editor(
        name=hours.name,
        timezone=hours.timezone,
        intervals=[
            {"weekday": str(i["weekday"]), "start": i["start"], "end": i["end"]}
            for i in hours.intervals
        ],
        holidays=[
            {
                "date": h["date"],
                "name": h.get("name") or "",
                "start": h.get("start") or "",
                "end": h.get("end") or "",
            }
            for h in hours.holidays
        ],
    )


def _errors(
    error: ValidationFailed | Conflict, interval_rows: list[int], holiday_rows: list[int]
) -> dict[str, str]:
    """The service's problems as messages by input id (`interval-2-end`)."""
    if isinstance(error, Conflict):
        return {"name": sentence(error.message)}
    messages: dict[str, str] = {}
    details: Any = error.details
    for item in details if isinstance(details, list) else []:
        if not isinstance(item, dict):
            continue
        name, reason = str(item.get("field", "")), sentence(str(item.get("reason", "")))
        found = _PROBLEM.match(name)
        if found:
            kind, index, part = found.group(1), int(found.group(2)), found.group(3)
            rows = interval_rows if kind == "intervals" else holiday_rows
            row = rows[index] if index < len(rows) else 0
            if reason.startswith("Overlaps interval"):
                reason = "Overlaps another interval of this schedule."
            default = "start" if kind == "intervals" else "date"
            name = f"{kind[:-1]}-{row}-{part or default}"
        elif name not in {"name", "timezone", "intervals", "holidays"}:
            name = FORM_LEVEL
        messages.setdefault(name, reason)
    return messages or {FORM_LEVEL: sentence(error.message)}


def _summary(hours: BusinessHours) -> str:
    """`Mon, Tue 09:00 to 17:00; Sat 10:00 to 14:00`: intervals grouped by their times."""
    by_time: dict[tuple[str, str], list[int]] = {}
    for item in hours.intervals:
        by_time.setdefault((item["start"], item["end"]), []).append(int(item["weekday"]))
    parts = []
    for (start, end), days in by_time.items():
        names = ", ".join(WEEKDAYS[d][:3] for d in sorted(set(days)))
        parts.append(f"{names} {start} to {end}")
    return "; ".join(parts) or "—"


def _page(
    request: Request,
    editor: Editor,
    *,
    editing: tuple[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    intervals = [*editor.intervals]
    intervals += [{"weekday": "0", "start": "", "end": ""}] * BLANK_INTERVALS
    holidays = [*editor.holidays]
    holidays += [{"date": "", "name": "", "start": "", "end": ""}] * BLANK_HOLIDAYS
    return render_inbox(
        request,
        "inbox_settings/hours_form.html",
        {
            "editor": editor,
            "errors": editor.errors,
            "intervals": intervals,
            "holidays": holidays,
            "weekdays": list(enumerate(WEEKDAYS)),
            "editing": editing,
            "action": (
                f"/settings/inbox/business-hours/{editing[0]}"
                if editing
                else "/settings/inbox/business-hours/new"
            ),
        },
        status_code=status_code,
    )


@dataclass(frozen=True)
class HoursRow:
    """A schedule in the list."""

    id: str
    name: str
    timezone: str
    summary: str
    holidays: int


async def _list(
    request: Request, toast: Toast | None, *, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    def work(session: Session) -> list[HoursRow]:
        return [
            HoursRow(h.id, h.name, h.timezone, _summary(h), len(h.holidays))
            for h in policies.list_hours(session)
        ]

    return render_inbox(
        request,
        "inbox_settings/hours.html",
        {"rows": await read(request, work), "toast": toast, "error": error},
        status_code=status_code,
    )


@router.get("/settings/inbox/business-hours")
async def hours_page(
    request: Request, _manager: Manager, done: Done = None, name: Name = None
) -> HTMLResponse:
    """Every business hours schedule."""
    return await _list(request, toast_for(done, _WORDS, name or ""))


@router.get("/settings/inbox/business-hours/new")
async def new_hours_page(request: Request, _manager: Manager) -> HTMLResponse:
    """The form for new hours: Monday to Friday, 9 to 5, to start from."""
    editor = Editor(
        timezone="UTC",
        intervals=[{"weekday": str(d), "start": "09:00", "end": "17:00"} for d in range(5)],
    )
    return _page(request, editor)


@router.post("/settings/inbox/business-hours/new")
async def create_hours(request: Request, _manager: Manager) -> Response:
    """Create business hours."""
    form = await read_form(request, HoursForm)
    if form.data is None:
        return _page(request, Editor(errors=form.errors), status_code=422)
    editor, values, interval_rows, holiday_rows = _from_form(form.data)
    now = now_of(request)
    try:
        name = await write(request, lambda s: policies.create_hours(s, values, now).name)
    except (ValidationFailed, Conflict) as error:
        editor.errors = _errors(error, interval_rows, holiday_rows)
        return _page(request, editor, status_code=422)
    return done_redirect("/settings/inbox/business-hours", "created", name)


@router.get("/settings/inbox/business-hours/{hours_id}")
async def edit_hours_page(request: Request, _manager: Manager, hours_id: HoursId) -> HTMLResponse:
    """A schedule's form, filled in."""
    editor = await read(request, lambda s: _from_row(policies.get_hours(s, hours_id)))
    return _page(request, editor, editing=(hours_id, editor.name))


@router.post("/settings/inbox/business-hours/{hours_id}")
async def save_hours(request: Request, _manager: Manager, hours_id: HoursId) -> Response:
    """Save a schedule."""
    current = await read(request, lambda s: policies.get_hours(s, hours_id).name)
    editing = (hours_id, current)
    form = await read_form(request, HoursForm)
    if form.data is None:
        return _page(request, Editor(errors=form.errors), editing=editing, status_code=422)
    editor, values, interval_rows, holiday_rows = _from_form(form.data)
    now = now_of(request)
    try:
        name = await write(request, lambda s: policies.update_hours(s, hours_id, values, now).name)
    except (ValidationFailed, Conflict) as error:
        editor.errors = _errors(error, interval_rows, holiday_rows)
        return _page(request, editor, editing=editing, status_code=422)
    return done_redirect("/settings/inbox/business-hours", "saved", name)


@router.post("/settings/inbox/business-hours/{hours_id}/delete")
async def delete_hours(request: Request, _manager: Manager, hours_id: HoursId) -> Response:
    """Delete a schedule no policy uses (the list says which do, otherwise)."""

    def work(session: Session) -> str:
        name = policies.get_hours(session, hours_id).name
        policies.delete_hours(session, hours_id)
        return name

    try:
        name = await write(request, work)
    except Conflict as refused:
        return await _list(request, None, error=refused.message, status_code=409)
    return done_redirect("/settings/inbox/business-hours", "deleted", name)
