"""Activation API: destinations (with their connection test), orchestrations, and their runs
with per-record results (docs/activation.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from carebase.activation import orchestrations, run_service, service
from carebase.activation.run_schemas import RunOut, RunRecordOut
from carebase.activation.schemas import (
    CheckOut,
    DestinationIn,
    DestinationOut,
    DestinationUpdate,
    OrchestrationIn,
    OrchestrationOut,
    RunIn,
)
from carebase.auth.scopes import ACTIVATION_READ, ACTIVATION_WRITE
from carebase.auth.service import Principal
from carebase.http.deps import DbSession, Now, get_database, get_settings, require_scope
from carebase.http.middleware import read_only_post
from carebase.http.routing import JSONRoute
from carebase.kit.pagination import Cursor, Page
from carebase.settings import Settings

router = APIRouter(tags=["activation"], route_class=JSONRoute)
# The connection test reads in the request's (read) transaction and writes its report in a
# short one of its own: no write lock is held while the destination is reached.
read_only_post(r"/v1/destinations/[^/]+/test")
Reader = Annotated[Principal, Depends(require_scope(ACTIVATION_READ))]
Writer = Annotated[Principal, Depends(require_scope(ACTIVATION_WRITE))]
AppSettings = Annotated[Settings, Depends(get_settings)]
Limit = Annotated[int, Query(ge=1, le=1000)]
RecordStatus = Literal["pending", "in_flight", "succeeded", "rejected", "invalid", "skipped"]

_DESTINATION_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "Another destination has that name (`name_taken`)."},
    422: {
        "description": "The body is not valid; each problem names its field: `kind`, "
        "`config.<field>` or `secrets.<field>` as the kind's settings define them."
    },
}
_ORCHESTRATION_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "Another orchestration has that name (`name_taken`)."},
    422: {
        "description": "The body is not valid; each problem names its field: "
        "`destination_id`, `source.id`, `source.attributes[i]` (not a customer_360 column), "
        "`mapping.<field>`, `sync_mode` (one the destination's kind supports), "
        "`schedule.cron`, `schedule.timezone`."
    },
}


# -- destinations -----------------------------------------------------------------------------


@router.post(
    "/v1/destinations",
    status_code=201,
    operation_id="createDestination",
    response_model=DestinationOut,
    responses=_DESTINATION_ERRORS,
)
def create_destination(
    body: DestinationIn, writer: Writer, session: DbSession, now: Now, settings: AppSettings
) -> DestinationOut:
    """Create a destination. Its secrets are stored encrypted and never returned; secrets
    carebase generates (a webhook signing secret, an SFTP key pair) are in `shown_once`,
    in this answer only."""
    return service.create_destination(
        session, body, settings=settings, now=now, created_by=writer.token_id
    )


@router.get(
    "/v1/destinations", operation_id="listDestinations", response_model=Page[DestinationOut]
)
def list_destinations(
    _reader: Reader,
    session: DbSession,
    settings: AppSettings,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[DestinationOut]:
    """Destinations by name, with their last connection test."""
    return service.list_destinations(session, settings=settings, cursor=cursor, limit=limit)


@router.get(
    "/v1/destinations/{destination_id}",
    operation_id="getDestination",
    response_model=DestinationOut,
)
def get_destination(
    destination_id: str, _reader: Reader, session: DbSession, settings: AppSettings
) -> DestinationOut:
    """One destination: kind, config, public details (an SFTP public key), last test."""
    return service.get_destination(session, destination_id, settings=settings)


@router.put(
    "/v1/destinations/{destination_id}",
    operation_id="updateDestination",
    response_model=DestinationOut,
    responses=_DESTINATION_ERRORS,
)
def update_destination(
    destination_id: str,
    body: DestinationUpdate,
    _writer: Writer,
    session: DbSession,
    now: Now,
    settings: AppSettings,
) -> DestinationOut:
    """Replace a destination's name and config. Secrets left out keep their stored values;
    a changed config or secret clears the last connection test."""
    return service.update_destination(session, destination_id, body, settings=settings, now=now)


@router.delete(
    "/v1/destinations/{destination_id}",
    status_code=204,
    operation_id="deleteDestination",
    responses={
        409: {
            "description": "Orchestrations send to it (`destination_in_use`); "
            "`details.used_by` names them."
        }
    },
)
def delete_destination(destination_id: str, _writer: Writer, session: DbSession) -> None:
    """Delete a destination no orchestration uses."""
    service.delete_destination(session, destination_id)


@router.post(
    "/v1/destinations/{destination_id}/test",
    operation_id="testDestination",
    response_model=CheckOut,
)
def check_destination(
    destination_id: str,
    request: Request,
    _writer: Writer,
    session: DbSession,
    now: Now,
    settings: AppSettings,
) -> CheckOut:
    """Test the connection step by step (each step says exactly what failed); the report is
    also stored on the destination."""
    service.destination_row(session, destination_id)  # 404 before any network I/O
    return service.test_destination(get_database(request), destination_id, settings, now)


# -- orchestrations ---------------------------------------------------------------------------


@router.post(
    "/v1/orchestrations",
    status_code=201,
    operation_id="createOrchestration",
    response_model=OrchestrationOut,
    responses=_ORCHESTRATION_ERRORS,
)
def create_orchestration(
    body: OrchestrationIn, writer: Writer, session: DbSession, now: Now
) -> OrchestrationOut:
    """Create an orchestration; a cron schedule's first tick is queued (`next_run_at`)."""
    return orchestrations.create_orchestration(session, body, now=now, created_by=writer.token_id)


@router.get(
    "/v1/orchestrations",
    operation_id="listOrchestrations",
    response_model=Page[OrchestrationOut],
)
def list_orchestrations(
    _reader: Reader, session: DbSession, cursor: Cursor = None, limit: Limit = 100
) -> Page[OrchestrationOut]:
    """Orchestrations by name, with their next run, run in progress and last run."""
    return orchestrations.list_orchestrations(session, cursor=cursor, limit=limit)


@router.get(
    "/v1/orchestrations/{orchestration_id}",
    operation_id="getOrchestration",
    response_model=OrchestrationOut,
)
def get_orchestration(
    orchestration_id: str, _reader: Reader, session: DbSession
) -> OrchestrationOut:
    """One orchestration."""
    return orchestrations.get_orchestration(session, orchestration_id)


@router.put(
    "/v1/orchestrations/{orchestration_id}",
    operation_id="updateOrchestration",
    response_model=OrchestrationOut,
    responses=_ORCHESTRATION_ERRORS,
)
def update_orchestration(
    orchestration_id: str,
    body: OrchestrationIn,
    _writer: Writer,
    session: DbSession,
    now: Now,
) -> OrchestrationOut:
    """Replace an orchestration; its schedule is requeued. A run in progress finishes with
    the settings it started with."""
    return orchestrations.update_orchestration(session, orchestration_id, body, now=now)


@router.delete(
    "/v1/orchestrations/{orchestration_id}",
    status_code=204,
    operation_id="deleteOrchestration",
    responses={409: {"description": "A run is in progress (`run_in_progress`); cancel it."}},
)
def delete_orchestration(orchestration_id: str, _writer: Writer, session: DbSession) -> None:
    """Delete an orchestration with its run history and what it last sent."""
    orchestrations.delete_orchestration(session, orchestration_id)


# -- runs ---------------------------------------------------------------------------------------

_RUN_START_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "A run of this orchestration is in progress (`run_in_progress`)."},
}


@router.post(
    "/v1/orchestrations/{orchestration_id}/runs",
    status_code=202,
    operation_id="startOrchestrationRun",
    response_model=RunOut,
    responses=_RUN_START_ERRORS,
)
def start_run(
    orchestration_id: str, writer: Writer, session: DbSession, now: Now, body: RunIn | None = None
) -> RunOut:
    """Start a run now (a job; follow it with GET …/runs/{run_id}). One run of an
    orchestration at a time, whatever the number of processes."""
    options = body or RunIn()
    return run_service.start_run(
        session,
        orchestration_id,
        now=now,
        dry_run=options.dry_run,
        full_resync=options.full_resync,
        only_failed=options.only_failed,
        requested_by=writer.token_id,
    )


@router.get(
    "/v1/orchestrations/{orchestration_id}/runs",
    operation_id="listOrchestrationRuns",
    response_model=Page[RunOut],
)
def list_runs(
    orchestration_id: str,
    _reader: Reader,
    session: DbSession,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[RunOut]:
    """The orchestration's runs, newest first."""
    items, next_cursor = run_service.list_runs(session, orchestration_id, limit=limit, after=cursor)
    return Page[RunOut](items=items, next_cursor=next_cursor)


@router.get(
    "/v1/orchestrations/{orchestration_id}/runs/{run_id}",
    operation_id="getOrchestrationRun",
    response_model=RunOut,
)
def get_run(orchestration_id: str, run_id: str, _reader: Reader, session: DbSession) -> RunOut:
    """One run: status, counts, progress, error, a dry run's findings."""
    return run_service.get_run(session, orchestration_id, run_id)


@router.post(
    "/v1/orchestrations/{orchestration_id}/runs/{run_id}/cancel",
    operation_id="cancelOrchestrationRun",
    response_model=RunOut,
    responses={409: {"description": "The run already ended."}},
)
def cancel_run(
    orchestration_id: str, run_id: str, _writer: Writer, session: DbSession, now: Now
) -> RunOut:
    """Cancel a run: a waiting run ends now, a running one before its next batch."""
    return run_service.cancel_run(session, orchestration_id, run_id, now=now)


@router.post(
    "/v1/orchestrations/{orchestration_id}/runs/{run_id}/retry",
    status_code=202,
    operation_id="retryOrchestrationRun",
    response_model=RunOut,
    responses=_RUN_START_ERRORS,
)
def retry_run(
    orchestration_id: str, run_id: str, writer: Writer, session: DbSession, now: Now
) -> RunOut:
    """Start a new run sending only the records that failed or were rejected."""
    return run_service.retry_failed(
        session, orchestration_id, run_id, now=now, requested_by=writer.token_id
    )


@router.get(
    "/v1/orchestrations/{orchestration_id}/runs/{run_id}/records",
    operation_id="listRunRecords",
    response_model=Page[RunRecordOut],
)
def list_run_records(
    orchestration_id: str,
    run_id: str,
    _reader: Reader,
    session: DbSession,
    status: Annotated[
        RecordStatus | None, Query(description="Only records in this status.")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[RunRecordOut]:
    """The run's records that did not simply succeed (invalid, rejected, skipped, pending),
    with the destination's own reason; never a record's fields."""
    items, next_cursor = run_service.list_records(
        session, orchestration_id, run_id, status=status, limit=limit, after=cursor
    )
    return Page[RunRecordOut](items=items, next_cursor=next_cursor)


@router.get(
    "/v1/orchestrations/{orchestration_id}/runs/{run_id}/records.csv",
    operation_id="exportRunRecords",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "seq, record_key, action, status, error_code, message, remote_id.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def export_run_records(
    orchestration_id: str, run_id: str, _reader: Reader, session: DbSession
) -> StreamingResponse:
    """The run's records as CSV, for a spreadsheet (cells that would read as formulas are
    quoted)."""
    chunks = run_service.records_csv(session, orchestration_id, run_id)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{run_id}-records.csv"'},
    )
