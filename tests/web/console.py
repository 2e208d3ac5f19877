"""Helpers for the console's HTTP tests: a client on https://testserver (so the Secure,
`__Host-` cookies flow), people made through the services, and signing in through the form
as a browser does."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carebase.db.session import Database
from carebase.settings import Settings
from tests.console_session import ConsoleUser
from tests.users import people

PASSWORD = people.PASSWORD
BASE_URL = "https://testserver"
_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
_FIELD_ERROR = re.compile(r'<p class="field-error" id="([^"]+)-error">.*?<span>(.*?)</span>', re.S)
_FORM_ERROR = re.compile(
    r'<p class="notice notice--error" role="alert">.*?<span>(.*?)</span>', re.S
)
_TOAST = re.compile(r'<div class="toast toast--success" role="status">.*?<p>(.*?)</p>', re.S)


def signed_in_as(client: TestClient, who: ConsoleUser) -> TestClient:
    """`client` carrying `who`'s session cookie and CSRF token."""
    client.cookies.set(who.cookie, who.secret)
    client.headers["X-CSRF-Token"] = who.csrf_token
    return client


@contextmanager
def console(app: FastAPI) -> Iterator[TestClient]:
    """A browser-like client: https, cookies kept, redirects not followed."""
    with TestClient(
        app, base_url=BASE_URL, raise_server_exceptions=False, follow_redirects=False
    ) as client:
        yield client


def csrf(response: httpx.Response) -> str:
    """The CSRF token of the (first) form on a page."""
    found = _CSRF.search(response.text)
    assert found is not None, response.text[:2000]
    return found.group(1)


def field_errors(response: httpx.Response) -> dict[str, str]:
    """The messages shown beside fields, by field id."""
    return {name: html.unescape(text) for name, text in _FIELD_ERROR.findall(response.text)}


def form_error(response: httpx.Response) -> str | None:
    """The message that belongs to the whole form."""
    found = _FORM_ERROR.search(response.text)
    return html.unescape(found.group(1)) if found else None


def toast(response: httpx.Response) -> str | None:
    """The words of the page's success toast."""
    found = _TOAST.search(response.text)
    return html.unescape(found.group(1)) if found else None


def make_user(
    database: Database,
    settings: Settings,
    now: datetime,
    email: str,
    role: str = "agent",
    **fields: Any,
) -> int:
    """A user who has set `PASSWORD` through its invitation; its id."""
    return people.user_with_password(database, settings, now, email, role=role, **fields).user.id


def sign_in(
    client: TestClient, email: str, password: str = PASSWORD, next_page: str = ""
) -> httpx.Response:
    """Open the sign-in page and post the form, as a browser does."""
    page = client.get("/sign-in")
    assert page.status_code == 200, page.text[:500]
    data = {"csrf_token": csrf(page), "email": email, "password": password, "next": next_page}
    return client.post("/sign-in", data=data)


def signed_in(client: TestClient, email: str) -> TestClient:
    """`client`, signed in as `email` (whose password is `PASSWORD`)."""
    response = sign_in(client, email)
    assert response.status_code == 303, response.text[:1000]
    return client


def page_csrf(client: TestClient, path: str = "/account") -> str:
    """The session's CSRF token, read from a page."""
    response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    return csrf(response)
