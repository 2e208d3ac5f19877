"""Presence in Chromium, on both engines: an online agent's activity in the console (a page
opening, a key press) reaches the server as the activity beat, at most once a minute, and
keeps them seen; an agent the idle check took offline sees the switch say so."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, Request, expect

from carebase.db.session import Database
from carebase.inbox import presence
from tests.browser.chromium import open_page
from tests.conftest import test_settings
from tests.console_session import browser_cookie, create_signed_in
from tests.serverproc import RunningServer


def _last_seen(database: Database, user_id: int) -> datetime:
    with database.unit_of_work(write=False) as session:
        row = presence.describe(session, user_id)
        assert row is not None
        return row.last_seen_at


def test_activity_in_the_console_keeps_an_online_agent_seen(
    browser: Browser, server: RunningServer
) -> None:
    settings = test_settings(server.database_url)
    database = Database.from_settings(settings)
    try:
        now = datetime.now(UTC)
        agent = create_signed_in(
            database, settings, email="pia.presence@brand.io", first_name="Pia", now=now
        )
        # Online, last seen ten minutes ago.
        earlier = now - timedelta(minutes=10)
        with database.unit_of_work() as session:
            presence.heartbeat(session, agent.id, earlier)
        opened = open_page(
            browser, server.url, "/account", cookies=[browser_cookie(agent, settings, server.url)]
        )
        try:
            page = opened.page
            beats: list[Request] = []
            page.on(
                "request",
                lambda request: (
                    beats.append(request) if request.url.endswith("/inbox/presence/beat") else None
                ),
            )
            # Opening a page is activity: the beat goes out, and the server saw them.
            page.reload()
            deadline = time.monotonic() + 10
            while _last_seen(database, agent.id) == earlier and time.monotonic() < deadline:
                time.sleep(0.1)
            assert _last_seen(database, agent.id) > earlier
            # More keys within the minute send nothing more.
            page.keyboard.press("Tab")
            page.keyboard.press("Tab")
            page.wait_for_timeout(300)
            assert len(beats) == 1
            assert beats[0].method == "POST"
            # The idle check takes them offline; the list page shows the switch as it stands.
            with database.unit_of_work() as session:
                presence.go_offline(session, agent.id, datetime.now(UTC), reason="idle")
            page.goto(f"{server.url}/inbox")
            expect(page.locator("#presence")).to_contain_text("Offline")
            expect(page.locator("#presence button")).to_have_text("Go online")
            with database.unit_of_work(write=False) as session:
                assert not presence.is_online(session, agent.id)
        finally:
            opened.context.close()
    finally:
        database.dispose()
