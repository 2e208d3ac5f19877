"""Activation > Orchestrations in the console: the list (source, destination, schedule in
words, next run in the viewer's zone, last run's status), an orchestration's page with Run
now / Dry run / Full resync and its runs, and delete. The form is
`activation_orchestration_form.py`.

Who may: every signed-in user reads; managers create, change, run and delete. The same
services as `/v1/orchestrations` (activation.orchestrations) and its runs
(activation.run_service).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from carebase.activation import orchestrations, run_service, service
from carebase.activation.kinds import KINDS
from carebase.activation.run_schemas import RunOut
from carebase.activation.schemas import DestinationOut, OrchestrationOut
from carebase.errors import Conflict, NotFound
from carebase.settings import Settings
from carebase.web.actions import Toast, now_of, read, settings_of, write
from carebase.web.forms import read_form
from carebase.web.pages.activation_orchestration_form import load_orchestration
from carebase.web.pages.activation_shared import (
    Named,
    all_destinations,
    all_orchestrations,
    source_choices,
)
from carebase.web.pages.activation_words import MODES, run_status, schedule_words
from carebase.web.pages.settings_users import created_by
from carebase.web.render import render
from carebase.web.routing import page_router
from carebase.web.session import Manager, SignedIn

router = page_router()

OrchestrationId = Annotated[str, Path(min_length=1, max_length=40)]
Done = Annotated[str | None, Query(max_length=20)]
Cursor = Annotated[str | None, Query(max_length=300)]
RUNS_PAGE = 20


@dataclass(frozen=True)
class OrchestrationRow:
    """An orchestration in the list, with its words."""

    orchestration: OrchestrationOut
    destination: Named | None
    source: str
    schedule: str
    last_run: RunOut | None


def source_words(orchestration: OrchestrationOut, names: dict[str, str]) -> str:
    """`Segment Unhappy VIPs`, `Saved query Churn risk` (or the id when it is gone)."""
    kind = "Segment" if orchestration.source.type == "segment" else "Saved query"
    return f"{kind} {names.get(orchestration.source.id, orchestration.source.id)}"


def _schedule_of(orchestration: OrchestrationOut) -> str:
    return schedule_words(orchestration.schedule.cron, orchestration.schedule.timezone)


def _source_names(session: Session) -> dict[str, str]:
    segment_list, query_list = source_choices(session)
    return {item.id: item.name for item in [*segment_list, *query_list]}


def last_run(orchestration: OrchestrationOut) -> RunOut | None:
    """The orchestration's last run as a RunOut (the API carries it as a dict)."""
    found: Any = orchestration.last_run
    if found is None:
        return None
    return found if isinstance(found, RunOut) else RunOut.model_validate(found)


def latest_run(session: Session, orchestration: OrchestrationOut) -> RunOut | None:
    """The orchestration's last run: as it carries it, else read from its runs."""
    carried = last_run(orchestration)
    if carried is not None:
        return carried
    runs, _ = run_service.list_runs(session, orchestration.id, limit=1, after=None)
    return runs[0] if runs else None


def run_kind(run: RunOut) -> str:
    """`Dry run`, `Full resync`, `Retry of failed records`, `Scheduled`, `Run now`."""
    if run.dry_run:
        return "Dry run"
    if run.full_resync:
        return "Full resync"
    if run.only_failed or run.trigger == "retry":
        return "Retry of failed records"
    return "Scheduled" if run.trigger == "schedule" else "Run now"


def page_helpers() -> dict[str, Any]:
    """What the activation templates call."""
    return {"status_of": run_status, "run_kind": run_kind, "last_run_of": last_run}


def _toast(done: str | None, name: str) -> Toast | None:
    words = {
        "created": "Created {name}. Try a dry run: it sends nothing.",
        "saved": "Saved {name}.",
        "deleted": "Deleted {name}.",
    }
    return Toast(words[done].format(name=name)) if done in words else None


@router.get("/activation")
async def orchestrations_page(
    request: Request,
    active: SignedIn,
    done: Done = None,
    name: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """Every orchestration: source, destination, schedule, next run, last run."""

    settings = settings_of(request)

    def work(session: Session) -> tuple[list[OrchestrationRow], bool]:
        destinations = {d.id: Named(d.id, d.name) for d in all_destinations(session, settings)}
        names = _source_names(session)
        rows = [
            OrchestrationRow(
                o,
                destinations.get(o.destination_id),
                source_words(o, names),
                _schedule_of(o),
                latest_run(session, o),
            )
            for o in all_orchestrations(session)
        ]
        return rows, bool(destinations)

    rows, has_destinations = await read(request, work)
    return render(
        request,
        "activation/orchestrations.html",
        {
            "orchestrations": rows,
            "has_destinations": has_destinations,
            "can_edit": active.user.is_manager,
            "toast": _toast(done, name or "the orchestration"),
            **page_helpers(),
        },
    )


@dataclass(frozen=True)
class OrchestrationView:
    """What an orchestration's page shows, read in one unit of work."""

    orchestration: OrchestrationOut
    destination: DestinationOut | None
    source: str
    runs: list[RunOut]
    next_cursor: str | None


def _view(
    session: Session, settings: Settings, orchestration_id: str, cursor: str | None
) -> OrchestrationView:
    orchestration = orchestrations.get_orchestration(session, orchestration_id)
    try:
        destination: DestinationOut | None = service.get_destination(
            session, orchestration.destination_id, settings=settings
        )
    except NotFound:
        destination = None
    runs, following = run_service.list_runs(
        session, orchestration_id, limit=RUNS_PAGE, after=cursor
    )
    return OrchestrationView(
        orchestration,
        destination,
        source_words(orchestration, _source_names(session)),
        runs,
        following,
    )


def _orchestration_page(
    request: Request,
    view: OrchestrationView,
    *,
    can_edit: bool,
    toast: Toast | None = None,
    run_error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    orchestration = view.orchestration
    kind = KINDS.get(view.destination.kind) if view.destination else None
    next_runs = None
    if view.next_cursor:
        next_runs = f"/activation/orchestrations/{orchestration.id}?" + urlencode(
            {"cursor": view.next_cursor}
        )
    return render(
        request,
        "activation/orchestration.html",
        {
            "orchestration": orchestration,
            "destination": view.destination,
            "kind_title": kind.title if kind else "",
            "source": view.source,
            "schedule": _schedule_of(orchestration),
            "mode_words": MODES.get(orchestration.sync_mode, orchestration.sync_mode),
            "runs": view.runs,
            "next_runs": next_runs,
            "can_edit": can_edit,
            "toast": toast,
            "run_error": run_error,
            **page_helpers(),
        },
        status_code=status_code,
    )


@router.get("/activation/orchestrations/{orchestration_id}")
async def orchestration_page(
    orchestration_id: OrchestrationId,
    request: Request,
    active: SignedIn,
    done: Done = None,
    cursor: Cursor = None,
) -> HTMLResponse:
    """One orchestration: what it sends, when, the run buttons, and its runs."""
    view = await read(
        request, lambda session: _view(session, settings_of(request), orchestration_id, cursor)
    )
    return _orchestration_page(
        request,
        view,
        can_edit=active.user.is_manager,
        toast=_toast(done, view.orchestration.name),
    )


class RunForm(BaseModel):
    """Which run button was pressed."""

    mode: Literal["run", "dry_run", "full_resync"] = "run"


@router.post("/activation/orchestrations/{orchestration_id}/runs")
async def start_run(
    orchestration_id: OrchestrationId, request: Request, manager: Manager
) -> Response:
    """Start a run (or a dry run, or a full resync) and open its page."""
    form = await read_form(request, RunForm)
    mode = form.data.mode if form.data else "run"
    now, by = now_of(request), created_by(manager)

    def work(session: Session) -> RunOut:
        return run_service.start_run(
            session,
            orchestration_id,
            now=now,
            trigger="manual",
            dry_run=mode == "dry_run",
            full_resync=mode == "full_resync",
            requested_by=by,
        )

    try:
        run = await write(request, work)
    except Conflict as busy:
        view = await read(
            request, lambda session: _view(session, settings_of(request), orchestration_id, None)
        )
        # The service's words name ids; a person gets the reason and the way out.
        words = (
            "Another run of this orchestration is in progress: it must end, or be cancelled,"
            " before the next starts."
            if view.orchestration.active_run_id
            else busy.message
        )
        return _orchestration_page(request, view, can_edit=True, run_error=words, status_code=409)
    return RedirectResponse(
        f"/activation/orchestrations/{orchestration_id}/runs/{run.id}?done=started",
        status_code=303,
    )


@router.get("/activation/orchestrations/{orchestration_id}/delete")
async def confirm_delete_page(
    orchestration_id: OrchestrationId, request: Request, _manager: Manager
) -> HTMLResponse:
    """Ask before deleting (refused while a run is in progress)."""
    orchestration = await load_orchestration(request, orchestration_id)
    return render(
        request,
        "activation/orchestration_delete.html",
        {"orchestration": orchestration, "problem": None},
    )


@router.post("/activation/orchestrations/{orchestration_id}/delete")
async def delete_orchestration(
    orchestration_id: OrchestrationId, request: Request, _manager: Manager
) -> Response:
    """Delete the orchestration, or say why not (a run is in progress)."""
    orchestration = await load_orchestration(request, orchestration_id)
    try:
        await write(
            request, lambda session: orchestrations.delete_orchestration(session, orchestration_id)
        )
    except Conflict as busy:
        orchestration = await load_orchestration(request, orchestration_id)
        return render(
            request,
            "activation/orchestration_delete.html",
            {"orchestration": orchestration, "problem": busy.message},
            status_code=409,
        )
    query = urlencode({"done": "deleted", "name": orchestration.name})
    return RedirectResponse(f"/activation?{query}", status_code=303)
