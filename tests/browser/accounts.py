"""People for the browser tests: made through the admin API of the server under test (with
the admin token it printed on its first start), their passwords set through their one-time
links, and signed in through the sign-in form as a person does."""

from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass

import httpx
from playwright.sync_api import Browser, Page

from tests.browser.chromium import Visit, open_page
from tests.serverproc import RunningServer

PASSWORD = "correct horse battery staple"
_names = itertools.count()
_PRESESSION = re.compile(r"((?:__Host-)?carebase_presession)=([A-Za-z0-9_-]+)")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Person:
    """Someone who can sign in to the server under test."""

    id: int
    email: str
    first_name: str
    last_name: str

    @property
    def name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}"


def admin_token(server: RunningServer) -> str:
    """The admin token the server printed on its first start (its last line)."""
    tokens = [line.strip() for line in server.stdout if line.strip().startswith("cb_")]
    assert tokens, "no admin token printed:\n" + "\n".join(server.stdout)
    return tokens[-1]


def invite(
    server: RunningServer, role: str = "agent", first_name: str = "Ali"
) -> tuple[Person, str]:
    """A new user (a unique email) and its one-time sign-in link."""
    email = f"{role}{os.getpid()}-{next(_names)}@business.io"
    response = httpx.post(
        f"{server.url}/v1/users",
        headers={"Authorization": f"Bearer {admin_token(server)}"},
        json={"email": email, "first_name": first_name, "last_name": role.title(), "role": role},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    person = Person(body["id"], email, first_name, role.title())
    return person, body["sign_in_link"]["url"]


def set_password(link: str, password: str = PASSWORD) -> None:
    """Spend a one-time link as its form does (the cookie-bound token included)."""
    page = httpx.get(link)
    assert page.status_code == 200, page.text[:500]
    cookie = _PRESESSION.search(page.headers.get("set-cookie", ""))
    token = _CSRF.search(page.text)
    assert cookie is not None
    assert token is not None
    done = httpx.post(
        link,
        data={"csrf_token": token.group(1), "password": password, "password_confirm": password},
        headers={"Cookie": f"{cookie.group(1)}={cookie.group(2)}"},
    )
    assert done.status_code == 303, done.text[:500]


def person(server: RunningServer, role: str = "agent", first_name: str = "Ali") -> Person:
    """A user with `PASSWORD`, ready to sign in."""
    made, link = invite(server, role, first_name)
    set_password(link)
    return made


def sign_in(page: Page, who: Person, password: str = PASSWORD) -> None:
    """Fill the sign-in form on `page` (already at /sign-in) and wait to land."""
    page.locator("#email").fill(who.email)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/profiles$"))


def signed_in_visit(
    browser: Browser,
    server: RunningServer,
    who: Person,
    path: str,
    *,
    width: int = 1280,
    height: int = 900,
    bypass_csp: bool = False,
) -> Visit:
    """A fresh, offline context signed in as `who`, at `path`."""
    visit = open_page(
        browser, server.url, "/sign-in", width=width, height=height, bypass_csp=bypass_csp
    )
    sign_in(visit.page, who)
    response = visit.page.goto(path, wait_until="load")
    visit.status = response.status if response is not None else 0
    return visit


# The demo brand's team, for screenshots: the first manager `serve --demo` printed a link
# for, and a few colleagues, groups and tokens around it.
DEMO_MANAGER = "manager@demo.carebase"


def demo_manager(server: RunningServer) -> Person:
    """The demo brand's first manager, its password set through the link the server
    printed."""
    links = [line.strip() for line in server.stdout if "/set-password/" in line]
    assert links, "no first-manager link printed:\n" + "\n".join(server.stdout)
    set_password(links[-1])
    return Person(1, DEMO_MANAGER, "Demo", "Manager")


def seed_team(server: RunningServer) -> None:
    """Colleagues, groups and tokens, so the settings pages show what a brand's would."""
    headers = {"Authorization": f"Bearer {admin_token(server)}"}
    groups = {}
    for name, comment in (
        ("Returns", "Refunds, exchanges and warranty claims"),
        ("Social Customer Care", "Instagram and Facebook messages"),
    ):
        response = httpx.post(
            f"{server.url}/v1/groups", headers=headers, json={"name": name, "comment": comment}
        )
        groups[name] = response.json()["id"]
    team = [
        ("Aaron", "Wells", "agent", "Australia/Sydney", ["Returns"], True),
        ("Priya", "Shah", "agent", "Australia/Melbourne", ["Social Customer Care"], True),
        ("Chen", "Li", "manager", "Australia/Perth", ["Returns"], True),
        ("Olivia", "Reid", "agent", "Pacific/Auckland", [], False),
    ]
    for first_name, last_name, role, timezone, in_groups, has_password in team:
        response = httpx.post(
            f"{server.url}/v1/users",
            headers=headers,
            json={
                "email": f"{first_name.lower()}@demo.carebase",
                "first_name": first_name,
                "last_name": last_name,
                "role": role,
                "timezone": timezone,
                "groups": [groups[name] for name in in_groups],
            },
        )
        if has_password:
            set_password(response.json()["sign_in_link"]["url"])
    for name, scopes in (("zendesk-webhook", ["ingest"]), ("bi-export", ["profiles:read"])):
        httpx.post(
            f"{server.url}/v1/tokens", headers=headers, json={"name": name, "scopes": scopes}
        )
