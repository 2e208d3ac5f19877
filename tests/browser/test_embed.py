"""The embed in Chromium, framed the way the helpdesks frame it, on each engine.

The helpdesk is played by pages on a second loopback origin (http://localhost:<port>, while
carebase is http://127.0.0.1:<port>: another site, so the frame is cross-site and its cookies
must be partitioned), served by a small HTTP server of the test: Chromium's Local Network
Access checks refuse a loopback frame inside a page Playwright fulfils itself (that page has no
address, so it counts as public). ZAF's SDK is fulfilled by Playwright; nothing else leaves
the machine.

- Chatwoot: the frame asks for a carebase sign-in, then reads the stringified appContext the
  parent posts - and ignores a forged one posted by a frame of another origin.
- Zendesk: the parent auto-POSTs an RS256 JWT signed with a test key into the frame, as
  Zendesk does; the frame ends on the GET with ZAF's parameters, reads the requester from
  the (stubbed) SDK and shows the profile read-only. A forged HS256 token gets the 401 page.
- Every embed page: axe (no serious or critical violation) at 260 px with no horizontal
  scroll, and no CSP refusal.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlsplit

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, BrowserContext, Frame, Page, Route

from carebase.auth import service as auth_service
from carebase.db.session import Database
from tests.browser.chromium import axe_violations, blocking, describe
from tests.conftest import IN_CI, TEMPLATE_DB, test_settings
from tests.embeds.customers import ADA_EMAIL, GRACE_EMAIL, load
from tests.embeds.keys import AUDIENCE, public_pem, sign
from tests.helpers import Brand
from tests.pg import PostgresServer
from tests.serverproc import RunningServer, running_server
from tests.users.people import PASSWORD, user_with_password

ZAF_URL = "https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js"
AGENT_EMAIL = "jo@brand.io"

# ZAF's SDK, stubbed: `init()` answers false without `origin` and `app_guid` in the frame's
# URL (as the real one does), and the ticket's requester is Ada.
ZAF_STUB = """
window.ZAFClient = {
  init: function () {
    var params = new URLSearchParams(window.location.search);
    if (!params.get("origin") || !params.get("app_guid")) return false;
    window.zafCalls = [];
    return {
      context: function () {
        return Promise.resolve({ location: "ticket_sidebar", ticketId: 7 });
      },
      get: function (path) {
        window.zafCalls.push(["get", path]);
        var requester = { id: 1, email: __EMAIL__, externalId: null };
        return Promise.resolve({ "ticket.requester": requester });
      },
      on: function (name) { window.zafCalls.push(["on", name]); },
      invoke: function (name, args) {
        window.zafCalls.push([name, args]);
        return Promise.resolve({});
      }
    };
  }
};
""".replace("__EMAIL__", json.dumps(ADA_EMAIL))


@dataclass
class Embedded:
    """carebase serving the embed, and the helpdesk origins around it: `pages` by URL."""

    server: RunningServer
    helpdesk: str
    stranger: str
    pages: dict[str, str]


@contextmanager
def _page_server(pages: dict[str, str]) -> Iterator[int]:
    """A loopback HTTP server answering GET with `pages[<its URL>]`; its port."""

    class Pages(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            host = self.headers.get("Host", "")
            body = pages.get(f"http://{host}{self.path.split('?', 1)[0]}", "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _prepare(database_url: str, server: RunningServer) -> None:
    """Ada and Grace posted through the API, and an agent who can sign in."""
    settings = test_settings(database_url)
    database = Database.from_settings(settings)
    try:
        with database.unit_of_work() as session:
            token = auth_service.create_token(
                session,
                name="browser",
                scopes=["admin"],
                now=datetime.now(UTC),
                created_by="test",
            ).secret
        with httpx.Client(base_url=server.url, timeout=30) as http:
            load(Brand(http, token))  # type: ignore[arg-type]
        user_with_password(database, settings, datetime.now(UTC), AGENT_EMAIL, first_name="Jo")
    finally:
        database.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def embedded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, browser: Browser
) -> Iterator[Embedded]:
    """`carebase serve` with Zendesk (a test key) and Chatwoot configured, the helpdesk on
    http://localhost:<port>, on a fresh database of each engine."""
    pages: dict[str, str] = {}
    with _page_server(pages) as helpdesk_port, _page_server(pages) as stranger_port:
        yield from _serve(request, tmp_path_factory, pages, helpdesk_port, stranger_port)


def _serve(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pages: dict[str, str],
    helpdesk_port: int,
    stranger_port: int,
) -> Iterator[Embedded]:
    helpdesk = f"http://localhost:{helpdesk_port}"
    stranger = f"http://localhost:{stranger_port}"
    env = {
        "CAREBASE_ZENDESK_AUDIENCE": AUDIENCE,
        "CAREBASE_ZENDESK_PUBLIC_KEY": public_pem().replace("\n", "\\n"),
        "CAREBASE_CHATWOOT_ORIGIN": helpdesk,
        "CAREBASE_EMBED_FRAME_ORIGINS": helpdesk,
    }
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("embed") / "carebase.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        with running_server(url, env=env) as running:
            _prepare(url, running)
            yield Embedded(running, helpdesk, stranger, pages)
        return
    pg: PostgresServer | None = request.getfixturevalue("postgres")
    if pg is None:
        if IN_CI:
            pytest.fail("CI=true but PostgreSQL is unavailable: its tests cannot be skipped")
        pytest.skip("PostgreSQL unavailable")
    name = f"embed_{os.getpid()}_{request.param}"
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    try:
        with running_server(pg.url(name), env=env) as running:
            _prepare(pg.url(name), running)
            yield Embedded(running, helpdesk, stranger, pages)
    finally:
        with psycopg.connect(pg.dsn(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@dataclass
class Browsing:
    """A browser context that reaches carebase and the fake helpdesk, and nothing else."""

    context: BrowserContext
    page: Page
    outside: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)


@pytest.fixture
def browsing(browser: Browser, embedded: Embedded) -> Iterator[Browsing]:
    """A fresh context; `pages` are served at the helpdesk and stranger origins."""
    opened = _browsing(browser, embedded)
    yield opened
    opened.context.close()


def _browsing(
    browser: Browser, embedded: Embedded, *, width: int = 1280, bypass_csp: bool = False
) -> Browsing:
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=bypass_csp)
    page = context.new_page()
    state = Browsing(context, page)
    own = urlsplit(embedded.server.url).netloc
    fakes = {urlsplit(embedded.helpdesk).netloc, urlsplit(embedded.stranger).netloc}

    def handle(route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if url.split("?", 1)[0] == ZAF_URL:
            route.fulfill(status=200, content_type="text/javascript", body=ZAF_STUB)
        elif parts.netloc == own:
            if parts.path == "/embed/profile/lookup":
                state.lookups.append(url)
            route.continue_()
        elif parts.netloc in fakes:
            route.continue_()
        else:
            state.outside.append(url)
            route.abort()

    context.route("**/*", handle)

    def on_console(message: object) -> None:
        if getattr(message, "type", "") == "error":
            state.console_errors.append(str(getattr(message, "text", "")))

    page.on("console", on_console)
    page.on("pageerror", lambda error: state.page_errors.append(str(error)))
    return state


def _frame(page: Page, prefix: str) -> Frame:
    """The frame whose URL starts with `prefix` (waiting for it)."""
    for _ in range(100):
        for frame in page.frames:
            if frame.url.startswith(prefix):
                return frame
        page.wait_for_timeout(50)
    raise AssertionError(f"no frame at {prefix}: {[f.url for f in page.frames]}")


def _sign_in(frame: Frame | Page) -> None:
    frame.locator("#email").fill(AGENT_EMAIL)
    frame.locator("#password").fill(PASSWORD)
    frame.locator("form[action='/embed/sign-in'] button[type=submit]").click()


CHATWOOT_PARENT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chatwoot</title></head><body>
<main>
<iframe id="app" name="app" title="carebase" src="{embed}/embed/chatwoot"
  width="260" height="640"></iframe>
<iframe id="stranger" title="someone else" src="{stranger}/stranger"
  width="20" height="20"></iframe>
</main>
<script>
  window.asked = 0;
  window.payload = {payload};
  // Chatwoot's Frame.vue answers the frame's request with the context, stringified.
  window.addEventListener("message", function (event) {{
    if (event.data !== "chatwoot-dashboard-app:fetch-info") return;
    window.asked += 1;
    var app = document.getElementById("app").contentWindow;
    if (window.answering) app.postMessage(window.payload, "*");
  }});
</script>
</body></html>
"""


def _app_context(email: str, identifier: str | None = None) -> str:
    return json.dumps(
        {
            "event": "appContext",
            "data": {
                "conversation": {"id": 7, "meta": {"channel": "Channel::WebWidget"}},
                "contact": {"email": email, "phone_number": None, "identifier": identifier},
                "currentAgent": {"id": 1, "name": "Jo", "email": AGENT_EMAIL},
            },
        }
    )


def test_chatwoot_reads_the_context_from_its_origin_only(
    browsing: Browsing, embedded: Embedded
) -> None:
    embedded.pages[f"{embedded.helpdesk}/cw"] = CHATWOOT_PARENT.format(
        embed=embedded.server.url,
        stranger=embedded.stranger,
        payload=json.dumps(_app_context(ADA_EMAIL)),
    )
    embedded.pages[f"{embedded.stranger}/stranger"] = "<!doctype html><title>x</title>"
    page = browsing.page
    page.goto(f"{embedded.helpdesk}/cw")
    frame = _frame(page, f"{embedded.server.url}/embed/chatwoot")
    # Chatwoot's context is no credential: first, a carebase sign-in inside the frame.
    frame.locator("#embed-sign-in-title").wait_for()
    _sign_in(frame)
    frame.locator("[data-waiting]").wait_for()
    page.wait_for_function("window.asked >= 1")  # the frame asked Chatwoot for the context

    # A frame of another origin posts a forged context: ignored.
    stranger = _frame(page, f"{embedded.stranger}/stranger")
    stranger.evaluate(
        "payload => window.parent.frames[0].postMessage(payload, '*')",
        _app_context(GRACE_EMAIL),
    )
    page.wait_for_timeout(500)
    assert browsing.lookups == []
    assert frame.locator("[data-waiting]").is_visible()

    # Chatwoot's own answer, from the configured origin: Ada's profile.
    page.evaluate(
        "() => { window.answering = true;"
        " document.getElementById('app').contentWindow.postMessage(window.payload, '*'); }"
    )
    frame.locator("#embed-name").wait_for()
    assert frame.locator("#embed-name").inner_text() == "Ada Lovelace"
    assert len(browsing.lookups) == 1
    assert "email=ada%40example.com" in browsing.lookups[0]
    # The signed-in agent may add a note from the panel.
    frame.locator("#embed-note-body").fill("Spoke on chat, refund approved.")
    frame.locator(".embed-note-form button[type=submit]").click()
    frame.get_by_text("Note added.").wait_for()
    assert frame.locator(".embed-note", has_text="refund approved").count() == 1
    assert browsing.outside == []
    assert browsing.page_errors == []


ZENDESK_PARENT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Zendesk</title></head><body>
<main>
<iframe name="app" title="carebase" width="260" height="720"></iframe>
<form id="zaf" method="post" target="app" action="{action}">
  <input type="hidden" name="token" value="{token}">
</form>
</main>
<script>document.getElementById("zaf").submit();</script>
</body></html>
"""


def _zendesk_parent(embedded: Embedded, token: str) -> str:
    query = f"origin={quote(embedded.helpdesk, safe='')}&app_guid=abc-123"
    return ZENDESK_PARENT.format(action=f"{embedded.server.url}/embed/zendesk?{query}", token=token)


def test_zendesk_posts_a_signed_token_and_the_frame_shows_the_requester(
    browsing: Browsing, embedded: Embedded
) -> None:
    embedded.pages[f"{embedded.helpdesk}/zd"] = _zendesk_parent(embedded, sign(datetime.now(UTC)))
    page = browsing.page
    page.goto(f"{embedded.helpdesk}/zd")
    frame = _frame(page, f"{embedded.server.url}/embed/zendesk")
    frame.locator("#embed-name").wait_for()
    assert frame.locator("#embed-name").inner_text() == "Ada Lovelace"
    # The 303 kept ZAF's parameters, so ZAFClient.init() worked.
    assert f"origin={quote(embedded.helpdesk, safe='')}" in frame.url
    assert "app_guid=abc-123" in frame.url
    calls = frame.evaluate("window.zafCalls")
    assert ["get", "ticket.requester"] in calls
    assert any(call[0] == "resize" for call in calls)
    # Zendesk's grant reads; writing needs a carebase sign-in.
    assert frame.locator("#embed-note-body").count() == 0
    assert frame.get_by_role("link", name="Sign in to carebase").first.is_visible()
    # Calm: nothing moved once the profile arrived in its slot.
    shift = frame.evaluate(
        """() => new Promise(resolve => {
            let total = 0;
            new PerformanceObserver(list => {
                for (const entry of list.getEntries()) {
                    if (!entry.hadRecentInput) total += entry.value;
                }
            }).observe({type: "layout-shift", buffered: true});
            setTimeout(() => resolve(total), 200);
        })"""
    )
    assert shift < 0.1
    assert browsing.outside == []
    assert browsing.page_errors == []
    assert [e for e in browsing.console_errors if "Content Security Policy" in e] == []


def test_zendesk_refuses_a_forged_token_inside_the_frame(
    browsing: Browsing, embedded: Embedded
) -> None:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(datetime.now(UTC).timestamp())
    header = b64(b'{"alg":"HS256","typ":"JWT"}')
    body = b64(json.dumps({"aud": AUDIENCE, "iat": now, "exp": now + 300}).encode())
    mac = hmac.new(public_pem().encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    embedded.pages[f"{embedded.helpdesk}/zd-forged"] = _zendesk_parent(
        embedded, f"{header}.{body}.{b64(mac)}"
    )
    page = browsing.page
    page.goto(f"{embedded.helpdesk}/zd-forged")
    frame = _frame(page, f"{embedded.server.url}/embed/zendesk")
    frame.locator("#embed-error-title").wait_for()
    assert "could not verify Zendesk" in frame.locator("#embed-error-title").inner_text()
    assert "only RS256 is accepted" in frame.locator(".notice").inner_text()


def test_the_embed_is_not_framed_by_any_other_site(browsing: Browsing, embedded: Embedded) -> None:
    embedded.pages[f"{embedded.stranger}/frames"] = (
        '<!doctype html><title>x</title><iframe title="carebase" '
        f'src="{embedded.server.url}/embed/sign-in"></iframe>'
    )
    page = browsing.page
    page.goto(f"{embedded.stranger}/frames")
    page.wait_for_timeout(500)
    # The frame-ancestors refusal leaves the frame without carebase's document.
    framed = [f for f in page.frames if f.url.startswith(embedded.server.url)]
    assert all(f.locator("#email").count() == 0 for f in framed)


# Every embed page: accessible at 260 px, one column, under its CSP.

EMBED_PAGES = [
    ("profile", f"/embed/profile?email={quote(ADA_EMAIL)}", "#embed-name"),
    ("empty", "/embed/profile?email=nobody%40example.com", "#embed-empty-title"),
    ("zendesk", "/embed/zendesk?origin={helpdesk}&app_guid=abc-123", "#embed-name"),
    ("chatwoot", "/embed/chatwoot", "[data-waiting]"),
]


def _signed_in(browser: Browser, embedded: Embedded, *, width: int, bypass_csp: bool) -> Browsing:
    state = _browsing(browser, embedded, width=width, bypass_csp=bypass_csp)
    state.page.goto(f"{embedded.server.url}/embed/sign-in?next=/embed/profile")
    _sign_in(state.page)
    state.page.wait_for_url("**/embed/profile")
    return state


@pytest.mark.parametrize(("name", "path", "ready"), EMBED_PAGES, ids=[p[0] for p in EMBED_PAGES])
def test_embed_pages_pass_axe_at_260_px_without_horizontal_scroll(
    browser: Browser, embedded: Embedded, name: str, path: str, ready: str
) -> None:
    state = _signed_in(browser, embedded, width=260, bypass_csp=True)
    try:
        page = state.page
        page.goto(embedded.server.url + path.format(helpdesk=quote(embedded.helpdesk, safe="")))
        page.locator(ready).first.wait_for()
        found = blocking(axe_violations(page))
        assert found == [], describe(found)
        scroll_width, inner_width = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert scroll_width <= inner_width, name
        assert state.outside == []
    finally:
        state.context.close()


def test_the_sign_in_page_passes_axe_at_260_px(browser: Browser, embedded: Embedded) -> None:
    state = _browsing(browser, embedded, width=260, bypass_csp=True)
    try:
        state.page.goto(f"{embedded.server.url}/embed/sign-in")
        found = blocking(axe_violations(state.page))
        assert found == [], describe(found)
        width = state.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1]
    finally:
        state.context.close()


@pytest.mark.parametrize(("name", "path", "ready"), EMBED_PAGES, ids=[p[0] for p in EMBED_PAGES])
def test_embed_pages_load_under_their_csp(
    browser: Browser, embedded: Embedded, name: str, path: str, ready: str
) -> None:
    state = _signed_in(browser, embedded, width=320, bypass_csp=False)
    try:
        page = state.page
        page.goto(embedded.server.url + path.format(helpdesk=quote(embedded.helpdesk, safe="")))
        page.locator(ready).first.wait_for()
        assert [e for e in state.console_errors if "Content Security Policy" in e] == []
        assert state.page_errors == []
        assert page.evaluate("htmx.config.allowEval") is False
        assert page.evaluate("document.querySelectorAll('style').length") == 0
    finally:
        state.context.close()
