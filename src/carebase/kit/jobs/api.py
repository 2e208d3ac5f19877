"""The jobs admin API: list, show and cancel background jobs (scope `admin`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from carebase.auth.scopes import ADMIN
from carebase.auth.service import Principal
from carebase.http.deps import DbSession, Now, require_scope
from carebase.http.routing import JSONRoute
from carebase.kit.jobs import service
from carebase.kit.jobs.schemas import JobList, JobOut

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], route_class=JSONRoute)
Admin = Annotated[Principal, Depends(require_scope(ADMIN))]


@router.get("", operation_id="listJobs", response_model=JobList)
def list_jobs(
    _admin: Admin,
    session: DbSession,
    status: Annotated[str | None, Query(max_length=20)] = None,
    kind: Annotated[str | None, Query(max_length=60)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> JobList:
    """Background jobs, newest first, optionally of one status or kind."""
    rows, following = service.list_jobs(
        session, status=status, kind=kind, cursor=cursor, limit=limit
    )
    return JobList(
        items=[JobOut.model_validate(row) for row in rows],
        counts=service.status_counts(session),
        next_cursor=following,
    )


@router.get("/{job_id}", operation_id="getJob", response_model=JobOut)
def get_job(job_id: str, _admin: Admin, session: DbSession) -> JobOut:
    """One job with its progress, result or error."""
    return JobOut.model_validate(service.get_job(session, job_id))


@router.post(
    "/{job_id}/cancel",
    operation_id="cancelJob",
    response_model=JobOut,
    responses={409: {"description": "The job already ended."}},
)
def cancel_job(
    job_id: str, request: Request, _admin: Admin, session: DbSession, now: Now
) -> JobOut:
    """Cancel a queued job at once, or ask a running one to stop; 409 when it already ended."""
    registry = request.app.state.job_registry
    return JobOut.model_validate(service.cancel_job(session, registry, job_id, now=now))
