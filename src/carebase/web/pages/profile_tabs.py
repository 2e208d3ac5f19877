"""The profile's History and Notes tabs (writing notes is `notes.py`) and the merge
explanation (`/profiles/{id}/merges`): pages like the others of `profiles.py`, through
`profile_view.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request, Response
from sqlalchemy.orm import Session

from carebase.http.deps import DbSession, Now
from carebase.identity import service as identity
from carebase.notes import service as notes
from carebase.profiles import history, service
from carebase.web import profile_display as display
from carebase.web.pages.profile_view import (
    header_context,
    live_id_or_redirect,
    render,
    render_tab,
)
from carebase.web.routing import page_router
from carebase.web.session import SignedIn

router = page_router()

HISTORY_PAGE = 20
NOTES_PAGE = 20


# --- history ------------------------------------------------------------------------------


def history_context(
    session: Session, live: str, types: Sequence[str], cursor: str | None
) -> dict[str, Any]:
    """One page of the History tab: its items, the next page's address, the filter."""
    chosen = display.history_types(types)
    filtered = len(chosen) < len(history.HISTORY_TYPES)
    _, items, following = history.read(
        session,
        live,
        types=chosen,
        newest_first=True,
        cursor=cursor,
        limit=HISTORY_PAGE,
    )
    query: list[tuple[str, str]] = [("type", name) for name in chosen] if filtered else []
    more_items = more_page = None
    if following is not None:
        more_query = urlencode([*query, ("cursor", following)])
        more_items = f"/profiles/{live}/history/items?{more_query}"
        more_page = f"/profiles/{live}/history?{more_query}"
    return {
        "items": items,
        "chosen": chosen,
        "filtered": filtered,
        "type_groups": display.TYPE_GROUPS,
        "type_labels": display.TYPE_LABELS,
        "more_items": more_items,
        "more_page": more_page,
        "paged": cursor is not None,
        "newest_page": f"/profiles/{live}/history" + (f"?{urlencode(query)}" if query else ""),
    }


TypeFilter = Annotated[list[str] | None, Query(alias="type", max_length=20)]
HistoryCursor = Annotated[str | None, Query(max_length=200)]


@router.get("/profiles/{profile_id}/history")
def history_tab(
    profile_id: str,
    request: Request,
    _active: SignedIn,
    session: DbSession,
    now: Now,
    types: TypeFilter = None,
    cursor: HistoryCursor = None,
) -> Response:
    """Newest first, scrolling back to the first engagement; filtered by type."""
    live, redirect = live_id_or_redirect(request, session, profile_id)
    if redirect is not None:
        return redirect
    context = history_context(session, live, types or [], cursor)
    return render_tab(request, session, now, live, "history", context)


@router.get("/profiles/{profile_id}/history/items")
def history_items(
    profile_id: str,
    request: Request,
    _active: SignedIn,
    session: DbSession,
    types: TypeFilter = None,
    cursor: HistoryCursor = None,
) -> Response:
    """The next page of items and the sentinel that loads the one after (infinite scroll)."""
    live, redirect = live_id_or_redirect(request, session, profile_id)
    if redirect is not None:
        return redirect
    context = history_context(session, live, types or [], cursor)
    return render(request, "partials/history_items.html", {"profile_id": live, **context})


# --- notes (the tab; writing them is pages/notes.py) ---------------------------------------

# What a write without script says when it lands back on the tab (`?notice=`).
NOTE_NOTICES = {"added": "Note added.", "saved": "Note saved.", "restored": "Note restored."}


def notes_context(
    session: Session,
    live: str,
    *,
    cursor: str | None = None,
    editing: str | None = None,
    deleted: str | None = None,
    notice: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The Notes tab: the form, a page of notes newest first, and what is being edited."""
    rows, following = notes.list_notes(session, live, cursor=cursor, limit=NOTES_PAGE)
    return {
        "notes": rows,
        "more_notes": f"/profiles/{live}/notes?{urlencode({'cursor': following})}"
        if following
        else None,
        "paged": cursor is not None,
        "editing": editing,
        "deleted": deleted,
        "notice": NOTE_NOTICES.get(notice or ""),
        "values": values or {},
        "errors": errors or {},
    }


@router.get("/profiles/{profile_id}/notes")
def notes_tab(
    profile_id: str,
    request: Request,
    _active: SignedIn,
    session: DbSession,
    now: Now,
    cursor: HistoryCursor = None,
    edit: Annotated[str | None, Query(max_length=40)] = None,
    deleted: Annotated[str | None, Query(max_length=40)] = None,
    notice: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """Notes agents left, newest first, with a form to add one."""
    live, redirect = live_id_or_redirect(request, session, profile_id)
    if redirect is not None:
        return redirect
    context = notes_context(
        session, live, cursor=cursor, editing=edit, deleted=deleted, notice=notice
    )
    return render_tab(request, session, now, live, "notes", context)


# --- merges -------------------------------------------------------------------------------

RULES = {
    "shared_link": (
        "Shared link",
        "One record carried links that belonged to two profiles, so they are the same person.",
    ),
    "unify": (
        "Unify record",
        "A unify record declared that these links belong to one person.",
    ),
}


@router.get("/profiles/{profile_id}/merges")
def merges_page(
    profile_id: str, request: Request, _active: SignedIn, session: DbSession, now: Now
) -> Response:
    """Why these links are one person: every merge that built the profile."""
    live, redirect = live_id_or_redirect(request, session, profile_id)
    if redirect is not None:
        return redirect
    view = service.read(session, live, tickets=0, now=now)
    merges = identity.merge_history(session, live)
    shown = [
        {
            "merge": merge,
            "rule": RULES.get(merge.rule, (display.human_name(merge.rule), "")),
            "links": [
                display.ShownLink(
                    display.LINK_LABELS.get(str(link.get("type")), str(link.get("type"))),
                    str(link.get("value")),
                    link.get("system_name") or None,
                    None,
                )
                for link in merge.links
            ],
        }
        for merge in reversed(merges)
    ]
    return render(
        request,
        "pages/profile_merges.html",
        {"merges": shown, **header_context(view)},
    )
