"""A run's page in the console: its status as a label, its counts, a progress bar that
refreshes itself (an htmx partial polled every second until the run ends), Cancel, Retry
failed records, the records that did not simply succeed (filtered by status, a page at a
time), their CSV, and a dry run's summary with samples.

Who may: every signed-in user reads; managers cancel and retry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Path, Query, Request
from fastapi.concurrency import iterate_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from carebase.activation import orchestrations, run_service
from carebase.activation.run_schemas import RunOut, RunRecordOut
from carebase.activation.schemas import OrchestrationOut
from carebase.errors import Conflict, ValidationFailed
from carebase.web.actions import Toast, database_of, now_of, read, write
from carebase.web.pages.activation_orchestrations import page_helpers
from carebase.web.pages.activation_words import RECORD_STATUSES, is_ended, percent
from carebase.web.pages.settings_users import created_by
from carebase.web.render import render
from carebase.web.routing import page_router
from carebase.web.session import Manager, SignedIn

router = page_router()

OrchestrationId = Annotated[str, Path(min_length=1, max_length=40)]
RunId = Annotated[str, Path(min_length=1, max_length=40)]
StatusParam = Annotated[str | None, Query(max_length=20)]
Cursor = Annotated[str | None, Query(max_length=300)]
Done = Annotated[str | None, Query(max_length=20)]
RECORDS_PAGE = 50
# At most this many columns of a dry run's sample rows are shown.
SAMPLE_COLUMNS = 8

SAMPLE_TITLES = {
    "create": "Samples it would create",
    "update": "Samples it would update",
    "unchanged": "Samples it would leave unchanged",
    "invalid": "Samples that are not valid (not sent)",
}

RECORD_TONES = {
    "succeeded": "ok",
    "rejected": "bad",
    "invalid": "warn",
    "pending": "muted",
    "in_flight": "busy",
    "skipped": "muted",
}


def sample_rows(rows: Any) -> list[dict[str, str]]:
    """A dry run's sample rows as flat text cells: the record's key, then each of the fields
    it would send (a sample is `{key, fields: {…}}`, or already flat)."""
    flat: list[dict[str, str]] = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            flat.append({"record": _text(row)})
            continue
        cells = {str(k): _text(v) for k, v in row.items() if not isinstance(v, dict)}
        for value in row.values():
            if isinstance(value, dict):
                cells.update({str(k): _text(v) for k, v in value.items()})
        flat.append(cells)
    return flat


def sample_columns(rows: list[dict[str, str]]) -> list[str]:
    """The columns of flattened sample rows, in the order they first appear (at most
    SAMPLE_COLUMNS)."""
    columns: list[str] = []
    for row in rows:
        columns.extend(name for name in row if name not in columns)
    return columns[:SAMPLE_COLUMNS]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    return value if isinstance(value, str) else str(value)


def _toast(done: str | None) -> Toast | None:
    words = {
        "started": "Run started: it updates here as it goes.",
        "cancelled": "Cancel requested: the run stops after the batch in flight.",
        "retried": "Retry started: only the records that failed are sent again.",
    }
    return Toast(words[done]) if done in words else None


def _live_context(run: RunOut, *, can_edit: bool) -> dict[str, Any]:
    progress = run.progress.model_dump() if run.progress else None
    return {
        "run": run,
        "ended": is_ended(run.status),
        "progress_percent": percent(progress),
        "can_edit": can_edit,
        **page_helpers(),
    }


@dataclass(frozen=True)
class RunView:
    """What a run's page shows, read in one unit of work."""

    orchestration: OrchestrationOut
    run: RunOut
    records: list[RunRecordOut]
    next_cursor: str | None
    records_error: str | None


def _view(
    session: Session, orchestration_id: str, run_id: str, status: str | None, cursor: str | None
) -> RunView:
    orchestration = orchestrations.get_orchestration(session, orchestration_id)
    run = run_service.get_run(session, orchestration_id, run_id)
    try:
        records, following = run_service.list_records(
            session, orchestration_id, run_id, status=status, limit=RECORDS_PAGE, after=cursor
        )
    except ValidationFailed as invalid:
        return RunView(orchestration, run, [], None, invalid.message)
    return RunView(orchestration, run, records, following, None)


def _run_url(orchestration_id: str, run_id: str) -> str:
    return f"/activation/orchestrations/{orchestration_id}/runs/{run_id}"


def _run_page(
    request: Request,
    view: RunView,
    *,
    status: str | None,
    cursor: str | None,
    can_edit: bool,
    toast: Toast | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    url = _run_url(view.orchestration.id, view.run.id)
    filters = {"status": status} if status else {}
    next_records = None
    if view.next_cursor:
        next_records = f"{url}?{urlencode({**filters, 'cursor': view.next_cursor})}#records-title"
    first_records = f"{url}?{urlencode(filters)}#records-title" if cursor else None
    return render(
        request,
        "activation/run.html",
        {
            **_live_context(view.run, can_edit=can_edit),
            "orchestration": view.orchestration,
            "records": view.records,
            "records_error": view.records_error,
            "status": status,
            "status_options": [("", "Every record listed"), *RECORD_STATUSES.items()],
            "record_words": RECORD_STATUSES,
            "record_tone": lambda s: RECORD_TONES.get(s, "muted"),
            "next_records": next_records,
            "first_records": first_records,
            "csv_url": f"{url}/records.csv",
            "sample_rows": sample_rows,
            "sample_titles": SAMPLE_TITLES,
            "sample_columns": sample_columns,
            "toast": toast,
            "problem": problem,
        },
        status_code=status_code,
    )


@router.get("/activation/orchestrations/{orchestration_id}/runs/{run_id}")
async def run_page(
    orchestration_id: OrchestrationId,
    run_id: RunId,
    request: Request,
    active: SignedIn,
    status: StatusParam = None,
    cursor: Cursor = None,
    done: Done = None,
) -> HTMLResponse:
    """One run: status, counts, progress, its records and (dry runs) what it found."""
    status = status if status in RECORD_STATUSES else None
    view = await read(
        request, lambda session: _view(session, orchestration_id, run_id, status, cursor)
    )
    return _run_page(
        request,
        view,
        status=status,
        cursor=cursor,
        can_edit=active.user.is_manager,
        toast=_toast(done),
    )


@router.get("/activation/orchestrations/{orchestration_id}/runs/{run_id}/live")
async def run_live(
    orchestration_id: OrchestrationId, run_id: RunId, request: Request, active: SignedIn
) -> HTMLResponse:
    """The run's status, counts and progress bar (the partial the page polls)."""
    run = await read(
        request, lambda session: run_service.get_run(session, orchestration_id, run_id)
    )
    # Only a run that had not ended is polled: this answer is its end, and the page reloads
    # once to show an ended run's buttons and records.
    headers = {"HX-Refresh": "true"} if is_ended(run.status) else None
    return render(
        request,
        "activation/_run_progress.html",
        _live_context(run, can_edit=active.user.is_manager),
        headers=headers,
    )


@router.get("/activation/orchestrations/{orchestration_id}/runs/{run_id}/records.csv")
async def records_csv(
    orchestration_id: OrchestrationId, run_id: RunId, request: Request, _active: SignedIn
) -> StreamingResponse:
    """The run's records as CSV (keys, results and reasons; never record fields)."""
    await read(request, lambda session: run_service.get_run(session, orchestration_id, run_id))
    database = database_of(request)

    def rows() -> Iterator[str]:
        # The unit of work stays open while the rows stream (a run may have many).
        with database.unit_of_work(write=False) as session:
            yield from run_service.records_csv(session, orchestration_id, run_id)

    return StreamingResponse(
        iterate_in_threadpool(rows()),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="run-{run_id}.csv"'},
    )


async def _refused(
    request: Request, orchestration_id: str, run_id: str, problem: str
) -> HTMLResponse:
    view = await read(request, lambda session: _view(session, orchestration_id, run_id, None, None))
    return _run_page(
        request, view, status=None, cursor=None, can_edit=True, problem=problem, status_code=409
    )


@router.post("/activation/orchestrations/{orchestration_id}/runs/{run_id}/cancel")
async def cancel_run(
    orchestration_id: OrchestrationId, run_id: RunId, request: Request, _manager: Manager
) -> Response:
    """Ask the run to stop; say so, or why not (it has already ended)."""
    now = now_of(request)
    try:
        await write(
            request,
            lambda session: run_service.cancel_run(session, orchestration_id, run_id, now=now),
        )
    except Conflict as ended:
        return await _refused(request, orchestration_id, run_id, ended.message)
    return RedirectResponse(f"{_run_url(orchestration_id, run_id)}?done=cancelled", status_code=303)


@router.post("/activation/orchestrations/{orchestration_id}/runs/{run_id}/retry")
async def retry_run(
    orchestration_id: OrchestrationId, run_id: RunId, request: Request, manager: Manager
) -> Response:
    """Start a run of only the records that failed; open it."""
    now, by = now_of(request), created_by(manager)

    def work(session: Session) -> RunOut:
        return run_service.retry_failed(session, orchestration_id, run_id, now=now, requested_by=by)

    try:
        retry = await write(request, work)
    except Conflict as busy:
        return await _refused(request, orchestration_id, run_id, busy.message)
    return RedirectResponse(f"{_run_url(orchestration_id, retry.id)}?done=retried", status_code=303)
