"""The inbox in Chromium, on both engines: the list, a mention and the approvals pass axe
(no serious or critical violation) and load under their CSP; an agent claims a mention,
writes a reply and submits it with the keyboard alone."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from carebase.db.session import Database
from carebase.models import Classification, Response
from tests.browser.chromium import Visit, axe_violations, blocking, describe, open_page
from tests.conftest import test_settings
from tests.console_session import browser_cookie, create_signed_in
from tests.inbox.conftest import make_mention
from tests.serverproc import RunningServer


@dataclass(frozen=True)
class Setup:
    """A seeded server: an agent's and a manager's cookies, and the mentions' ids."""

    server: RunningServer
    agent: list[dict[str, Any]]
    manager: list[dict[str, Any]]
    ids: dict[str, str]


@pytest.fixture(scope="package")
def inbox_setup(server: RunningServer) -> Setup:
    """Three mentions (one overdue, one classified and claimed), a classification."""
    settings = test_settings(server.database_url)
    database = Database.from_settings(settings)
    now = datetime.now(UTC)
    try:
        agent = create_signed_in(
            database, settings, email="ines.inbox@brand.io", first_name="Ines", now=now
        )
        manager = create_signed_in(
            database, settings, email="mo.inbox@brand.io", role="manager", now=now
        )
        with database.unit_of_work() as session:
            label = Classification(
                name="Delivery", description="", colour="#1d5fbf", created_at=now, updated_at=now
            )
            session.add(label)
            overdue = make_mention(
                session,
                body="My parcel is three days late. Where is it?",
                author_fullname="Kim Lee",
                published_at=now - timedelta(hours=3),
            )
            fresh = make_mention(
                session,
                body="Do you ship to New Zealand?",
                author_fullname="Ari Moana",
                source_type="email",
                published_at=now - timedelta(minutes=5),
            )
            keyboard = make_mention(
                session,
                body="Can I change the size of my order?",
                author_fullname="Sam Keys",
                published_at=now - timedelta(minutes=1),
            )
    finally:
        database.dispose()
    ids = {"overdue": overdue.id, "fresh": fresh.id, "keyboard": keyboard.id}
    return Setup(
        server,
        [browser_cookie(agent, settings, server.url)],
        [browser_cookie(manager, settings, server.url)],
        ids,
    )


@pytest.fixture
def visit(browser: Browser, inbox_setup: Setup) -> Iterator[Callable[..., Visit]]:
    opened: list[Visit] = []

    def open_(path: str, *, who: str = "agent", **options: Any) -> Visit:
        cookies = inbox_setup.agent if who == "agent" else inbox_setup.manager
        found = open_page(browser, inbox_setup.server.url, path, cookies=cookies, **options)
        opened.append(found)
        return found

    yield open_
    for found in opened:
        found.context.close()


PAGES: dict[str, Callable[[dict[str, str]], str]] = {
    "inbox": lambda ids: "/inbox?tab=all",
    "mention": lambda ids: f"/inbox/m/{ids['overdue']}",
    "approvals": lambda ids: "/inbox/approvals",
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_inbox_pages_pass_axe_and_load_under_their_csp(
    visit: Callable[..., Visit], inbox_setup: Setup, name: str
) -> None:
    path = PAGES[name](inbox_setup.ids)
    scanned = visit(path, who="manager", bypass_csp=True)
    assert scanned.status == 200, path
    found = blocking(axe_violations(scanned.page))
    assert found == [], describe(found)
    plain = visit(path, who="manager")
    assert plain.csp_refusals == []
    assert plain.page_errors == []
    assert plain.outside == []


def _tab_to(page: Page, selector: str, *, limit: int = 120) -> None:
    """Press Tab until the element matching `selector` has focus."""
    for _ in range(limit):
        if page.evaluate(
            "(s) => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_claim_reply_and_submit_with_the_keyboard(
    visit: Callable[..., Visit], inbox_setup: Setup
) -> None:
    mention_id = inbox_setup.ids["keyboard"]
    page = visit("/inbox").page
    expect(page.locator("#inbox-list")).to_contain_text("Sam Keys")
    _tab_to(page, f"a[href='/inbox/m/{mention_id}']")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(f"/inbox/m/{mention_id}$"))

    _tab_to(page, "#claim")
    page.keyboard.press("Enter")
    expect(page.locator("#flash")).to_contain_text("Claimed")
    expect(page.locator("#mention [data-state='assigned']").first).to_be_visible()

    _tab_to(page, "#reply-body")
    page.keyboard.type("Yes: reply with the size you want and we will swap it.")
    _tab_to(page, "#send-reply")
    page.keyboard.press("Enter")
    expect(page.locator("#flash")).to_contain_text("Reply submitted")
    expect(page.locator(".conversation")).to_contain_text("we will swap it")

    settings = test_settings(inbox_setup.server.database_url)
    database = Database.from_settings(settings)
    try:
        with database.unit_of_work(write=False) as session:
            sent = list(session.query(Response).filter(Response.mention_id == mention_id).all())
    finally:
        database.dispose()
    assert [r.body for r in sent] == ["Yes: reply with the size you want and we will swap it."]
    assert sent[0].status in {"sending", "sent", "failed"}
