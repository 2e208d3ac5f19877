"""The Activity dashboard: Summary (`/activity`), Team, SLA, Cases and NPS tabs, each with
the same filters (date range, agents, groups; the survey on NPS) and a CSV of every table
(`/activity/<tab>.csv?table=<name>&<filters>`).

Every number comes from the Activity registry (`report_types()[name].run`), exactly as
POST /v1/activity/reports answers it; this module only reads filters and arranges answers.
Who may: every signed-in user (agents read their team's numbers too, as in the reference).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from carebase.errors import NotFound
from carebase.inbox import forms
from carebase.users import service as users
from carebase.web.actions import now_of, read, settings_of
from carebase.web.pages.activity_filters import (
    Filters,
    QuickRange,
    Results,
    quick_ranges,
    read_filters,
    run_reports,
)
from carebase.web.pages.activity_model import TabView, cell_text
from carebase.web.pages.activity_tabs import TAB_BY_SLUG, TABS, Tab
from carebase.web.render import render
from carebase.web.routing import page_router
from carebase.web.session import SignedIn

router = page_router()

Choices = list[tuple[str, str]]
TableName = Annotated[str, Query(alias="table", max_length=60)]
TabSlug = Annotated[str, Path(max_length=20)]


@dataclass(frozen=True)
class Lookups:
    """The filters' choices: agents, groups and NPS surveys."""

    users: Choices
    groups: Choices
    forms: Choices


def lookups(session: Session) -> Lookups:
    """Every user and group (archived ones too: old reports name them) and NPS form."""
    people = [
        (
            str(u.id),
            (f"{u.first_name} {u.last_name}".strip() or u.email)
            + (" (archived)" if u.archived_at is not None else ""),
        )
        for u in users.list_users(session)
    ]
    groups = [(str(g.id), g.name) for g in users.list_groups(session, include_archived=True)]
    surveys = [
        (str(f.id), f.name + (" (archived)" if f.archived else ""))
        for f in forms.list_forms(session)
        if f.nps
    ]
    return Lookups(people, groups, surveys)


@dataclass(frozen=True)
class Outcome:
    """One tab's filters, choices and view, read in one unit of work."""

    filters: Filters
    lookups: Lookups
    view: TabView
    error: str | None


async def _outcome(request: Request, tab: Tab) -> Outcome:
    zone = settings_of(request).report_time_zone
    now = now_of(request)
    filters = read_filters(request.query_params, zone=zone, now=now)

    def work(session: Session) -> Outcome:
        found = lookups(session)
        chosen = filters
        if tab.needs_form and chosen.form is None and found.forms:
            chosen = replace(chosen, form=int(found.forms[0][0]))
        if tab.needs_form and chosen.form is None:
            view = TabView(note="No NPS survey yet: a manager creates one under Settings · Inbox.")
            return Outcome(chosen, found, view, None)
        results: Results = run_reports(
            session, chosen, tab.reports, zone=zone, now=now, with_form=tab.needs_form
        )
        view = tab.build(results) if results.error is None else TabView()
        view.missing = [name for name in tab.reports if name not in results.answers]
        return Outcome(chosen, found, view, results.error)

    return await read(request, work)


def _page(request: Request, tab: Tab, outcome: Outcome) -> HTMLResponse:
    filters = outcome.filters
    problems = list(filters.problems) + ([outcome.error] if outcome.error else [])
    zone = settings_of(request).report_time_zone
    ranges: list[QuickRange] = quick_ranges(filters, zone=zone, now=now_of(request))
    context: dict[str, Any] = {
        "tabs": TABS,
        "tab": tab,
        "filters": filters,
        "query": filters.query(),
        "ranges": ranges,
        "lookups": outcome.lookups,
        "view": outcome.view,
        "problems": problems,
        "zone": zone,
        "cell": cell_text,
        "activity_head": "activity/_assets.html",
    }
    status = 400 if problems else 200
    return render(request, "activity/tab.html", context, status_code=status)


async def _tab_page(request: Request, slug: str) -> HTMLResponse:
    tab = TAB_BY_SLUG[slug]
    return _page(request, tab, await _outcome(request, tab))


@router.get("/activity")
async def summary_page(request: Request, active: SignedIn) -> HTMLResponse:
    """Volume per state, the headline KPIs, the States table and top classifications."""
    return await _tab_page(request, "summary")


@router.get("/activity/team")
async def team_page(request: Request, active: SignedIn) -> HTMLResponse:
    """Per-agent stacked state bars and the agent table."""
    return await _tab_page(request, "team")


@router.get("/activity/sla")
async def sla_page(request: Request, active: SignedIn) -> HTMLResponse:
    """The average customer time per period and response times per agent."""
    return await _tab_page(request, "sla")


@router.get("/activity/cases")
async def cases_page(request: Request, active: SignedIn) -> HTMLResponse:
    """Open cases per period, closed cases' KPIs and case classifications."""
    return await _tab_page(request, "cases")


@router.get("/activity/nps")
async def nps_page(request: Request, active: SignedIn) -> HTMLResponse:
    """A survey's NPS, its promoters, passives and detractors, per period and in total."""
    return await _tab_page(request, "nps")


@router.get("/activity/{slug}.csv")
async def tab_csv(slug: TabSlug, request: Request, active: SignedIn, table: TableName) -> Response:
    """One table of a tab as CSV, over the same filters as the page."""
    tab = TAB_BY_SLUG.get(slug)
    if tab is None:
        raise NotFound(f"There is no Activity tab called {slug!r}.")
    outcome = await _outcome(request, tab)
    problems = list(outcome.filters.problems) + ([outcome.error] if outcome.error else [])
    if problems:
        return Response(
            " ".join(problems) + "\n", status_code=400, media_type="text/plain; charset=utf-8"
        )
    found = outcome.view.table(table)
    if found is None:
        raise NotFound(f"The {tab.label} tab has no table called {table!r}.")
    f = outcome.filters
    filename = f"activity-{tab.slug}-{found.name}-{f.date_from}-{f.date_to}.csv"
    return Response(
        found.csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
