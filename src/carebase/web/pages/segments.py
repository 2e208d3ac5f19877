"""Segments in the console: the list (`/segments`), a segment's page (`/segments/{id}`: its
definition in words, size over time, members with chosen attributes, CSV), a refresh on
demand, and delete. The builder (new, edit, live count) is `segments_builder.py`.

Who may: every signed-in user reads segments — an agent sees which segments a customer is
in and may want the list behind one; **managers** create, edit, refresh and delete them
(CONSOLE.md: the manager builds segments), as the API keeps writes to `segments:write`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Path, Query, Request
from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from sqlalchemy.orm import Session

from carebase.errors import Conflict
from carebase.segments import fields as f
from carebase.segments import members as segment_members
from carebase.segments import service
from carebase.segments.schemas import MemberPage, SegmentOut, VersionOut
from carebase.web.actions import Toast, database_of, now_of, read, settings_of, write
from carebase.web.pages.segments_words import describe
from carebase.web.render import render
from carebase.web.routing import page_router
from carebase.web.session import Manager, SignedIn

router = page_router()

MEMBERS_PAGE = 25
HISTORY_SHOWN = 60
SegmentId = Annotated[str, Path(max_length=64)]
Attributes = Annotated[list[str] | None, Query(alias="attr", max_length=20)]
Cursor = Annotated[str | None, Query(max_length=300)]
Done = Annotated[str | None, Query(max_length=20)]
NameParam = Annotated[str | None, Query(alias="name", max_length=200)]
SEGMENT_HEAD = "partials/segment_assets.html"

STATUS_WORDS = {
    "pending": "Waiting to refresh",
    "refreshing": "Refreshing",
    "ready": "Ready",
    "failed": "Failed",
}


def attribute_choices() -> list[tuple[str, str]]:
    """Every catalogue attribute a member list can show, as (name, label)."""
    return [(a.name, a.label) for a in f.attribute_fields()]


def _toast(done: str | None, name: str | None) -> Toast | None:
    words = {
        "created": "Saved {name}; its first refresh is on its way.",
        "saved": "Saved {name}; it refreshes with the new definition.",
        "refresh": "Refresh of {name} queued; the size updates when it ends.",
        "deleted": "Deleted {name}.",
    }
    if done not in words:
        return None
    return Toast(words[done].format(name=name or "the segment"))


@router.get("/segments")
async def segments_page(
    request: Request, active: SignedIn, done: Done = None, name: NameParam = None
) -> HTMLResponse:
    """Every segment: name, size, status (with the last error), when it was computed."""
    segments = await read(request, service.list_segments)
    return render(
        request,
        "pages/segments/list.html",
        {
            "segments": segments,
            "status_words": STATUS_WORDS,
            "can_edit": active.user.is_manager,
            "toast": _toast(done, name),
            "segment_head": SEGMENT_HEAD,
        },
    )


@dataclass(frozen=True)
class SegmentView:
    """What a segment's page shows, read in one unit of work."""

    segment: SegmentOut
    history: list[VersionOut]
    members: MemberPage | None
    members_error: str | None


def _chosen(asked: list[str] | None) -> list[str]:
    known = {name for name, _ in attribute_choices()}
    names = [name for name in (asked or []) if name in known]
    return names or list(segment_members.DEFAULT_ATTRIBUTES)


@router.get("/segments/{segment_id}")
async def segment_page(
    segment_id: SegmentId,
    request: Request,
    active: SignedIn,
    attributes: Attributes = None,
    cursor: Cursor = None,
    done: Done = None,
) -> HTMLResponse:
    """One segment: its definition in words, size over time, and its members."""
    chosen = _chosen(attributes)
    now = now_of(request)

    def work(session: Session) -> SegmentView:
        segment = service.get_segment(session, segment_id)
        history = service.size_history(session, segment_id, limit=HISTORY_SHOWN).items
        try:
            page = service.list_members(
                session, segment_id, attributes=chosen, cursor=cursor, limit=MEMBERS_PAGE, now=now
            )
        except Conflict as gone:
            return SegmentView(segment, history, None, gone.message)
        return SegmentView(segment, history, page, None)

    view = await read(request, work)
    labels = dict(attribute_choices())
    query = [("attr", name) for name in chosen]
    next_page = None
    if view.members is not None and view.members.next_cursor:
        next_page = f"/segments/{segment_id}?" + urlencode(
            [*query, ("cursor", view.members.next_cursor)]
        )
    return render(
        request,
        "pages/segments/segment.html",
        {
            "segment": view.segment,
            "words": describe(view.segment.definition),
            "history": list(reversed(view.history)),
            "chart": size_chart(list(reversed(view.history))),
            "members": view.members,
            "members_error": view.members_error,
            "chosen": chosen,
            "labels": labels,
            "attribute_choices": attribute_choices(),
            "next_page": next_page,
            "first_page": f"/segments/{segment_id}?{urlencode(query)}" if cursor else None,
            "csv_url": f"/segments/{segment_id}/members.csv?{urlencode(query)}",
            "status_words": STATUS_WORDS,
            "can_edit": active.user.is_manager,
            "toast": _toast(done, view.segment.name),
            "segment_head": SEGMENT_HEAD,
        },
    )


def size_chart(history: list[VersionOut], *, width: int = 320, height: int = 64) -> dict[str, Any]:
    """Bars for the sizes, oldest first, on a scale from zero (an inline SVG's numbers)."""
    if not history:
        return {"bars": [], "width": width, "height": height, "top": 0}
    top = max(version.size for version in history) or 1
    # At most 16 px a bar: a few refreshes stay bars, not a block.
    step = min(width / len(history), 16)
    gap = 1 if step > 3 else 0
    bars = []
    for index, version in enumerate(history):
        tall = round(version.size / top * (height - 2), 1) if version.size else 0
        bars.append(
            {
                "x": round(index * step, 2),
                "y": round(height - tall, 1),
                "width": max(round(step - gap, 2), 0.5),
                "height": tall,
            }
        )
    return {"bars": bars, "width": width, "height": height, "top": top}


@router.get("/segments/{segment_id}/members.csv")
async def members_csv(
    segment_id: SegmentId, request: Request, _active: SignedIn, attributes: Attributes = None
) -> StreamingResponse:
    """The members of the current version with the chosen attributes, as CSV."""
    chosen = _chosen(attributes)
    database, now = database_of(request), now_of(request)
    segment = await read(request, lambda session: service.get_segment(session, segment_id))

    def chunks() -> Iterator[str]:
        return service.members_csv(database, segment_id, attributes=chosen, now=now)

    body = await run_in_threadpool(chunks)
    filename = f"segment-{segment.id}.csv"
    return StreamingResponse(
        iterate_in_threadpool(body),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/segments/{segment_id}/refresh")
async def refresh_segment(
    segment_id: SegmentId, request: Request, _manager: Manager
) -> RedirectResponse:
    """Queue a refresh now; back to where the button was, saying so."""
    now = now_of(request)

    def work(session: Session) -> str:
        service.request_refresh(session, segment_id, now=now)
        return service.get_segment(session, segment_id).name

    name = await write(request, work)
    back = request.headers.get("referer", "")
    target = f"/segments/{segment_id}" if f"/segments/{segment_id}" in back else "/segments"
    return RedirectResponse(
        f"{target}?{urlencode({'done': 'refresh', 'name': name})}", status_code=303
    )


@router.post("/segments/{segment_id}/delete")
async def delete_segment(
    segment_id: SegmentId, request: Request, _manager: Manager
) -> RedirectResponse:
    """Delete the segment (409, in words, while another segment uses it)."""

    def work(session: Session) -> str:
        name = service.get_segment(session, segment_id).name
        service.delete_segment(session, segment_id)
        return name

    name = await write(request, work)
    return RedirectResponse(
        f"/segments?{urlencode({'done': 'deleted', 'name': name})}", status_code=303
    )


def window_limit(request: Request) -> int:
    """This installation's event window (CAREBASE_EVENT_WINDOW_DAYS)."""
    return settings_of(request).event_window_days
