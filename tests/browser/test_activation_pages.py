"""Activation in Chromium, on both engines: every activation page passes axe (no serious or
critical violation) at desktop width and loads under its CSP; a destination created with the
keyboard alone; a dry run started from its orchestration's page, followed live by the
polled progress partial until it ends, without a reload."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from carebase.activation import orchestrations, run_service
from carebase.activation import service as destinations
from carebase.activation.schemas import DestinationIn, OrchestrationIn
from carebase.db.session import Database
from carebase.query import service as queries
from carebase.segments import service as segments
from tests.browser.chromium import Visit, axe_violations, blocking, describe, open_page
from tests.conftest import test_settings
from tests.console_session import browser_cookie, create_signed_in
from tests.serverproc import RunningServer


@dataclass(frozen=True)
class Setup:
    """A seeded server: a manager's cookies, and the ids the pages name."""

    server: RunningServer
    cookies: list[dict[str, Any]]
    ids: dict[str, str]


@pytest.fixture(scope="package")
def setup(server: RunningServer) -> Setup:
    """A destination, a segment and a saved query, an orchestration and one ended run."""
    settings = test_settings(server.database_url)
    database = Database.from_settings(settings)
    now = datetime.now(UTC)
    try:
        manager = create_signed_in(
            database, settings, email="ana.activation@brand.io", role="manager", now=now
        )
        with database.unit_of_work() as session:
            destination = destinations.create_destination(
                session,
                DestinationIn(
                    name="Axe Zendesk",
                    kind="zendesk",
                    config={"base_url": "https://axe.zendesk.com", "email": "a@brand.io"},
                    secrets={"api_token": "t"},
                ),
                settings=settings,
                now=now,
                created_by="test",
            )
            segment = segments.create_segment(
                session,
                {
                    "name": "Axe everyone",
                    "definition": {
                        "type": "attribute",
                        "field": "ticket_count",
                        "op": "gte",
                        "value": 0,
                    },
                },
                now=now,
                created_by="test",
            )
            query = queries.create_query(
                session,
                name="Axe query",
                description="",
                sql="SELECT c.profile_id AS external_id, c.email FROM customer_360 c",
                dialect=database.dialect,
                created_by="test",
                now=now,
            )
            orchestration = orchestrations.create_orchestration(
                session,
                OrchestrationIn.model_validate(
                    {
                        "name": "Axe orchestration",
                        "destination_id": destination.id,
                        "source": {"type": "segment", "id": segment.id, "attributes": ["email"]},
                        "schedule": {"type": "cron", "cron": "0 6 * * 1-5", "timezone": "UTC"},
                    }
                ),
                now=now,
                created_by="test",
            )
            run = run_service.start_run(session, orchestration.id, now=now, requested_by="test")
            run_service.cancel_run(session, orchestration.id, run.id, now=now)
    finally:
        database.dispose()
    ids = {
        "destination": destination.id,
        "orchestration": orchestration.id,
        "run": run.id,
        "query": str(query["id"]),
    }
    return Setup(server, [browser_cookie(manager, settings, server.url)], ids)


@pytest.fixture
def as_manager(browser: Browser, setup: Setup) -> Iterator[Callable[..., Visit]]:
    opened: list[Visit] = []

    def open_(path: str, **options: Any) -> Visit:
        visit = open_page(browser, setup.server.url, path, cookies=setup.cookies, **options)
        opened.append(visit)
        return visit

    yield open_
    for visit in opened:
        visit.context.close()


PAGES: dict[str, Callable[[dict[str, str]], str]] = {
    "orchestrations": lambda ids: "/activation",
    "destinations": lambda ids: "/activation/destinations",
    "destination-new-sftp": lambda ids: "/activation/destinations/new?kind=sftp",
    "destination": lambda ids: f"/activation/destinations/{ids['destination']}",
    "destination-edit": lambda ids: f"/activation/destinations/{ids['destination']}/edit",
    "destination-delete": lambda ids: f"/activation/destinations/{ids['destination']}/delete",
    "orchestration-new": lambda ids: "/activation/orchestrations/new",
    "orchestration": lambda ids: f"/activation/orchestrations/{ids['orchestration']}",
    "orchestration-edit": lambda ids: f"/activation/orchestrations/{ids['orchestration']}/edit",
    "run": lambda ids: f"/activation/orchestrations/{ids['orchestration']}/runs/{ids['run']}",
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_activation_pages_pass_axe_and_load_under_their_csp(
    as_manager: Callable[..., Visit], setup: Setup, name: str
) -> None:
    path = PAGES[name](setup.ids)
    scanned = as_manager(path, bypass_csp=True)
    assert scanned.status == 200, path
    found = blocking(axe_violations(scanned.page))
    assert found == [], describe(found)
    plain = as_manager(path)
    assert plain.csp_refusals == []
    assert plain.page_errors == []
    assert plain.outside == []


def _tab_to(page: Page, selector: str, *, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has focus."""
    for _ in range(limit):
        if page.evaluate(
            "(s) => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_a_webhook_destination_is_created_with_the_keyboard(
    as_manager: Callable[..., Visit],
) -> None:
    page = as_manager("/activation/destinations").page
    _tab_to(page, "a[href='/activation/destinations/new?kind=webhook']")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"kind=webhook$"))
    name = f"Hook {datetime.now(UTC):%H%M%S%f}"
    _tab_to(page, "#name")
    page.keyboard.type(name)
    _tab_to(page, "#config-url")
    page.keyboard.type("https://hooks.brand.example/carebase")
    _tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator("#flash")).to_contain_text("Test its connection")
    expect(page.get_by_role("button", name="Test connection")).to_be_visible()


def test_a_dry_run_is_followed_live_until_it_ends(
    as_manager: Callable[..., Visit], setup: Setup
) -> None:
    page = as_manager(f"/activation/orchestrations/{setup.ids['orchestration']}").page
    page.get_by_role("button", name="Dry run").click()
    page.wait_for_url(re.compile(r"/runs/run_[^/?]+\?done=started$"))
    url = page.url
    # The server's worker runs it; the partial, polled every second, shows the end.
    expect(page.locator("#run-live [data-status='completed']")).to_be_visible(timeout=30_000)
    assert page.url == url, "no reload: the partial was swapped in"
    expect(page.locator("#run-live")).not_to_have_attribute("hx-trigger", "every 1s")
    page.reload()
    expect(page.get_by_role("heading", name="What this dry run found")).to_be_visible()


def _choose(page: Page, selector: str, value: str) -> None:
    """On a focused <select>, press ArrowDown until `value` is chosen (as a keyboard does)."""
    for _ in range(80):
        if page.locator(selector).input_value() == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{selector} never offered {value}")


def test_an_orchestration_is_built_with_the_keyboard(
    as_manager: Callable[..., Visit], setup: Setup
) -> None:
    page = as_manager("/activation/orchestrations/new").page
    name = f"Keyboard {datetime.now(UTC):%H%M%S%f}"
    _tab_to(page, "#name")
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    expect(page.locator("#destination_id")).to_be_focused()
    _choose(page, "#destination_id", setup.ids["destination"])
    # The sync modes follow the destination's kind (Zendesk: both).
    expect(page.locator("#sync_mode option")).to_have_count(2)
    page.keyboard.press("Tab")
    expect(page.locator("#source")).to_be_focused()
    _choose(page, "#source", f"query:{setup.ids['query']}")
    _tab_to(page, "#schedule_type")
    _choose(page, "#schedule_type", "cron")
    page.keyboard.press("Tab")
    expect(page.locator("#cron")).to_be_focused()
    page.keyboard.type("0 6 * * *")
    expect(page.locator("#schedule-preview li")).to_have_count(3)
    # Enter in a text box saves (not "Add a mapping row").
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/activation/orchestrations/orc_[^/?]+\?done=created$"))
    expect(page.locator("h1")).to_contain_text(name)
    expect(page.locator("#flash")).to_contain_text("Try a dry run")
