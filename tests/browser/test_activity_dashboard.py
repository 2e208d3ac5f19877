"""The Activity dashboard in Chromium, signed in as a manager, on both engines: every tab
draws its charts (Chart.js from the JSON blocks) under the console's CSP with no page error
and no request leaving the server; the tabs and filters work from the keyboard alone; and
every tab passes axe (no serious or critical violation)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from carebase.db.session import Database
from tests.activity.case_helpers import add_answer, add_case, add_form, add_invitation
from tests.activity.conftest import Seed
from tests.browser.chromium import Visit, axe_violations, blocking, describe, open_page
from tests.conftest import FakeClock, test_settings
from tests.console_session import browser_cookie, create_signed_in
from tests.serverproc import RunningServer

TABS = {
    "summary": ("/activity", 1),
    "team": ("/activity/team", 1),
    "sla": ("/activity/sla", 1),
    "cases": ("/activity/cases", 1),
    "nps": ("/activity/nps", 1),
}


@dataclass(frozen=True)
class Team:
    """A seeded server and a manager's session cookies."""

    server: RunningServer
    cookies: list[dict[str, Any]]
    agent_id: int


@pytest.fixture(scope="package")
def activity_team(server: RunningServer) -> Team:
    """Mentions over the last days (some on a weekend), a closed case and NPS answers."""
    settings = test_settings(server.database_url)
    database = Database.from_settings(settings)
    now = datetime.now(UTC)
    clock = FakeClock()
    clock.now = now
    try:
        manager = create_signed_in(
            database, settings, email="max.activity@brand.io", role="manager", now=now
        )
        agent = create_signed_in(
            database, settings, email="ada.activity@brand.io", first_name="Ada", now=now
        )
        seed = Seed(database, clock)
        topic = seed.classification("Activity billing")
        for days, state in ((2, "closed"), (3, "responded"), (5, "closed"), (8, "new")):
            responded = state != "new"
            seed.mention(
                published_at=now - timedelta(days=days),
                state=state,
                assignee_id=agent.id if responded else None,
                first_responder_id=agent.id if responded else None,
                response_s=900.0 * days if responded else None,
                action_s=300.0 * days if responded else None,
                broke_sla=days > 4 if responded else None,
                broke_action_sla=False if responded else None,
                responded_in_private=False if responded else None,
                classifications=[topic] if responded else [],
            )
        with database.unit_of_work() as session:
            add_case(
                session,
                now - timedelta(days=4),
                now - timedelta(days=2),
                first_reply_s=600,
                resolution_s=5400,
                agent_replies=3,
                agents_involved=1,
            )
            form_id = add_form(session, now - timedelta(days=9))
            for days, score in ((3, 10), (2, 6), (1, 8)):
                add_invitation(session, form_id, now - timedelta(days=days + 1), agent.id, [])
                add_answer(session, form_id, now - timedelta(days=days), score, agent.id)
    finally:
        database.dispose()
    return Team(server, [browser_cookie(manager, settings, server.url)], agent.id)


@pytest.fixture
def as_manager(browser: Browser, activity_team: Team) -> Iterator[Callable[..., Visit]]:
    opened: list[Visit] = []

    def open_(path: str, **options: Any) -> Visit:
        visit = open_page(
            browser, activity_team.server.url, path, cookies=activity_team.cookies, **options
        )
        opened.append(visit)
        return visit

    yield open_
    for visit in opened:
        visit.context.close()


def _drawn(page: Page, charts: int) -> None:
    """Wait until every chart canvas has been drawn by activity.js."""
    expect(page.locator("canvas[data-chart]")).to_have_count(charts)
    expect(page.locator("canvas[data-drawn='true']")).to_have_count(charts)


@pytest.mark.parametrize("tab", sorted(TABS))
def test_every_tab_draws_its_charts_under_the_csp(
    as_manager: Callable[..., Visit], tab: str
) -> None:
    path, charts = TABS[tab]
    visit = as_manager(path)
    assert visit.status == 200, path
    _drawn(visit.page, charts)
    # Chart.js painted something: the canvas is not blank.
    painted = visit.page.evaluate(
        """() => { const c = document.querySelector('canvas[data-chart]');
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) return true; }
                   return false; }"""
    )
    assert painted
    if tab != "team":  # the Team tab is its chart and table only
        expect(visit.page.locator(".activity-kpi").first).to_be_visible()
    assert visit.page_errors == []
    assert visit.csp_refusals == []
    assert visit.outside == []
    assert visit.page.evaluate("document.querySelectorAll('style').length") == 0


@pytest.mark.parametrize("tab", sorted(TABS))
def test_every_tab_passes_axe(as_manager: Callable[..., Visit], tab: str) -> None:
    path, charts = TABS[tab]
    visit = as_manager(path, bypass_csp=True)
    _drawn(visit.page, charts)
    # The data tables too, opened.
    visit.page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    found = blocking(axe_violations(visit.page))
    assert found == [], describe(found)


def _tab_to(page: Page, selector: str, *, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has focus."""
    for _ in range(limit):
        if page.evaluate(
            "(s) => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_tabs_and_filters_work_from_the_keyboard(
    as_manager: Callable[..., Visit], activity_team: Team
) -> None:
    page = as_manager("/activity").page
    _drawn(page, 1)
    # A tab, by keyboard: the Team page opens with its chart.
    _tab_to(page, "nav[aria-label='Activity reports'] a[href^='/activity/team']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/activity/team?**")
    _drawn(page, 1)
    expect(page.locator("nav[aria-label='Activity reports'] a[aria-current='page']")).to_have_text(
        "Team"
    )
    # A quick range: the last 7 days.
    _tab_to(page, ".activity-ranges li:nth-child(2) a")
    page.keyboard.press("Enter")
    page.wait_for_url("**/activity/team?**")
    expect(page.locator(".activity-ranges a[aria-current='true']")).to_have_text("7 days")
    # An agent, chosen in the list with the arrow keys, then Apply.
    _tab_to(page, "#filter-users")
    agent = str(activity_team.agent_id)
    for _ in range(40):
        if page.locator("#filter-users").evaluate(
            "(s, v) => [...s.selectedOptions].some(o => o.value === v)", agent
        ):
            break
        page.keyboard.press("ArrowDown")
    _tab_to(page, ".activity-filters button[type='submit']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**users={agent}**")
    _drawn(page, 1)
    expect(page.locator("#table-user_summary tbody tr")).to_have_count(1)
    expect(page.locator("#table-user_summary tbody th")).to_have_text("Ada Agent")
    # The filters travel with the tabs.
    _tab_to(page, "nav[aria-label='Activity reports'] a[href^='/activity/sla']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/activity/sla?**users={agent}**")
    _drawn(page, 1)
