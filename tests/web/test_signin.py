"""Signing in and out over HTTP, on both engines: the form, one message for every wrong
credential, throttling with the minutes to wait, the session cookie's flags, `next`, CSRF
on the pre-session forms (same site and a cookie-bound token), sign-out (this browser and
everywhere), one-time links, and an archived user's session ending."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carebase.app import create_app
from carebase.db.session import Database
from carebase.settings import Settings
from carebase.users import service
from tests.conftest import FakeClock, test_settings
from tests.users import people
from tests.web.console import (
    PASSWORD,
    console,
    csrf,
    field_errors,
    form_error,
    make_user,
    page_csrf,
    sign_in,
    signed_in,
)

JANE = "jane@business.io"


@pytest.fixture
def jane(database: Database, settings: Settings, clock: FakeClock) -> int:
    return make_user(database, settings, clock.now, JANE, first_name="Jane")


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with console(app) as client:
        yield client


def _cookie_header(response_headers: list[tuple[str, str]], prefix: str) -> str:
    found = [v for k, v in response_headers if k == "set-cookie" and v.startswith(prefix)]
    assert found, response_headers
    return found[0]


def test_signing_in_opens_a_session_with_a_strict_cookie(browser: TestClient, jane: int) -> None:
    page = browser.get("/sign-in")
    presession = _cookie_header(page.headers.multi_items(), "__Host-carebase_presession=")
    assert "HttpOnly" in presession
    assert "Secure" in presession
    assert "SameSite=lax" in presession
    assert "Path=/" in presession

    response = browser.post(
        "/sign-in",
        data={"csrf_token": csrf(page), "email": "Jane@Business.io", "password": PASSWORD},
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/profiles"
    cookie = _cookie_header(response.headers.multi_items(), "__Host-carebase_session=")
    for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/", "Max-Age=604800"):
        assert flag in cookie
    assert "Domain" not in cookie
    assert browser.get("/account").status_code == 200
    # Signed in, the start page and the sign-in page go on to profile search.
    assert browser.get("/").headers["location"] == "/profiles"
    assert browser.get("/sign-in").headers["location"] == "/profiles"


def test_signed_out_the_start_page_is_sign_in(browser: TestClient) -> None:
    assert browser.get("/").headers["location"] == "/sign-in"
    response = browser.get("/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Faccount"


@pytest.mark.parametrize(
    ("next_page", "location"),
    [
        ("/settings/users?show=all", "/settings/users?show=all"),
        ("//evil.example/x", "/profiles"),
        ("https://evil.example/", "/profiles"),
        ("/", "/profiles"),
        ("", "/profiles"),
    ],
)
def test_sign_in_goes_on_to_a_safe_next(
    browser: TestClient, jane: int, next_page: str, location: str
) -> None:
    response = sign_in(browser, JANE, next_page=next_page)
    assert response.status_code == 303
    assert response.headers["location"] == location


def test_every_wrong_credential_gets_one_message(
    browser: TestClient, database: Database, settings: Settings, clock: FakeClock, jane: int
) -> None:
    people.create_user(database, settings, clock.now, "invited@business.io")  # no password yet
    archived = make_user(database, settings, clock.now, "gone@business.io")
    with database.unit_of_work() as session:
        service.archive_user(session, archived, now=clock.now)
    attempts = [
        (JANE, "not the password at all"),
        ("nobody@business.io", PASSWORD),
        ("invited@business.io", PASSWORD),
        ("gone@business.io", PASSWORD),
    ]
    for email, password in attempts:
        response = sign_in(browser, email, password)
        assert response.status_code == 422, email
        assert form_error(response) == "The email or password is not right.", email
        assert "carebase_session" not in response.headers.get("set-cookie", "")
        # The email stays in the form; the password never comes back.
        assert f'value="{email}"' in response.text
        assert password not in response.text


def test_missing_fields_get_a_message_each(browser: TestClient) -> None:
    page = browser.get("/sign-in")
    response = browser.post("/sign-in", data={"csrf_token": csrf(page), "email": ""})
    assert response.status_code == 422
    assert field_errors(response) == {"email": "Fill this in.", "password": "Fill this in."}
    assert 'aria-invalid="true"' in response.text


def test_failed_sign_ins_are_throttled_with_the_minutes_to_wait(
    database: Database, clock: FakeClock, database_url: str
) -> None:
    settings = test_settings(database_url, signin_account_limit="3/15m")
    make_user(database, settings, clock.now, JANE)
    app = create_app(settings, database=database, clock=clock, run_jobs=False)
    with console(app) as browser:
        for _ in range(3):
            assert sign_in(browser, JANE, "a wrong password!").status_code == 422
        refused = sign_in(browser, JANE, PASSWORD)  # even the right one, now
        assert refused.status_code == 429
        wait = int(refused.headers["retry-after"])
        assert wait > 0
        minutes = -(-wait // 60)
        assert form_error(refused) == (
            f"Too many failed sign-in attempts; try again in {minutes} minutes."
        )
        assert "carebase_session" not in refused.headers.get("set-cookie", "")
        clock.advance(wait)
        assert sign_in(browser, JANE, PASSWORD).status_code == 303


def test_sign_in_refuses_a_form_without_its_token_or_from_another_site(
    browser: TestClient, jane: int
) -> None:
    page = browser.get("/sign-in")
    token = csrf(page)
    good = {"csrf_token": token, "email": JANE, "password": PASSWORD}
    refusals = [
        ({**good, "csrf_token": ""}, {}),
        ({**good, "csrf_token": token[:-2] + "xx"}, {}),
        (good, {"Sec-Fetch-Site": "cross-site"}),
        (good, {"Sec-Fetch-Site": "same-site"}),
        (good, {"Origin": "https://evil.example"}),
    ]
    for data, headers in refusals:
        response = browser.post("/sign-in", data=data, headers=headers)
        assert response.status_code == 403, (data, headers)
        assert "This form has expired or came from another site" in response.text
        assert "carebase_session" not in response.headers.get("set-cookie", "")
    # A token is bound to the browser's own cookie: another browser's is refused.
    with TestClient(browser.app, base_url="https://testserver", follow_redirects=False) as other:
        other.get("/sign-in")
        assert other.post("/sign-in", data=good).status_code == 403
    # The same form from this site's own page passes.
    response = browser.post(
        "/sign-in",
        data=good,
        headers={"Sec-Fetch-Site": "same-origin", "Origin": "https://testserver"},
    )
    assert response.status_code == 303


def test_sign_out_ends_this_session_only(
    app: FastAPI, database: Database, settings: Settings, jane: int
) -> None:
    with console(app) as laptop, console(app) as phone:
        signed_in(laptop, JANE)
        signed_in(phone, JANE)
        token = page_csrf(laptop)
        # Without the session's token, nothing happens.
        assert laptop.post("/sign-out", data={}).status_code == 403
        assert laptop.get("/account").status_code == 200

        response = laptop.post("/sign-out", data={"csrf_token": token})

        assert response.status_code == 303
        assert response.headers["location"] == "/sign-in?signed_out=1"
        cleared = response.headers["set-cookie"]
        assert cleared.startswith('__Host-carebase_session=""') or "Max-Age=0" in cleared
        assert "You have signed out." in laptop.get("/sign-in?signed_out=1").text
        assert laptop.get("/account").status_code == 303
        assert phone.get("/account").status_code == 200


def test_sign_out_everywhere_ends_every_session(app: FastAPI, jane: int) -> None:
    with console(app) as laptop, console(app) as phone:
        signed_in(laptop, JANE)
        signed_in(phone, JANE)
        response = laptop.post("/sign-out/everywhere", data={"csrf_token": page_csrf(laptop)})
        assert response.status_code == 303
        assert response.headers["location"] == "/sign-in?signed_out=everywhere"
        assert laptop.get("/account").status_code == 303
        assert phone.get("/account").status_code == 303


def test_an_archived_users_session_ends_at_once(
    app: FastAPI, database: Database, clock: FakeClock, jane: int
) -> None:
    with console(app) as browser:
        signed_in(browser, JANE)
        assert browser.get("/account").status_code == 200
        with database.unit_of_work() as session:
            service.archive_user(session, jane, now=clock.now)
        response = browser.get("/account")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/sign-in")
        # Restored, it signs in again with its password; the old session stays ended.
        with database.unit_of_work() as session:
            service.restore_user(session, jane, now=clock.now)
        assert browser.get("/account").status_code == 303
        assert sign_in(browser, JANE).status_code == 303


# One-time links.


def test_an_invitation_sets_a_password_and_signs_in(
    browser: TestClient, database: Database, settings: Settings, clock: FakeClock
) -> None:
    _, token = people.create_user(database, settings, clock.now, JANE, first_name="Jane")
    page = browser.get(f"/set-password/{token}")
    assert page.status_code == 200
    assert "Welcome, Jane" in page.text
    assert JANE in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    form = {"csrf_token": csrf(page), "password": PASSWORD, "password_confirm": PASSWORD}

    mismatch = browser.post(
        f"/set-password/{token}", data={**form, "password_confirm": PASSWORD + "!"}
    )
    assert mismatch.status_code == 422
    assert field_errors(mismatch) == {
        "password_confirm": "The two passwords are not the same; type it again."
    }
    short = browser.post(
        f"/set-password/{token}",
        data={**form, "password": "short", "password_confirm": "short"},
    )
    assert short.status_code == 422
    assert field_errors(short) == {"password": "Must be at least 12 characters."}
    assert 'value="short"' not in short.text  # passwords never come back

    done = browser.post(f"/set-password/{token}", data=form)

    assert done.status_code == 303
    assert done.headers["location"] == "/profiles"
    assert "__Host-carebase_session=" in done.headers["set-cookie"]
    assert browser.get("/account").status_code == 200
    used = browser.get(f"/set-password/{token}")
    assert used.status_code == 410
    assert "This sign-in link has already been used; ask a manager for a new one." in used.text
    assert "This link cannot be used" in used.text


def test_an_expired_or_unknown_link_is_a_clear_410_page(
    browser: TestClient, database: Database, settings: Settings, clock: FakeClock
) -> None:
    _, token = people.create_user(database, settings, clock.now, JANE)
    clock.advance(timedelta(hours=73).total_seconds())
    expired = browser.get(f"/set-password/{token}")
    assert expired.status_code == 410
    assert "This sign-in link has expired; ask a manager for a new one." in expired.text
    for unknown in ("A" * 43, "nonsense", "x" * 100):
        response = browser.get(f"/set-password/{unknown}")
        assert response.status_code == 410, unknown
        assert "ask a manager for a new one" in response.text


def test_a_link_form_needs_its_token_and_is_not_spent_without_it(
    browser: TestClient, database: Database, settings: Settings, clock: FakeClock
) -> None:
    _, token = people.create_user(database, settings, clock.now, JANE)
    page = browser.get(f"/set-password/{token}")
    form = {"password": PASSWORD, "password_confirm": PASSWORD}
    assert browser.post(f"/set-password/{token}", data=form).status_code == 403
    cross = browser.post(
        f"/set-password/{token}",
        data={**form, "csrf_token": csrf(page)},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403
    # Still usable.
    assert browser.get(f"/set-password/{token}").status_code == 200
    spent = browser.post(f"/set-password/{token}", data={**form, "csrf_token": csrf(page)})
    assert spent.status_code == 303


def test_a_form_posted_after_the_session_ended_signs_in_back_to_its_page(
    browser: TestClient,
) -> None:
    response = browser.post(
        "/settings/users/3/archive",
        data={"csrf_token": "x"},
        headers={"Referer": "https://testserver/settings/users?show=all"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Fsettings%2Fusers%3Fshow%3Dall"
    elsewhere = browser.post(
        "/account", data={}, headers={"Referer": "https://evil.example/settings/users"}
    )
    assert elsewhere.headers["location"] == "/sign-in"
