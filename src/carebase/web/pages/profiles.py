"""Profile search (`/profiles`) and the profile view (`/profiles/{id}`): a header with the
customer's name and links, and four tabs in the references' order — Notes, Summary (the
default), Attributes, History — each a real page (`/profiles/{id}/notes` …) that htmx swaps
in place (`HX-Target: profile-view`) and pushes to the address bar; and the merge
explanation (`/profiles/{id}/merges`).

Every page needs a signed-in user (agents and managers alike). A merged id answers with a
redirect to its survivor's page; a forgotten or unknown one, a 404 page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from carebase.errors import NotFound
from carebase.http.deps import DbSession, Now
from carebase.identity import service as identity
from carebase.notes import service as notes
from carebase.profiles import history, search, service
from carebase.web import profile_display as display
from carebase.web.format import Viewer
from carebase.web.render import is_htmx, page_context
from carebase.web.render import render as render_page
from carebase.web.routing import page_router
from carebase.web.session import SignedIn

router = page_router()

SEARCH_LIMIT = 20
HISTORY_PAGE = 20
NOTES_PAGE = 20
SUMMARY_TIMELINE = 5
SUMMARY_TICKETS = 10
TABS = (
    ("notes", "Notes"),
    ("summary", "Summary"),
    ("attributes", "Attributes"),
    ("history", "History"),
)
VIEW_TARGET = "profile-view"

# What the Summary shows of each family, by category.
SUMMARY_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Support",
        (
            "open_ticket_count",
            "ticket_count",
            "tickets_last_30_days",
            "last_ticket_date",
            "last_ticket_status",
            "last_satisfaction_score",
            "avg_first_reply_time",
            "tags",
        ),
    ),
    (
        "Commerce",
        (
            "order_count",
            "total_spend",
            "average_order_value",
            "last_order_date",
            "return_count",
            "top_categories",
        ),
    ),
    (
        "Email and SMS",
        (
            "emails_sent",
            "emails_opened",
            "emails_clicked",
            "last_email_open_at",
            "sms_sent",
            "subscriptions",
        ),
    ),
)


# Helpers the profile templates call.
HELPERS = {"status_kind": display.status_kind, "kind_word": display.kind_word}


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """`carebase.web.render.render` with the profile templates' helpers."""
    return render_page(
        request, template, {**HELPERS, **context}, status_code=status_code, headers=headers
    )


def viewer_of(request: Request) -> Viewer:
    """The signed-in viewer (time zone, locale) the page is written for."""
    viewer: Viewer = page_context(request)["viewer"]
    return viewer


# --- search -------------------------------------------------------------------------------


def _search(session: Session, q: str) -> dict[str, Any]:
    text = q.strip()
    context: dict[str, Any] = {
        "q": q,
        "hits": [],
        "truncated": False,
        "error": None,
        "oob": False,
    }
    if len(text) > search.MAX_QUERY:
        context["error"] = f"Type at most {search.MAX_QUERY} characters."
        return context
    if text:
        found = search.search(session, text, limit=SEARCH_LIMIT)
        context.update(hits=found.hits, truncated=found.truncated)
    return context


@router.get("/profiles")
def search_page(
    request: Request,
    _active: SignedIn,
    session: DbSession,
    q: Annotated[str, Query(max_length=2000)] = "",
) -> HTMLResponse:
    """Profile search: results as you type (htmx), or on submit without script."""
    context = _search(session, q)
    return render(
        request,
        "pages/profiles.html",
        context,
        status_code=422 if context["error"] else 200,
    )


@router.get("/profiles/search")
def search_results(
    request: Request,
    _active: SignedIn,
    session: DbSession,
    q: Annotated[str, Query(max_length=2000)] = "",
) -> HTMLResponse:
    """The results list alone (what the search box swaps in as you type); the address bar
    follows the query (`HX-Replace-Url`), so a reload or a shared link shows the same."""
    context = _search(session, q)
    address = "/profiles" + (f"?{urlencode({'q': q})}" if q.strip() else "")
    return render(
        request,
        "partials/search_results.html",
        {**context, "oob": True},
        status_code=422 if context["error"] else 200,
        headers={"HX-Replace-Url": address},
    )


# --- the profile view ---------------------------------------------------------------------


def live_id_or_redirect(
    request: Request, session: Session, profile_id: str
) -> tuple[str, Response | None]:
    """The live profile an id names; for a merged id, also the redirect to its survivor's
    same page (htmx: `HX-Redirect`). NotFound when there is none."""
    live = identity.live_profile_id(session, profile_id)
    if live is None:
        raise NotFound("No profile has this id: it may have been forgotten, or the link is wrong.")
    if live == profile_id:
        return live, None
    path = request.url.path.replace(f"/profiles/{profile_id}", f"/profiles/{live}", 1)
    target = path + (f"?{request.url.query}" if request.url.query else "")
    if is_htmx(request):
        return live, Response(status_code=200, headers={"HX-Redirect": target})
    return live, RedirectResponse(target, status_code=303)


def header_context(view: service.ProfileView) -> dict[str, Any]:
    """What the header shows: the customer's name and links."""
    return {
        "profile_id": view.id,
        "name": display.display_name(view.customer, view.links, view.id),
        "links": display.shown_links(view.links),
        "customer": view.customer,
        "open_tickets": view.attributes.get("open_ticket_count") or 0,
    }


def wants_panel(request: Request) -> bool:
    """Whether htmx asked for the tabs and their panel alone (a tab switch)."""
    return is_htmx(request) and request.headers.get("hx-target") == VIEW_TARGET


def render_tab(
    request: Request,
    session: Session,
    now: datetime,
    live_id: str,
    tab: str,
    context: dict[str, Any],
    *,
    view: service.ProfileView | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A tab as the whole page, or (htmx) the tabs and panel alone."""
    base = {"profile_id": live_id, "tab": tab, "tabs": TABS, **context}
    if wants_panel(request):
        return render(
            request, "partials/profile_view.html", base, status_code=status_code, headers=headers
        )
    if view is None:
        view = service.read(session, live_id, tickets=0, now=now)
    return render(
        request,
        "pages/profile.html",
        {**base, **header_context(view)},
        status_code=status_code,
        headers=headers,
    )


@router.get("/profiles/{profile_id}")
def profile_page(
    profile_id: str, request: Request, _active: SignedIn, session: DbSession, now: Now
) -> Response:
    """The profile, Summary tab open."""
    return summary_tab(profile_id, request, _active, session, now)


@router.get("/profiles/{profile_id}/summary")
def summary_tab(
    profile_id: str, request: Request, _active: SignedIn, session: DbSession, now: Now
) -> Response:
    """The customer at a glance: key attributes by category, open tickets, recent
    engagements."""
    live, redirect = live_id_or_redirect(request, session, profile_id)
    if redirect is not None:
        return redirect
    view = service.read(session, live, tickets=SUMMARY_TICKETS, now=now)
    viewer = viewer_of(request)
    _, timeline, more = history.read(
        session,
        live,
        types=[],
        newest_first=True,
        cursor=None,
        limit=SUMMARY_TIMELINE,
    )
    open_tickets = [
        ticket for ticket in view.tickets if display.is_open(ticket.status, ticket.closed_at)
    ]
    context = {
        "groups": [
            (title, display.pick(view, names, viewer, now)) for title, names in SUMMARY_GROUPS
        ],
        "open_ticket_list": open_tickets,
        "open_ticket_count": view.attributes.get("open_ticket_count") or 0,
        "timeline": timeline,
        "timeline_more": more is not None,
        "place": _place(view.customer),
        "loyalty": view.customer.get("loyalty") or {},
        **header_context(view),
    }
    return render_tab(request, session, now, live, "summary", context, view=view)


def _place(customer: dict[str, Any]) -> str | None:
    parts = [customer.get(key) for key in ("city", "state", "country")]
    text = ", ".join(str(part) for part in parts if part)
    return text or None


@router.get("/profiles/{profile_id}/attributes")
def attributes_tab(
    profile_id: str, request: Request, _active: SignedIn, session: DbSession, now: Now
) -> Response:
    """Every catalogue attribute with its value and its definition, by family."""
    live, redirect = live_id_or_redirect(request, session, profile_id)
    if redirect is not None:
        return redirect
    view = service.read(session, live, tickets=0, now=now)
    context = {
        "families": display.families(view, viewer_of(request), now),
        "computed_at": view.attributes.get("computed_at"),
    }
    return render_tab(request, session, now, live, "attributes", context, view=view)


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
