"""Segments API: saved definitions, previews, refreshes, members (JSON pages and CSV), size
history, and the segments a profile is in."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from carebase.auth.scopes import SEGMENTS_READ, SEGMENTS_WRITE
from carebase.auth.service import Principal
from carebase.http.deps import DbSession, Now, get_database, get_settings, require_scope
from carebase.http.middleware import read_only_post
from carebase.http.routing import JSONRoute
from carebase.kit.pagination import Cursor
from carebase.segments import service
from carebase.segments.schemas import (
    MemberPage,
    PreviewIn,
    PreviewOut,
    ProfileSegments,
    RefreshQueued,
    SegmentIn,
    SegmentList,
    SegmentOut,
    VersionPage,
)
from carebase.settings import Settings

router = APIRouter(tags=["segments"], route_class=JSONRoute)
# Counting only: no turn of SQLite's single writer, no write transaction.
read_only_post(r"/v1/segments/preview")
Reader = Annotated[Principal, Depends(require_scope(SEGMENTS_READ))]
Writer = Annotated[Principal, Depends(require_scope(SEGMENTS_WRITE))]
AppSettings = Annotated[Settings, Depends(get_settings)]
Attributes = Annotated[
    list[str] | None,
    Query(
        max_length=50,
        description="Catalogue attributes to show (repeat, or comma-separate); "
        "default email, first_name, last_name.",
    ),
]
_SAVE_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "Another segment has that name."},
    422: {
        "description": "The body is not valid; each problem names its field, or the "
        "definition's node (`definition.children[1].where.children[0].value`), including a "
        "reference to no segment or one that would close a cycle."
    },
}


@router.post(
    "/v1/segments/preview",
    operation_id="previewSegment",
    response_model=PreviewOut,
    responses={422: _SAVE_ERRORS[422]},
)
def preview_segment(
    body: PreviewIn, _reader: Reader, session: DbSession, now: Now, settings: AppSettings
) -> PreviewOut:
    """Count the profiles a definition selects now, without saving it."""
    return service.preview(
        session, body.definition, now=now, window_limit_days=settings.event_window_days
    )


@router.post(
    "/v1/segments",
    status_code=201,
    operation_id="createSegment",
    response_model=SegmentOut,
    responses=_SAVE_ERRORS,
)
def create_segment(
    body: SegmentIn, writer: Writer, session: DbSession, now: Now, settings: AppSettings
) -> SegmentOut:
    """Save a segment; its first refresh is queued at once (status `pending` until it runs)."""
    return service.create_segment(
        session,
        body,
        now=now,
        created_by=writer.token_id,
        window_limit_days=settings.event_window_days,
    )


@router.get("/v1/segments", operation_id="listSegments", response_model=SegmentList)
def list_segments(_reader: Reader, session: DbSession) -> SegmentList:
    """Every segment, by name, with its status, size and last error."""
    return SegmentList(items=service.list_segments(session))


@router.get("/v1/segments/{segment_id}", operation_id="getSegment", response_model=SegmentOut)
def get_segment(segment_id: str, _reader: Reader, session: DbSession) -> SegmentOut:
    """One segment: definition, status, size, computed_at, last error, next refresh."""
    return service.get_segment(session, segment_id)


@router.put(
    "/v1/segments/{segment_id}",
    operation_id="updateSegment",
    response_model=SegmentOut,
    responses=_SAVE_ERRORS,
)
def update_segment(
    segment_id: str,
    body: SegmentIn,
    _writer: Writer,
    session: DbSession,
    now: Now,
    settings: AppSettings,
) -> SegmentOut:
    """Replace a segment. A changed definition is refreshed now; until then the last
    version computed is still served."""
    return service.update_segment(
        session, segment_id, body, now=now, window_limit_days=settings.event_window_days
    )


@router.delete(
    "/v1/segments/{segment_id}",
    status_code=204,
    operation_id="deleteSegment",
    responses={409: {"description": "Other segments use this one; `details.used_by` names them."}},
)
def delete_segment(segment_id: str, _writer: Writer, session: DbSession) -> None:
    """Delete a segment, its versions and its members."""
    service.delete_segment(session, segment_id)


@router.post(
    "/v1/segments/{segment_id}/refresh",
    status_code=202,
    operation_id="refreshSegment",
    response_model=RefreshQueued,
)
def refresh_segment(
    segment_id: str, _writer: Writer, session: DbSession, now: Now
) -> RefreshQueued:
    """Refresh a segment now, as a job (one per segment at a time: a refresh already queued
    runs now; one already running is followed by another)."""
    job_id = service.request_refresh(session, segment_id, now=now)
    return RefreshQueued(segment_id=segment_id, job_id=job_id)


@router.get(
    "/v1/segments/{segment_id}/members",
    operation_id="listSegmentMembers",
    response_model=MemberPage,
    responses={409: {"description": "The cursor's version is gone (two refreshes since)."}},
)
def list_segment_members(
    segment_id: str,
    _reader: Reader,
    session: DbSession,
    now: Now,
    attributes: Attributes = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> MemberPage:
    """The current members, by profile id, with the attributes asked for."""
    return service.list_members(
        session, segment_id, attributes=attributes, cursor=cursor, limit=limit, now=now
    )


@router.get(
    "/v1/segments/{segment_id}/members.csv",
    operation_id="exportSegmentMembers",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "`profile_id` and the attributes asked for, one row per member.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def export_segment_members(
    segment_id: str,
    request: Request,
    _reader: Reader,
    now: Now,
    attributes: Attributes = None,
) -> StreamingResponse:
    """Every current member as CSV (streamed): `profile_id`, then the attributes asked for
    (lists and objects as JSON)."""
    chunks = service.members_csv(get_database(request), segment_id, attributes=attributes, now=now)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{segment_id}-members.csv"'},
    )


@router.get(
    "/v1/segments/{segment_id}/versions",
    operation_id="listSegmentVersions",
    response_model=VersionPage,
)
def list_segment_versions(
    segment_id: str,
    _reader: Reader,
    session: DbSession,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> VersionPage:
    """Each refresh, newest first: size, entered, left, duration (the size over time)."""
    return service.size_history(session, segment_id, cursor=cursor, limit=limit)


@router.get(
    "/v1/profiles/{profile_id}/segments",
    operation_id="getProfileSegments",
    response_model=ProfileSegments,
)
def get_profile_segments(profile_id: str, _reader: Reader, session: DbSession) -> ProfileSegments:
    """The segments a profile is in now (a merged id answers for its survivor)."""
    return service.segments_of_profile(session, profile_id)
