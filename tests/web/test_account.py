"""`/account` over HTTP, on both engines: your name and time zone, changing your password
(throttled; your other sessions end), where you are signed in, the account menu, and CSRF
on its forms."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carebase.app import create_app
from carebase.db.session import Database
from carebase.settings import Settings
from carebase.users import service
from tests.conftest import FakeClock, test_settings
from tests.web.console import (
    PASSWORD,
    console,
    field_errors,
    form_error,
    make_user,
    page_csrf,
    sign_in,
    signed_in,
    toast,
)

JANE = "jane@business.io"
NEW_PASSWORD = "a completely different phrase"


@pytest.fixture
def jane(database: Database, settings: Settings, clock: FakeClock) -> int:
    return make_user(
        database, settings, clock.now, JANE, first_name="Jane", timezone="Australia/Sydney"
    )


@pytest.fixture
def browser(app: FastAPI, jane: int) -> Iterator[TestClient]:
    with console(app) as client:
        yield signed_in(client, JANE)


def test_the_account_page_shows_you_and_your_sessions(browser: TestClient) -> None:
    page = browser.get("/account")
    assert page.status_code == 200
    assert 'value="Jane"' in page.text
    assert '<option value="Australia/Sydney" selected>Sydney</option>' in page.text
    assert "This browser" in page.text
    assert "Sign out everywhere" in page.text
    # The account menu: name, Account, and a sign-out form carrying the session's token.
    menu = page.text.split('<details class="account-menu">', 1)[1].split("</details>", 1)[0]
    assert "Jane Remington" in menu
    assert 'href="/account"' in menu
    assert 'action="/sign-out"' in menu
    assert f'value="{page_csrf(browser)}"' in menu
    # Times are in Jane's zone: 23 Nov 2026 12:00 UTC is 23:00 in Sydney (daylight saving).
    assert re.search(
        r'<time datetime="2026-11-23T12:00:00Z" title="[^"]*AEDT[^"]*">23:00', page.text
    )


def test_saving_your_details(
    browser: TestClient, database: Database, clock: FakeClock, jane: int
) -> None:
    token = page_csrf(browser)
    response = browser.post(
        "/account",
        data={
            "csrf_token": token,
            "first_name": "Janet",
            "last_name": "Rem",
            "timezone": "asia/kolkata",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/account?done=saved"
    assert toast(browser.get(response.headers["location"])) == "Your details are saved."
    with database.unit_of_work(write=False) as session:
        user = service.get_user(session, jane)
        assert (user.first_name, user.last_name, user.timezone) == ("Janet", "Rem", "Asia/Kolkata")


def test_bad_details_get_a_message_per_field(
    browser: TestClient, database: Database, jane: int
) -> None:
    response = browser.post(
        "/account",
        data={
            "csrf_token": page_csrf(browser),
            "first_name": "   ",
            "last_name": "x" * 101,
            "timezone": "Mars/Olympus_Mons",
        },
    )
    assert response.status_code == 422
    errors = field_errors(response)
    assert errors["last_name"] == "Use at most 100 characters."
    assert errors["timezone"] == "Choose a time zone from the list, like Australia/Sydney."
    # The blank name passes the form's length check; the service then names it.
    fixed = browser.post(
        "/account",
        data={
            "csrf_token": page_csrf(browser),
            "first_name": "   ",
            "last_name": "",
            "timezone": "UTC",
        },
    )
    assert fixed.status_code == 422
    assert field_errors(fixed) == {"first_name": "Must not be empty."}
    with database.unit_of_work(write=False) as session:
        assert service.get_user(session, jane).first_name == "Jane"


def test_changing_your_password_ends_your_other_sessions(app: FastAPI, browser: TestClient) -> None:
    with console(app) as phone:
        signed_in(phone, JANE)
        wrong = browser.post(
            "/account/password",
            data={
                "csrf_token": page_csrf(browser),
                "current_password": "not my password",
                "new_password": NEW_PASSWORD,
            },
        )
        assert wrong.status_code == 422
        assert field_errors(wrong) == {"current_password": "This is not your current password."}
        weak = browser.post(
            "/account/password",
            data={
                "csrf_token": page_csrf(browser),
                "current_password": PASSWORD,
                "new_password": JANE,
            },
        )
        assert weak.status_code == 422
        assert field_errors(weak) == {"new_password": "Must not be your email address."}
        assert JANE not in weak.text.split('id="new_password"', 1)[1].split(">", 1)[0]

        done = browser.post(
            "/account/password",
            data={
                "csrf_token": page_csrf(browser),
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
            },
        )

        assert done.status_code == 303
        page = browser.get(done.headers["location"])
        # The phone, and the session Jane's invitation opened.
        assert toast(page) == "Your password is changed. 2 other sessions signed out."
        assert phone.get("/account").status_code == 303
    with console(app) as fresh:
        assert sign_in(fresh, JANE, PASSWORD).status_code == 422
        assert sign_in(fresh, JANE, NEW_PASSWORD).status_code == 303


def test_wrong_current_passwords_are_throttled(
    database: Database, clock: FakeClock, database_url: str
) -> None:
    settings = test_settings(database_url, signin_account_limit="2/15m")
    make_user(database, settings, clock.now, JANE)
    app = create_app(settings, database=database, clock=clock, run_jobs=False)
    with console(app) as browser:
        signed_in(browser, JANE)
        statuses = []
        for _ in range(3):
            response = browser.post(
                "/account/password",
                data={
                    "csrf_token": page_csrf(browser),
                    "current_password": "still not it",
                    "new_password": NEW_PASSWORD,
                },
            )
            statuses.append(response.status_code)
        assert statuses == [422, 422, 429]
        assert (form_error(response) or "").startswith("Too many failed sign-in attempts")
        assert "retry-after" in response.headers


def test_account_forms_refuse_a_missing_token_or_another_site(
    browser: TestClient, database: Database, jane: int
) -> None:
    token = page_csrf(browser)
    data = {"first_name": "Mallory", "last_name": "", "timezone": "UTC"}
    refusals = [
        (data, {}),
        ({**data, "csrf_token": "forged"}, {}),
        ({**data, "csrf_token": token}, {"Sec-Fetch-Site": "cross-site"}),
        ({**data, "csrf_token": token}, {"Origin": "https://evil.example"}),
    ]
    for body, headers in refusals:
        response = browser.post("/account", data=body, headers=headers)
        assert response.status_code == 403, (body, headers)
        assert "This form has expired or came from another site" in response.text
    assert browser.post("/sign-out/everywhere", data={}).status_code == 403
    with database.unit_of_work(write=False) as session:
        assert service.get_user(session, jane).first_name == "Jane"
    assert browser.get("/account").status_code == 200  # still signed in
    # htmx sends the token as a header instead.
    response = browser.post("/account", data=data, headers={"X-CSRF-Token": token})
    assert response.status_code == 303
