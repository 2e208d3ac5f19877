"""Sign-in, the account page and Settings in Chromium, on both engines: signing in with the
keyboard, a wrong password's message, signing out from the account menu, a manager creating
a user (its link shown once) and archiving with Undo, an agent meeting the managers-only
page; every page accessible (axe: no serious or critical violation at desktop width) and
loading under its CSP, with no horizontal scroll at 260 px."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.accounts import (
    PASSWORD,
    Person,
    admin_token,
    invite,
    person,
    signed_in_visit,
)
from tests.browser.chromium import Visit, axe_violations, blocking, describe
from tests.serverproc import RunningServer


@pytest.fixture
def visits() -> Iterator[list[Visit]]:
    """Contexts a test opened, closed after it."""
    opened: list[Visit] = []
    yield opened
    for visit in opened:
        visit.context.close()


@pytest.fixture
def as_person(browser: Browser, server: RunningServer, visits: list[Visit]) -> Callable[..., Visit]:
    def open_as(who: Person, path: str, **options: object) -> Visit:
        visit = signed_in_visit(browser, server, who, path, **options)  # type: ignore[arg-type]
        visits.append(visit)
        return visit

    return open_as


def test_sign_in_with_the_keyboard_and_sign_out(
    visit: Callable[..., Visit], server: RunningServer
) -> None:
    agent = person(server, "agent", "Kay")
    page = visit("/sign-in").page
    # The skip link, the brand, the navigation, then the form.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "email":
            break
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type(agent.email)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/profiles$"))

    page.goto("/account")
    assert page.locator("h1").inner_text() == "Your account"
    # The account menu opens from the keyboard and signs out.
    summary = page.locator("details.account-menu summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".account-menu__panel")).to_be_visible()
    assert agent.email in page.locator(".account-menu__panel").inner_text()
    page.keyboard.press("Escape")
    expect(page.locator(".account-menu__panel")).to_be_hidden()
    summary.click()
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(re.compile(r"/sign-in\?signed_out=1$"))
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto("/account")
    assert re.search(r"/sign-in\?next=%2Faccount$", page.url)


def test_a_wrong_password_says_so_and_keeps_the_email(
    visit: Callable[..., Visit], server: RunningServer
) -> None:
    agent = person(server, "agent", "Lou")
    page = visit("/sign-in").page
    page.locator("#email").fill(agent.email)
    page.locator("#password").fill("not the password, sorry")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("The email or password is not right.")
    assert page.locator("#email").input_value() == agent.email
    assert page.locator("#password").input_value() == ""
    # An empty form puts the cursor in the first wrong field.
    page.locator("#email").fill("")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#email-error")).to_have_text("Fill this in.")
    expect(page.locator("#email")).to_be_focused()


def test_an_invitation_link_sets_the_password_and_signs_in(
    visit: Callable[..., Visit], server: RunningServer
) -> None:
    made, link = invite(server, "agent", "Noor")
    page = visit(link.removeprefix(server.url)).page
    expect(page.locator("h1")).to_have_text("Welcome, Noor")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password_confirm").fill(PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    page.wait_for_url(re.compile(r"/profiles$"))
    page.goto(link.removeprefix(server.url))
    expect(page.locator("h1")).to_have_text("This link cannot be used")
    expect(page.get_by_text("already been used")).to_be_visible()
    page.goto("/account")
    expect(page.locator("#first_name")).to_have_value(made.first_name)


def test_a_manager_creates_a_user_sees_the_link_once_and_archives_with_undo(
    as_person: Callable[..., Visit], server: RunningServer
) -> None:
    boss = person(server, "manager", "Bo")
    page = as_person(boss, "/settings").page
    assert page.url.endswith("/settings/users")
    page.get_by_role("link", name="New user").click()
    page.locator("#email").fill(f"new-{boss.id}@business.io")
    page.locator("#first_name").fill("Nia")
    page.locator("#last_name").fill("Newcomer")
    page.locator("#timezone").select_option("Europe/Paris")
    page.get_by_role("button", name="Create user").click()

    link_box = page.locator("#sign-in-link")
    expect(link_box).to_be_visible()
    link = link_box.input_value()
    assert re.match(r"^http://127\.0\.0\.1:\d+/set-password/[A-Za-z0-9_-]{43}$", link)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("[data-copy-status]")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == link
    # Shown once: nowhere on the list, nor on the user's own page.
    page.get_by_role("link", name="Back to users").click()
    assert link not in page.content()
    row = page.get_by_role("row").filter(has_text="Nia Newcomer")
    expect(row).to_contain_text("Invited")
    expect(row).to_contain_text("Never")

    row.get_by_role("button", name="Archive Nia Newcomer").click()
    toast = page.locator("#flash .toast")
    expect(toast).to_contain_text("Archived Nia Newcomer")
    expect(page.get_by_role("row").filter(has_text="Nia Newcomer")).to_have_count(0)
    toast.get_by_role("button", name="Undo").click()
    expect(page.locator("#flash .toast")).to_contain_text("Restored Nia Newcomer")
    expect(page.get_by_role("row").filter(has_text="Nia Newcomer")).to_have_count(1)


def test_an_agent_gets_the_managers_only_page(
    as_person: Callable[..., Visit], server: RunningServer
) -> None:
    agent = person(server, "agent", "Ari")
    opened = as_person(agent, "/settings/users")
    assert opened.status == 403
    page: Page = opened.page
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.get_by_text("Only managers can do this.")).to_be_visible()
    page.goto("/account")
    assert page.locator("nav.mainnav a[href='/settings']").count() == 0


# Every page, scanned: (path maker, expected status). A path maker gets the signed-in manager
# and the server, so pages about a user, group or token can name one.
def _user_page(boss: Person, server: RunningServer) -> str:
    return f"/settings/users/{boss.id}"


def _group_page(boss: Person, server: RunningServer) -> str:
    response = httpx.post(
        f"{server.url}/v1/groups",
        headers={"Authorization": f"Bearer {admin_token(server)}"},
        json={"name": f"Team {boss.id}", "comment": "Scanned by axe"},
    )
    assert response.status_code == 201, response.text
    return f"/settings/groups/{response.json()['id']}"


def _revoke_page(boss: Person, server: RunningServer) -> str:
    response = httpx.post(
        f"{server.url}/v1/tokens",
        headers={"Authorization": f"Bearer {admin_token(server)}"},
        json={"name": f"scan-{boss.id}", "scopes": ["activity:read"]},
    )
    assert response.status_code == 201, response.text
    return f"/settings/tokens/{response.json()['id']}/revoke"


SIGNED_IN_PAGES: dict[str, Callable[[Person, RunningServer], str]] = {
    "account": lambda boss, server: "/account",
    "users": lambda boss, server: "/settings/users",
    "users-archived": lambda boss, server: "/settings/users?show=archived",
    "user-new": lambda boss, server: "/settings/users/new",
    "user-edit": _user_page,
    "groups": lambda boss, server: "/settings/groups",
    "group-new": lambda boss, server: "/settings/groups/new",
    "group-edit": _group_page,
    "tokens": lambda boss, server: "/settings/tokens",
    "token-new": lambda boss, server: "/settings/tokens/new",
    "token-revoke": _revoke_page,
}


def _check(visit: Visit) -> None:
    found = blocking(axe_violations(visit.page))
    assert found == [], describe(found)


@pytest.mark.parametrize("name", sorted(SIGNED_IN_PAGES))
def test_signed_in_pages_pass_axe_and_load_under_their_csp(
    as_person: Callable[..., Visit], server: RunningServer, name: str
) -> None:
    boss = person(server, "manager", "Axe")
    path = SIGNED_IN_PAGES[name](boss, server)
    scanned = as_person(boss, path, bypass_csp=True)
    assert scanned.status == 200, path
    # The account menu open, too: it is part of every signed-in page.
    scanned.page.locator("details.account-menu summary").click()
    _check(scanned)
    plain = as_person(boss, path)
    assert plain.csp_refusals == []
    assert plain.page_errors == []
    assert plain.outside == []
    assert plain.page.evaluate("document.querySelectorAll('style').length") == 0
    # One column down to 260 px: a table scrolls inside its frame, never the page.
    plain.page.set_viewport_size({"width": 260, "height": 700})
    plain.page.locator("details.account-menu summary").click()
    scroll_width, inner_width = plain.page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width


def test_the_pages_that_show_a_secret_once_pass_axe(
    as_person: Callable[..., Visit], server: RunningServer
) -> None:
    boss = person(server, "manager", "Sec")
    page = as_person(boss, "/settings/tokens/new", bypass_csp=True).page
    page.locator("#name").fill("scan")
    page.get_by_label("profiles:read: read profiles and their history").check()
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#token-secret")).to_have_value(re.compile(r"^cb_"))
    _check(Visit(page, page.context, 200))
    page.goto("/settings/users/new")
    page.locator("#email").fill(f"scan-{boss.id}@business.io")
    page.locator("#first_name").fill("Scan")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator("#sign-in-link")).to_be_visible()
    _check(Visit(page, page.context, 200))
    # A form with its messages (422).
    page.goto("/settings/users/new")
    page.locator("#email").fill("nope")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator("#email-error")).to_be_visible()
    expect(page.locator("#email")).to_be_focused()
    _check(Visit(page, page.context, 422))


def test_signed_out_pages_pass_axe(
    visit: Callable[..., Visit], as_person: Callable[..., Visit], server: RunningServer
) -> None:
    _, link = invite(server, "agent", "Axe")
    path = link.removeprefix(server.url)
    for target, status in ((path, 200), ("/set-password/" + "A" * 43, 410)):
        opened = visit(target, bypass_csp=True)
        assert opened.status == status
        _check(opened)
    agent = person(server, "agent", "Forbidden")
    forbidden = as_person(agent, "/settings/users", bypass_csp=True)
    assert forbidden.status == 403
    _check(forbidden)
