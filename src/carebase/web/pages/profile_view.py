"""What every profile page shares: the header (name, links), the four tabs and how a tab is
answered (the whole page, or for htmx the tabs and panel alone), and the redirect of a merged
id to its survivor. The pages themselves are `profiles.py` (search, Summary, Attributes) and
`profile_tabs.py` (History, Notes, merges).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from carebase.errors import NotFound
from carebase.identity import service as identity
from carebase.profiles import service
from carebase.web import profile_display as display
from carebase.web.format import Viewer
from carebase.web.render import is_htmx, page_context
from carebase.web.render import render as render_page

TABS = (
    ("notes", "Notes"),
    ("summary", "Summary"),
    ("attributes", "Attributes"),
    ("history", "History"),
)
VIEW_TARGET = "profile-view"


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
