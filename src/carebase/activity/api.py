"""POST /v1/activity/reports: every report type of the registry, as Lexer's Activity API
answers it (`activity:read`, 100 requests per 5 minutes per token)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from carebase.activity import service
from carebase.activity.schemas import ReportRequest
from carebase.auth.scopes import ACTIVITY_READ
from carebase.auth.service import Principal
from carebase.http.deps import DbSession, Now, get_settings, require_scope
from carebase.http.routing import JSONRoute

router = APIRouter(route_class=JSONRoute, tags=["activity"])
Reader = Annotated[Principal, Depends(require_scope(ACTIVITY_READ))]

_REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report, in the shape activity-api.txt documents for its type "
        "(an object or an array; see docs/activity.md).",
        "content": {"application/json": {"schema": {}}},
    },
    400: {
        "description": "`invalid_report`: an unknown type (`Invalid report - invalid type`), "
        "a range over 12 months (`… date range is too long`), a start in the future "
        "(`… starting date is a future date`), or a field that does not read (named in "
        "`details`)."
    },
    404: {"description": "The NPS form (`form`) does not exist."},
}


@router.post(
    "/v1/activity/reports",
    operation_id="runActivityReport",
    responses=_REPORT_RESPONSES,
    response_class=JSONResponse,
)
def run_report(
    body: ReportRequest, principal: Reader, request: Request, session: DbSession, now: Now
) -> Any:
    """Run one Activity report over [date_from, date_to] (inclusive), bucketed in the
    report's time zone. `mention_sla_export` starts a CSV export and answers its token."""
    settings = get_settings(request)
    kind, query = service.build_query(
        body,
        default_zone=settings.report_time_zone,
        now=now,
        dialect=session.get_bind().dialect.name,
        requested_by=principal.token_id,
        base_url=settings.base_url,
    )
    return service.run(session, kind, query)
