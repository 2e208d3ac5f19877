"""Segments in Chromium, signed in as a manager, on both engines: a segment built with the
keyboard alone (rows added with htmx, the live count following the edits), saved and
listed; its page with members and size over time; every segment page passes axe (no
serious or critical violation) at desktop width and loads under its CSP."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from carebase.db.session import Database
from tests.browser.chromium import Visit, axe_violations, blocking, describe, open_page
from tests.conftest import make_token, test_settings
from tests.console_session import browser_cookie, create_signed_in
from tests.helpers import ticket
from tests.serverproc import RunningServer

FREQUENT = {"type": "attribute", "field": "ticket_count", "op": "gte", "value": 3}


@dataclass(frozen=True)
class Team:
    """A seeded server, an admin token for its API, and a manager's session cookies."""

    server: RunningServer
    token: str
    cookies: list[dict[str, Any]]

    def api(self, method: str, path: str, **options: Any) -> httpx.Response:
        """Call the server's API as the admin."""
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.request(method, self.server.url + path, headers=headers, **options)


@pytest.fixture(scope="package")
def team(server: RunningServer) -> Team:
    """Three customers with 4, 1 and 3 recent tickets, and a manager (once per engine)."""
    settings = test_settings(server.database_url)
    database = Database.from_settings(settings)
    now = datetime.now(UTC)
    try:
        token = make_token(database, "admin", name="segments-browser")
        manager = create_signed_in(
            database, settings, email="mia.manager@brand.io", role="manager", now=now
        )
    finally:
        database.dispose()
    made = Team(server, token, [browser_cookie(manager, settings, server.url)])
    dataset = made.api(
        "POST",
        "/v1/datasets",
        json={"name": "seg-tickets", "record_type": "customer_support_ticket"},
    )
    assert dataset.status_code == 201, dataset.text
    events = []
    for email, count in (("ann.seg@fake.com", 4), ("bob.seg@fake.com", 1), ("cat.seg@fake.com", 3)):
        for number in range(count):
            created = now - timedelta(days=3 + number)
            event = ticket(f"seg-{email}-{number}", link={"email": email})
            event["timeline"] = {"created_at": created.isoformat()}
            event["action_at"] = (created + timedelta(minutes=5)).isoformat()
            events.append(event)
    posted = made.api(
        "POST", f"/v1/datasets/{dataset.json()['id']}/customer_support_ticket", json=events
    )
    assert posted.status_code == 200, posted.text
    return made


@pytest.fixture
def as_manager(browser: Browser, team: Team) -> Iterator[Callable[..., Visit]]:
    opened: list[Visit] = []

    def open_(path: str, **options: Any) -> Visit:
        visit = open_page(browser, team.server.url, path, cookies=team.cookies, **options)
        opened.append(visit)
        return visit

    yield open_
    for visit in opened:
        visit.context.close()


def _tab_to(page: Page, selector: str, *, limit: int = 60) -> None:
    """Press Tab until the element matching `selector` has focus."""
    for _ in range(limit):
        if page.evaluate(
            "(s) => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def _choose(page: Page, selector: str, value: str) -> None:
    """On a focused <select>, press ArrowDown until `value` is chosen (as a keyboard does)."""
    for _ in range(80):
        if page.locator(selector).input_value() == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{selector} never offered {value}")


def _settled(page: Page) -> None:
    """Wait until no htmx request is in flight (a row re-rendered after a choice)."""
    page.wait_for_function("() => document.querySelectorAll('.htmx-request').length === 0")


def _count(team: Team, definition: dict[str, Any]) -> int:
    counted = team.api("POST", "/v1/segments/preview", json={"definition": definition})
    assert counted.status_code == 200, counted.text
    found: int = counted.json()["count"]
    return found


def test_a_segment_built_with_the_keyboard_counts_as_it_goes_and_is_saved(
    as_manager: Callable[..., Visit], team: Team
) -> None:
    page = as_manager("/segments/new").page
    expect(page.locator("#segment-count")).to_contain_text("choose a condition")
    _tab_to(page, "#name")
    page.keyboard.type(f"Frequent, typed {datetime.now(UTC):%H%M%S%f}")
    # The first Must row: Ticket count is at least 3.
    _tab_to(page, "#rows-must select[id$='-field']")
    field_id = page.evaluate("document.activeElement.id")
    _choose(page, f"#{field_id}", "ticket_count")
    row_key = field_id.removesuffix("-field")
    expect(page.locator(f"#{row_key}-op")).to_be_visible()
    expect(page.locator(f"#{field_id}")).to_be_focused()
    page.keyboard.press("Tab")
    _choose(page, f"#{row_key}-op", "gte")
    # A person reads the row before typing; the test waits for its re-render the same way.
    _settled(page)
    page.keyboard.press("Tab")
    expect(page.locator(f"#{row_key}-value")).to_be_focused()
    page.keyboard.type("3")
    expected = _count(team, {"type": "group", "op": "and", "children": [FREQUENT]})
    count = page.locator("#segment-count")
    expect(count).to_contain_text(f"{expected} profile")
    expect(count).to_have_attribute("aria-live", "polite")

    # A Must event row, added with the keyboard: focus lands in it.
    _tab_to(page, "#add-must-event")
    page.keyboard.press("Enter")
    expect(page.locator("#rows-must [data-row]")).to_have_count(2)
    event_select = page.locator("#rows-must [data-row]").nth(1).locator("select").first
    expect(event_select).to_be_focused()
    event_key = event_select.get_attribute("id").removesuffix("-event")  # type: ignore[union-attr]
    _tab_to(page, f"#{event_key}-count_value")
    page.keyboard.press("Control+A")
    page.keyboard.type("4")
    both = {
        "type": "group",
        "op": "and",
        "children": [
            FREQUENT,
            {
                "type": "event",
                "event": "customer_support_ticket",
                "count": {"op": "gte", "value": 4},
            },
        ],
    }
    expect(count).to_contain_text(f"{_count(team, both)} profile")

    # Enter in a text box saves; the segment's page says so, then the list has it.
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/segments/seg_[^/?]+\?done=created$"))
    expect(page.locator("#flash")).to_contain_text("first refresh is on its way")
    name = page.locator("h1").inner_text()
    page.goto("/segments")
    expect(page.get_by_role("link", name=name)).to_be_visible()


def test_a_segment_page_shows_its_members_and_sizes(
    as_manager: Callable[..., Visit], team: Team
) -> None:
    created = team.api(
        "POST",
        "/v1/segments",
        json={"name": f"Members {datetime.now(UTC):%H%M%S%f}", "definition": FREQUENT},
    )
    assert created.status_code == 201, created.text
    segment_id = created.json()["id"]
    expected = _count(team, FREQUENT)
    page = as_manager(f"/segments/{segment_id}").page
    # The server's job runner refreshes it; reload until it has.
    for _ in range(40):
        if "Ready" in page.locator(".totals").inner_text():
            break
        page.wait_for_timeout(250)
        page.reload()
    expect(page.locator(".totals")).to_contain_text("Ready")
    expect(page.locator(".table-wrap[aria-label='Members table'] tbody tr")).to_have_count(expected)
    expect(page.locator(".sizes__chart rect")).to_have_count(1)
    expect(page.get_by_role("link", name="Download CSV")).to_be_visible()


def _check(visit: Visit) -> None:
    found = blocking(axe_violations(visit.page))
    assert found == [], describe(found)


def _segment_id(team: Team, name: str, definition: dict[str, Any]) -> str:
    listed = team.api("GET", "/v1/segments").json()["items"]
    found = next((s["id"] for s in listed if s["name"] == name), None)
    if found:
        return str(found)
    created = team.api("POST", "/v1/segments", json={"name": name, "definition": definition})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


DEEP = {
    "type": "group",
    "op": "or",
    "children": [
        {"type": "group", "op": "and", "children": [FREQUENT]},
        {"type": "attribute", "field": "order_count", "op": "gte", "value": 2},
    ],
}
UNHAPPY = {
    "type": "group",
    "op": "and",
    "children": [
        FREQUENT,
        {
            "type": "group",
            "op": "at_least",
            "min": 1,
            "children": [
                {"type": "attribute", "field": "open_ticket_count", "op": "gte", "value": 1}
            ],
        },
        {
            "type": "not",
            "child": {
                "type": "event",
                "event": "customer_support_ticket",
                "window_days": 30,
                "where": {
                    "type": "group",
                    "op": "and",
                    "children": [
                        {
                            "type": "event_field",
                            "field": "satisfaction_score",
                            "op": "eq",
                            "value": "good",
                        }
                    ],
                },
            },
        },
    ],
}
PAGES: dict[str, Callable[[Team], str]] = {
    "list": lambda team: "/segments",
    "new": lambda team: "/segments/new",
    "segment": lambda team: f"/segments/{_segment_id(team, 'Axe unhappy', UNHAPPY)}",
    "edit": lambda team: f"/segments/{_segment_id(team, 'Axe unhappy', UNHAPPY)}/edit",
    "edit-json": lambda team: f"/segments/{_segment_id(team, 'Axe deep', DEEP)}/edit",
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_segment_pages_pass_axe_and_load_under_their_csp(
    as_manager: Callable[..., Visit], team: Team, name: str
) -> None:
    path = PAGES[name](team)
    scanned = as_manager(path, bypass_csp=True)
    assert scanned.status == 200, path
    if name in {"new", "edit"}:
        expect(scanned.page.locator("#segment-count")).to_contain_text("match")
    _check(scanned)
    plain = as_manager(path)
    if name in {"new", "edit"}:
        expect(plain.page.locator("#segment-count")).to_contain_text("match")
    assert plain.csp_refusals == []
    assert plain.page_errors == []
    assert plain.outside == []
    assert plain.page.evaluate("document.querySelectorAll('style').length") == 0
