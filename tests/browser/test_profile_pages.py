"""Profiles and Data in Chromium, signed in as an agent, on both engines: search and open a
profile from the keyboard, the four tabs, notes that stay and come back with Undo, History
scrolled to its very first engagement, the merge explanation, datasets and a batch's
rejections; every page passes axe (no serious or critical violation) at desktop width and
loads under its CSP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from carebase.db.session import Database
from tests.browser.chromium import Visit, axe_violations, blocking, describe, open_page
from tests.browser.customer import (
    EMAILS,
    HISTORY_ITEMS,
    IMAGE_HOST,
    OPEN_TICKETS,
    PURCHASES,
    Seeded,
    seed,
)
from tests.conftest import make_token, test_settings
from tests.console_session import browser_cookie, create_signed_in
from tests.serverproc import RunningServer


@dataclass(frozen=True)
class Console:
    """A seeded server and a way to open its pages signed in."""

    server: RunningServer
    seeded: Seeded
    cookies: list[dict[str, Any]]


@pytest.fixture(scope="package")
def console(server: RunningServer) -> Console:
    """Jane's history on the server, and an agent's session cookie (once per engine)."""
    settings = test_settings(server.database_url)
    database = Database.from_settings(settings)
    try:
        token = make_token(database, "admin", name="browser")
        agent = create_signed_in(
            database,
            settings,
            email="sam.agent@brand.io",
            first_name="Sam",
            last_name="Agent",
            timezone="Australia/Melbourne",
            now=datetime.now(UTC),
        )
    finally:
        database.dispose()
    seeded = seed(server.url, token)
    return Console(server, seeded, [browser_cookie(agent, settings, server.url)])


@pytest.fixture
def signed_in(browser: Browser, console: Console) -> Iterator[Callable[..., Visit]]:
    """Open a console page as the agent (contexts closed after the test)."""
    visits: list[Visit] = []

    def open_(path: str, **options: Any) -> Visit:
        opened = open_page(browser, console.server.url, path, cookies=console.cookies, **options)
        visits.append(opened)
        return opened

    yield open_
    for opened in visits:
        opened.context.close()


def _pages(seeded: Seeded) -> list[str]:
    profile = f"/profiles/{seeded.profile_id}"
    return [
        "/profiles",
        "/profiles?q=jane",
        "/profiles?q=nobody-by-this-name",
        profile,
        f"{profile}/notes",
        f"{profile}/attributes",
        f"{profile}/history",
        f"{profile}/merges",
        "/data/datasets",
        f"/data/datasets/{seeded.datasets['customer_support_ticket']}",
        f"/data/logs/{seeded.log_with_rejections}",
    ]


def test_every_page_passes_axe_and_its_csp(
    signed_in: Callable[..., Visit], console: Console
) -> None:
    for path in _pages(console.seeded):
        scanned = signed_in(path, width=1280, bypass_csp=True)
        assert scanned.status == 200, path
        found = blocking(axe_violations(scanned.page))
        assert found == [], f"{path}\n{describe(found)}"
        scanned.context.close()
        opened = signed_in(path)
        assert opened.csp_refusals == [], path
        assert opened.page_errors == [], path
        # Product images are the only thing a page may ask of another host.
        assert all(url.startswith(IMAGE_HOST) for url in opened.outside), opened.outside
        opened.context.close()


def test_signed_out_the_profile_pages_send_you_to_sign_in(
    browser: Browser, console: Console
) -> None:
    opened = open_page(browser, console.server.url, f"/profiles/{console.seeded.profile_id}")
    try:
        assert "/sign-in?next=" in opened.page.url
    finally:
        opened.context.close()


def _wait_for_result(page: Page) -> None:
    page.locator("[data-result]").first.wait_for()


def test_search_and_open_a_profile_from_the_keyboard(
    signed_in: Callable[..., Visit], console: Console
) -> None:
    page = signed_in("/profiles").page
    assert "Type what you know" in page.locator("#search-results").inner_text()
    page.locator("body").click(position={"x": 5, "y": 400})
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"
    page.keyboard.type("jane d", delay=30)
    _wait_for_result(page)
    expect(page.locator("#search-status")).to_have_text("1 profile found")
    expect(page.locator("[data-result]").first).to_contain_text("Jane Doe")
    # The address follows the query, so a reload shows the same results.
    assert page.url.endswith("/profiles?q=jane+d")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.hasAttribute('data-result')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/profiles/{console.seeded.profile_id}")
    expect(page.locator("h1")).to_have_text("Jane Doe")
    expect(page.locator("#tab-summary")).to_have_attribute("aria-selected", "true")
    # Nothing found says so, and what to try instead.
    page.keyboard.press("/")
    page.goto("/profiles")
    page.locator("#search").fill("zz-nobody")
    expect(page.locator("#search-status")).to_have_text("No profile found")
    expect(page.locator("#search-results")).to_contain_text("No profile matches")


def test_the_four_tabs_in_order_swap_in_place_and_are_real_pages(
    signed_in: Callable[..., Visit], console: Console
) -> None:
    profile = f"/profiles/{console.seeded.profile_id}"
    page = signed_in(profile).page
    tabs = page.locator("[role='tab']")
    assert tabs.all_inner_texts() == ["Notes", "Summary", "Attributes", "History"]
    summary = page.locator("#tabpanel")
    expect(summary).to_contain_text(f"Open now: {OPEN_TICKETS} tickets")
    expect(summary).to_contain_text("Recent engagements")
    # The keyboard: the open tab is the one Tab stop; arrows move, Enter opens.
    page.locator("#tab-summary").focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-attributes"
    page.keyboard.press("Enter")
    expect(page.locator("#tab-attributes")).to_have_attribute("aria-selected", "true")
    page.wait_for_url(f"**{profile}/attributes")
    panel = page.locator("#tabpanel")
    expect(panel).to_contain_text("Average order value")
    expect(panel).to_contain_text("Per currency, total_spend divided by the orders")
    assert page.evaluate("document.activeElement.id") == "tab-attributes"
    for name, text in (("history", "Show older engagements"), ("notes", "No notes yet")):
        page.locator(f"#tab-{name}").click()
        page.wait_for_url(f"**{profile}/{name}")
        expect(page.locator(f"#tab-{name}")).to_have_attribute("aria-selected", "true")
        expect(page.locator("#tabpanel")).to_have_attribute("aria-labelledby", f"tab-{name}")
        if name == "history":
            expect(panel).to_contain_text("Ticket")
        else:
            expect(panel).to_contain_text(text)
    # Back returns to the previous tab.
    page.go_back()
    page.wait_for_url(f"**{profile}/history")
    expect(page.locator("#tab-history")).to_have_attribute("aria-selected", "true")
    # Without script, each tab is a page of its own.
    page.context.set_extra_http_headers({})
    direct = signed_in(f"{profile}/attributes", bypass_csp=False).page
    expect(direct.locator("#tab-attributes")).to_have_attribute("aria-selected", "true")


def test_a_note_stays_on_the_profile_and_undo_brings_a_deleted_one_back(
    signed_in: Callable[..., Visit], console: Console
) -> None:
    notes = f"/profiles/{console.seeded.profile_id}/notes"
    page = signed_in(notes).page
    # Empty: the message is beside the field and the cursor is in it.
    page.locator("#note-add").click()
    expect(page.locator("#note-body-error")).to_contain_text("Fill this in")
    assert page.evaluate("document.activeElement.id") == "note-body"
    page.locator("#note-body").fill("Promised a free exchange on the knit.")
    page.locator("#note-add").click()
    expect(page.locator("#flash .toast")).to_contain_text("Note added")
    note = page.locator(".note").first
    expect(note).to_contain_text("Promised a free exchange on the knit.")
    expect(note).to_contain_text("Sam Agent (you)")
    # The next time anyone opens the profile, the note is there.
    again = signed_in(f"/profiles/{console.seeded.profile_id}").page
    again.locator("#tab-notes").click()
    expect(again.locator(".note").first).to_contain_text("Promised a free exchange")
    # Edit it in place.
    again.locator(".note").first.get_by_role("link", name="Edit").click()
    box = again.locator(".note textarea")
    expect(box).to_be_focused()
    box.fill("Promised a free exchange on the knit (size M).")
    again.locator(".note").first.get_by_role("button", name="Save").click()
    expect(again.locator(".note").first).to_contain_text("(size M)")
    expect(again.locator(".note").first).to_contain_text("edited")
    # Delete: a toast says so and offers Undo, with the focus on it.
    again.locator(".note").first.get_by_role("button", name="Delete").click()
    toast = again.locator("#flash .toast")
    expect(toast).to_contain_text("Note deleted")
    expect(again.locator(".note")).to_have_count(0)
    expect(again.locator("#tabpanel")).to_contain_text("No notes yet")
    undo = toast.get_by_role("button", name="Undo")
    expect(undo).to_be_focused()
    again.keyboard.press("Enter")
    expect(again.locator("#flash .toast")).to_contain_text("Note restored")
    expect(again.locator(".note").first).to_contain_text("(size M)")


def _scroll_to_end(page: Page, pages: int = 20) -> None:
    """Scroll down as a person would until History says it reached the first engagement."""
    for _ in range(pages):
        if page.locator(".history__end").count():
            return
        page.mouse.wheel(0, 20_000)
        page.wait_for_timeout(200)


def test_history_scrolls_back_to_the_very_first_engagement(
    signed_in: Callable[..., Visit], console: Console
) -> None:
    visit = signed_in(f"/profiles/{console.seeded.profile_id}/history", height=700)
    page = visit.page
    items = page.locator(".history > .event")
    end = page.locator(".history__end")
    _scroll_to_end(page)
    expect(end).to_contain_text("very first engagement")
    assert items.count() == HISTORY_ITEMS
    # Newest first, from the last purchase back to the first.
    assert "Purchase o-23" in items.first.inner_text()
    assert "Purchase o-0" in items.last.inner_text()
    times = page.eval_on_selector_all(
        ".history > .event time", "els => els.map(e => e.getAttribute('datetime'))"
    )
    assert times == sorted(times, reverse=True)
    # Tickets: status, tags and a link to the helpdesk; purchases: the product and its image.
    ticket = page.locator(".event--ticket", has_text="Where is my parcel?")
    expect(ticket.locator(".state")).to_contain_text("pending")
    expect(ticket.get_by_role("link", name="Open in the helpdesk")).to_have_attribute(
        "href", "https://brand.zendesk.com/agent/tickets/7"
    )
    assert "shipping" in ticket.locator(".chips").inner_text()
    purchase = page.locator(".event--purchase").first
    expect(purchase).to_contain_text("Leather Sneaker")  # o-23: P-3
    # Images are asked of their host (the test aborts them: offline) and fall back cleanly.
    assert any(url.startswith(IMAGE_HOST) for url in visit.outside)
    assert page.locator("img.product__image").count() == 0 or all(
        src.startswith(IMAGE_HOST)
        for src in page.eval_on_selector_all("img.product__image", "els => els.map(e => e.src)")
    )


def test_history_is_filtered_by_type(signed_in: Callable[..., Visit], console: Console) -> None:
    page = signed_in(f"/profiles/{console.seeded.profile_id}/history").page
    for name in (
        "customer_support_ticket",
        "return",
        "email_send",
        "email_open",
        "email_click",
        "email_bounce",
        "email_subscribe",
        "sms_send",
        "sms_click",
        "sms_subscribe",
        "mention",
    ):
        page.locator(f"#type-{name}").uncheck()
    expect(page.locator("#type-purchase")).to_be_checked()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/history?type=purchase")
    _scroll_to_end(page)
    expect(page.locator(".history__end")).to_be_visible()
    kinds = page.eval_on_selector_all(".history .event .kind", "els => els.map(e => e.textContent)")
    assert kinds == ["Purchase"] * PURCHASES
    # Emails only, through the address: EMAILS of them.
    emails = "&".join(f"type={t}" for t in ("email_send", "email_open", "email_click"))
    only = signed_in(f"/profiles/{console.seeded.profile_id}/history?{emails}").page
    assert only.locator("#type-purchase").is_checked() is False
    assert only.locator(".history .event").count() == min(EMAILS, 20)


def test_the_merge_explanation_names_the_rule_and_the_links(
    signed_in: Callable[..., Visit], console: Console
) -> None:
    page = signed_in(f"/profiles/{console.seeded.profile_id}").page
    page.get_by_role("link", name="Why these links are one person").click()
    merge = page.locator(".merge").first
    expect(merge).to_contain_text("Shared link")
    expect(merge).to_contain_text("+61411222333")
    expect(merge).to_contain_text("jane.doe@example.com")


def test_datasets_show_totals_and_a_batch_shows_each_rejection(
    signed_in: Callable[..., Visit], console: Console
) -> None:
    page = signed_in("/data").page
    page.wait_for_url("**/data/datasets")
    expect(page.get_by_role("link", name="Data")).to_have_attribute("aria-current", "page")
    tickets = page.locator(".dataset", has_text="Shop customer_support_ticket")
    expect(tickets).to_contain_text("Rejected")
    tickets.get_by_role("link", name="2 rejected: see why").click()
    page.wait_for_url(f"**/data/logs/{console.seeded.log_with_rejections}")
    rows = page.locator("table").first.locator("tbody tr")
    assert rows.count() >= 2
    text = page.locator("table").first.inner_text()
    assert "ticket_id" in text
    assert "link.email" in text or "link" in text
