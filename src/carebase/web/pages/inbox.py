"""The inbox: `/inbox` lists a queue's mentions by tab (New · Mine · All open · Follow-up ·
each state, with counts) and filters (classification, source type, assignee), each row with
its author, excerpt, source, state, assignee, classifications and SLA timer; checkboxes and
a bulk action bar (claim, assign, state, classify); and the agent's presence switch.

Every signed-in user works here; the changes go through the workflow's services
(`carebase.inbox.mentions`, `carebase.inbox.presence`) as the signed-in user. Without
script every control is a plain form; htmx swaps the list alone on a tab or filter change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from carebase.errors import ValidationFailed
from carebase.inbox import console_repository as queries
from carebase.inbox import presence
from carebase.web.actions import Toast, now_of, read, write
from carebase.web.forms import read_form
from carebase.web.pages.inbox_bulk import BULK_ACTIONS, BulkForm, run_bulk
from carebase.web.pages.inbox_shared import (
    STATE_KIND,
    TABS,
    author_of,
    excerpt,
    parse_choice,
    parse_int,
    state_label,
)
from carebase.web.pages.inbox_timers import timers_of
from carebase.web.render import is_htmx, render
from carebase.web.routing import page_router
from carebase.web.session import SignedIn

router = page_router()

PAGE_SIZE = 50
Param = Annotated[str | None, Query(max_length=60)]

# Helpers the inbox templates call.
HELPERS: dict[str, Any] = {
    "state_label": state_label,
    "state_kind": STATE_KIND,
    "author_of": author_of,
    "excerpt": excerpt,
    "bulk_actions": BULK_ACTIONS,
}


@dataclass(frozen=True)
class ListQuery:
    """The list's parameters, parsed."""

    filters: queries.Filters
    page: int

    def url(self, **changes: Any) -> str:
        """The list's address with some parameters changed."""
        f = self.filters
        params: dict[str, Any] = {
            "queue": f.queue_id or "",
            "tab": f.tab,
            "classification": f.classification_id if f.classification_id is not None else "",
            "source": f.source_type or "",
            "assignee": f.assignee_id if f.assignee_id is not None else "",
            "page": "",
        }
        params.update(changes)
        kept = {k: v for k, v in params.items() if v not in ("", None)}
        return "/inbox" + (f"?{urlencode(kept)}" if kept else "")


def list_query(
    queue: str | None,
    tab: str | None,
    classification: str | None,
    source: str | None,
    assignee: str | None,
    page: str | None,
) -> ListQuery:
    """The query string, checked (a 422 names the wrong parameter)."""
    filters = queries.Filters(
        queue_id=(queue or "").strip() or None,
        tab=parse_choice("tab", tab, TABS) or "new",
        classification_id=parse_int("classification", classification),
        source_type=(source or "").strip() or None,
        assignee_id=parse_int("assignee", assignee),
    )
    return ListQuery(filters, max(parse_int("page", page) or 1, 1))


def inbox_context(session: Session, query: ListQuery, user_id: int, now: Any) -> dict[str, Any]:
    """Everything the list page shows."""
    offset = (query.page - 1) * PAGE_SIZE
    rows, more = queries.page_of(session, query.filters, user_id, offset=offset, limit=PAGE_SIZE)
    return {
        **HELPERS,
        "query": query,
        "filters": query.filters,
        "rows": rows,
        "timers": {row.mention.id: timers_of(row.mention, now) for row in rows},
        "more": more,
        "counts": queries.tab_counts(session, query.filters, user_id),
        "first_tabs": queries.FIRST_TABS,
        "queues": queries.queues(session),
        "classifications": queries.classifications(session, include_archived=True),
        "offered_classifications": queries.classifications(session),
        "source_types": queries.source_types(session),
        "agents": queries.agents(session),
        "groups": queries.groups(session),
        "online": presence.is_online(session, user_id),
    }


@router.get("/inbox")
async def inbox_page(
    request: Request,
    active: SignedIn,
    queue: Param = None,
    tab: Param = None,
    classification: Param = None,
    source: Param = None,
    assignee: Param = None,
    page: Param = None,
    done: Param = None,
) -> HTMLResponse:
    """A queue's mentions, by tab and filters."""
    query = list_query(queue, tab, classification, source, assignee, page)
    now = now_of(request)
    user_id = active.user.id
    context = await read(request, lambda s: inbox_context(s, query, user_id, now))
    context["toast"] = Toast(_DONE_WORDS[done]) if done in _DONE_WORDS else None
    template = "inbox/_list.html" if _wants_list(request) else "inbox/inbox.html"
    return render(request, template, context)


def _wants_list(request: Request) -> bool:
    return is_htmx(request) and request.headers.get("hx-target") == "inbox-list"


_DONE_WORDS = {
    "online": "You are online: customer replies to your conversations come to you.",
    "offline": "You are offline.",
    "returned": "You are offline. Mentions you had claimed but not started went back to New.",
}


class PresenceForm(BaseModel):
    """The presence switch: `online` is 1 (online) or 0 (offline)."""

    online: str = Field(pattern="^[01]$")
    back: str = Field(default="/inbox", max_length=2000)


@router.post("/inbox/presence")
async def set_presence(request: Request, active: SignedIn) -> Response:
    """Switch the signed-in agent online or offline (offline returns their claimed,
    unstarted mentions to New)."""
    form = await read_form(request, PresenceForm)
    now, user_id = now_of(request), active.user.id
    if form.data is None:
        raise ValidationFailed.on("online", "must be 1 (online) or 0 (offline)")
    going_online = form.data.online == "1"

    def work(session: Session) -> int:
        if going_online:
            presence.heartbeat(session, user_id, now)
            return 0
        return len(presence.go_offline(session, user_id, now, reason="manual"))

    returned = await write(request, work)
    key = "online" if going_online else ("returned" if returned else "offline")
    back = _back(form.values.get("back"))
    if is_htmx(request):
        message = _DONE_WORDS[key]
        if returned:
            message = f"You are offline. {returned} claimed mention(s) went back to New."
        return render(
            request,
            "inbox/_presence.html",
            {"online": going_online, "toast": Toast(message), "back": back},
        )
    # The list says what happened; another inbox page is simply shown again.
    target = f"/inbox?done={key}" if back == "/inbox" else back
    return RedirectResponse(target, status_code=303)


@router.post("/inbox/presence/beat")
async def presence_beat(request: Request, active: SignedIn) -> Response:
    """The console's sign of an agent at work (carebase.js sends it on activity, at most once
    a minute): keeps an online agent online. Answers the presence switch as it now stands,
    swapped in wherever the page shows it (an agent the idle check took offline sees it)."""
    now, user_id = now_of(request), active.user.id
    online = await write(request, lambda s: presence.keep_alive(s, user_id, now))
    shown_on = urlsplit(request.headers.get("hx-current-url", ""))
    back = _back(shown_on.path + (f"?{shown_on.query}" if shown_on.query else ""))
    return render(request, "inbox/_presence.html", {"online": online, "back": back, "oob": True})


def _back(value: str | None) -> str:
    """Where a form returns to: an inbox address only (never another site)."""
    if value and value.startswith("/inbox") and "//" not in value and "\\" not in value:
        return value
    return "/inbox"


@router.post("/inbox/bulk")
async def bulk_action(request: Request, active: SignedIn) -> Response:
    """Apply one action to the checked mentions; each refused one is listed with its reason."""
    form = await read_form(request, BulkForm)
    now, user_id = now_of(request), active.user.id
    outcome = await run_bulk(request, form, user_id, now)
    v = form.values
    query = list_query(
        v.get("f_queue"),
        v.get("f_tab"),
        v.get("f_classification"),
        v.get("f_source"),
        v.get("f_assignee"),
        None,
    )
    context = await read(request, lambda s: inbox_context(s, query, user_id, now))
    context["bulk"] = outcome
    context["toast"] = Toast(outcome.summary) if outcome.done else None
    status = 200 if outcome.done else 422
    template = "inbox/_list.html" if is_htmx(request) else "inbox/inbox.html"
    return render(request, template, context, status_code=status)
