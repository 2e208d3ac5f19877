"""Profile search (`/profiles`) and the profile view (`/profiles/{id}`): a header with the
customer's name and links, and four tabs in the references' order — Notes, Summary (the
default), Attributes, History — each a real page (`/profiles/{id}/notes` …) that htmx swaps
in place (`HX-Target: profile-view`) and pushes to the address bar. This module holds search,
Summary and Attributes; `profile_tabs.py` History, Notes and the merge explanation;
`profile_view.py` what they share.

Every page needs a signed-in user (agents and managers alike). A merged id answers with a
redirect to its survivor's page; a forgotten or unknown one, a 404 page.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from carebase.http.deps import DbSession, Now
from carebase.profiles import history, search, service
from carebase.segments import service as segment_service
from carebase.web import profile_display as display
from carebase.web.pages.profile_view import (
    header_context,
    live_id_or_redirect,
    render,
    render_tab,
    viewer_of,
)
from carebase.web.routing import page_router
from carebase.web.session import SignedIn

router = page_router()

SEARCH_LIMIT = 20
SUMMARY_TIMELINE = 5
SUMMARY_TICKETS = 10

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
        "segments": segment_service.segments_of_profile(session, live).items,
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
