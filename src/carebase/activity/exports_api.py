"""The Activity CSV export's status (`activity:read`) and its download, which needs no token:
its URL is signed with the installation secret and expires (activity/exports.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from carebase.activity import exports
from carebase.auth.scopes import ACTIVITY_READ
from carebase.auth.service import Principal
from carebase.errors import ValidationFailed
from carebase.http.deps import Now, get_database, get_settings, require_scope
from carebase.http.routing import JSONRoute

router = APIRouter(route_class=JSONRoute, tags=["activity"])
Reader = Annotated[Principal, Depends(require_scope(ACTIVITY_READ))]
TokenText = Annotated[str | None, Query(max_length=200)]


@router.get(
    "/v1/activity/reports/status",
    operation_id="getActivityExportStatus",
    response_class=JSONResponse,
    responses={
        200: {
            "description": '`{"status": "pending"|"complete"|"failed", "url", "token", '
            '"rows", "error"}`; `url` is a signed download link once complete.',
            "content": {"application/json": {"schema": {}}},
        },
        422: {"description": "Neither `token` nor `status` was given (`token` named)."},
        404: {"description": "No export has this token (or it was deleted after a while)."},
    },
)
def export_status(
    _reader: Reader,
    request: Request,
    now: Now,
    token: TokenText = None,
    status: TokenText = None,
) -> Any:
    """The status of a `mention_sla_export` by its token (`?token=`, or `?status=` as the
    reference writes it)."""
    given = token or status
    if not given:
        raise ValidationFailed.on("token", "is required (or `status`, the reference's name)")
    database = get_database(request)
    return exports.status(database, given, settings=get_settings(request), now=now)


@router.get(
    "/v1/activity/exports/{export_id}.csv",
    operation_id="downloadActivityExport",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The export's CSV (header row first).",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        403: {"description": "`link_expired` or `bad_signature`."},
        404: {"description": "No such export (it is deleted after a while)."},
    },
)
def download_export(
    export_id: str,
    request: Request,
    now: Now,
    expires: Annotated[int, Query(ge=0, le=2**40)],
    signature: Annotated[str, Query(max_length=128)],
) -> StreamingResponse:
    """Download a finished export with the signed URL its status answered (no token)."""
    exports.verify(get_settings(request), export_id, expires, signature, now)
    chunks = exports.download(get_database(request), export_id, now=now)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{export_id}.csv"'},
    )
