"""The SQL page in Chromium, signed in as a manager, on both engines: a query typed and run
with the keyboard shows its table (htmx swaps the result in), a refused one says why, a
query saved is listed and runs again; the page passes axe and loads under its CSP."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from carebase.db.session import Database
from tests.browser.chromium import Visit, axe_violations, blocking, describe, open_page
from tests.conftest import test_settings
from tests.console_session import browser_cookie, create_signed_in
from tests.serverproc import RunningServer

# One row whatever the other tests posted.
QUERY = "SELECT count(c.profile_id) AS profiles, max(c.ticket_count) AS most FROM customer_360 AS c"


@pytest.fixture(scope="package")
def sql_cookies(server: RunningServer) -> list[dict[str, Any]]:
    """A manager's session on the server (once per engine)."""
    settings = test_settings(server.database_url)
    database = Database.from_settings(settings)
    try:
        manager = create_signed_in(
            database, settings, email="quinn.sql@brand.io", role="manager", now=datetime.now(UTC)
        )
    finally:
        database.dispose()
    return [browser_cookie(manager, settings, server.url)]


@pytest.fixture
def as_manager(
    browser: Browser, server: RunningServer, sql_cookies: list[dict[str, Any]]
) -> Iterator[Callable[..., Visit]]:
    opened: list[Visit] = []

    def open_(path: str, **options: Any) -> Visit:
        visit = open_page(browser, server.url, path, cookies=sql_cookies, **options)
        opened.append(visit)
        return visit

    yield open_
    for visit in opened:
        visit.context.close()


def test_a_query_typed_and_run_with_the_keyboard_shows_its_table(
    as_manager: Callable[..., Visit],
) -> None:
    visit = as_manager("/sql")
    page = visit.page
    for _ in range(40):
        if page.evaluate("document.activeElement.id") == "sql":
            break
        page.keyboard.press("Tab")
    expect(page.locator("#sql")).to_be_focused()
    page.keyboard.type(QUERY)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Run")).to_be_focused()
    page.keyboard.press("Enter")
    table = page.locator("#sql-result table")
    expect(table).to_be_visible()
    expect(table.locator("thead th")).to_have_text(["profiles", "most"])
    expect(page.locator("#sql-result")).to_contain_text(re.compile(r"1 row in [\d.,]+ ms"))
    assert page.url.endswith("/sql"), "htmx swapped the result in place"

    # A refused query says why, in the page.
    page.locator("#sql").fill("DELETE FROM customer_360")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_role("alert")).to_contain_text("Refused")
    assert visit.page_errors == []


def test_a_saved_query_is_listed_and_runs_again(as_manager: Callable[..., Visit]) -> None:
    page = as_manager("/sql").page
    name = f"Tickets {datetime.now(UTC):%H%M%S%f}"
    page.locator("#sql").fill(QUERY)
    page.locator("details.sql-save summary").click()
    page.locator("#save-name").fill(name)
    page.get_by_role("button", name="Save query").click()
    page.wait_for_url(re.compile(r"/sql\?query=qry_[^&]+&done=saved$"))
    expect(page.locator("#flash")).to_contain_text(f"Saved {name}.")
    page.get_by_role("link", name=f"Run {name}").click()
    expect(page.locator("#sql-result table")).to_be_visible()
    expect(page.locator("#sql")).to_have_value(QUERY)


def test_the_sql_page_passes_axe_and_loads_under_its_csp(
    as_manager: Callable[..., Visit],
) -> None:
    scanned = as_manager("/sql", bypass_csp=True)
    assert scanned.status == 200
    scanned.page.locator("#sql").fill(QUERY)
    scanned.page.get_by_role("button", name="Run").click()
    expect(scanned.page.locator("#sql-result table")).to_be_visible()
    scanned.page.locator("details.view").first.locator("summary").click()
    found = blocking(axe_violations(scanned.page))
    assert found == [], describe(found)
    plain = as_manager("/sql")
    assert plain.csp_refusals == []
    assert plain.page_errors == []
    assert plain.outside == []
    assert plain.page.evaluate("document.querySelectorAll('style').length") == 0
