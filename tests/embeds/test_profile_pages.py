"""The compact profile over HTTP on both engines: found by external id, then email, then
phone; an empty state (never an error page) when nothing matches; framed by the helpdesks
only; notes written only by a signed-in carebase user, signed in inside the frame."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from carebase.app import create_app
from carebase.db.session import Database
from carebase.settings import Settings
from tests.conftest import FakeClock, test_settings
from tests.embeds.customers import (
    ADA_EMAIL,
    ADA_ID,
    ADA_MOBILE,
    GRACE_EMAIL,
    Customers,
    load,
    note,
    person,
)
from tests.embeds.http import (
    CONSOLE,
    SESSION,
    assert_framable,
    cookie,
    cookie_value,
    set_cookie,
)
from tests.embeds.keys import CHATWOOT_ORIGIN
from tests.helpers import Brand
from tests.users.people import PASSWORD

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


def lookup(client: TestClient, secret: str, **keys: str) -> str:
    response = client.get(
        "/embed/profile/lookup",
        params=keys,
        headers={**cookie(SESSION, secret), "HX-Request": "true"},
    )
    assert response.status_code == 200, response.text
    return response.text


def shown(text: str) -> str | None:
    """The profile a fragment shows (its name heading), or None for the empty state."""
    match = re.search(r'<h2 id="embed-name">([^<]*)</h2>', text)
    return match.group(1) if match else None


def test_lookup_tries_external_id_then_email_then_phone(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    load(Brand(client, admin_token))
    jo = person(database, settings, clock.now)
    # The brand's id wins over an email naming someone else.
    both = lookup(client, jo.secret, external_id=ADA_ID, email=GRACE_EMAIL)
    assert shown(both) == "Ada Lovelace"
    assert "Found by external id." in both
    # An unknown id falls through to the email, an unknown email to the phone.
    assert shown(lookup(client, jo.secret, external_id="nope", email=GRACE_EMAIL)) == "Grace Hopper"
    by_phone = lookup(client, jo.secret, email="nobody@example.com", phone="+61 400 000 002")
    assert shown(by_phone) == "Grace Hopper"
    assert "Found by phone." in by_phone
    assert shown(lookup(client, jo.secret, phone=ADA_MOBILE)) == "Ada Lovelace"


def test_nothing_found_is_an_empty_state_with_a_search_link(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    load(Brand(client, admin_token))
    jo = person(database, settings, clock.now)
    empty = lookup(client, jo.secret, external_id="X-9", email="nobody@example.com")
    assert shown(empty) is None
    assert "No carebase profile" in empty
    assert "<dd>X-9</dd>" in empty
    assert "<dd>nobody@example.com</dd>" in empty
    assert 'href="/profiles?q=nobody%40example.com"' in empty
    none_given = lookup(client, jo.secret)
    assert "names no customer id, email or phone" in none_given
    # Keys a helpdesk should never send are ignored, not an error.
    odd = lookup(client, jo.secret, email="a\x01b@example.com", phone="x" * 400)
    assert "No carebase profile" in odd
    page = client.get(
        "/embed/profile", params={"email": "nobody@example.com"}, headers=cookie(SESSION, jo.secret)
    )
    assert page.status_code == 200
    assert "No carebase profile" in page.text
    assert_framable(page)


def test_the_panel_shows_identity_attributes_open_tickets_history_and_notes(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    customers: Customers = load(Brand(client, admin_token))
    jo = person(database, settings, clock.now)
    note(database, customers.ada, jo.id, "Prefers email over phone.", clock.now)
    page = client.get(
        "/embed/profile", params={"email": ADA_EMAIL}, headers=cookie(SESSION, jo.secret)
    )
    assert page.status_code == 200
    assert_framable(page)
    text = page.text
    assert shown(text) == "Ada Lovelace"
    assert "<dd>ada@example.com</dd>" in text
    assert f"<dd>{ADA_MOBILE}</dd>" in text
    assert "<dt>shop</dt><dd>C-1</dd>" in text
    assert "Melbourne, AU" in text
    assert "<dt>Tickets</dt><dd>2 (1 open)</dd>" in text
    # Open tickets: the open one, not the solved one.
    open_section = text.split('id="embed-open"')[1].split("</section>")[0]
    assert "Parcel never arrived" in open_section
    assert "Wrong size" not in open_section
    history = text.split('id="embed-history"')[1].split("</section>")[0]
    assert "Ticket" in history
    assert "Prefers email over phone." in text
    assert "Jo Remington" in text
    assert f'href="/profiles/{customers.ada}"' in text
    assert 'id="embed-note-body"' in text  # a signed-in user may add a note
    assert "<script>" not in text
    assert " style=" not in text


def test_a_viewer_is_needed_and_asked_for_inside_the_frame(client: TestClient) -> None:
    for path in ("/embed/profile?email=ada@example.com", "/embed/chatwoot"):
        response = client.get(path)
        assert response.status_code == 401
        assert_framable(response)
        assert 'action="/embed/sign-in"' in response.text
    fragment = client.get("/embed/profile/lookup", headers={"HX-Request": "true"})
    assert fragment.status_code == 401
    assert "<html" not in fragment.text
    assert 'action="/embed/sign-in"' in fragment.text


def test_signing_in_inside_the_frame_keeps_a_partitioned_session(
    client: TestClient, database: Database, settings: Settings, clock: FakeClock
) -> None:
    jo = person(database, settings, clock.now)
    form = client.get("/embed/sign-in?next=/embed/chatwoot")
    assert form.status_code == 200
    assert_framable(form)
    assert 'name="next" value="/embed/chatwoot"' in form.text
    fields = {"email": jo.email, "password": PASSWORD, "next": "/embed/chatwoot"}

    # Only from carebase's own page: Fetch Metadata, else Origin; neither is refused.
    assert client.post("/embed/sign-in", data=fields).status_code == 403
    cross = client.post("/embed/sign-in", data=fields, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    foreign = client.post("/embed/sign-in", data=fields, headers={"Origin": CHATWOOT_ORIGIN})
    assert foreign.status_code == 403

    wrong = client.post("/embed/sign-in", data={**fields, "password": "nope"}, headers=SAME_ORIGIN)
    assert wrong.status_code == 401
    assert "The email or password is not right." in wrong.text
    assert set_cookie(wrong, SESSION) is None
    assert 'value="jo@brand.io"' in wrong.text
    assert "nope" not in wrong.text

    signed = client.post("/embed/sign-in", data=fields, headers=SAME_ORIGIN, follow_redirects=False)
    assert signed.status_code == 303
    assert signed.headers["location"] == "/embed/chatwoot"
    line = set_cookie(signed, SESSION)
    assert line is not None
    assert line.endswith("; Path=/; HttpOnly; Secure; SameSite=None; Partitioned")
    secret = cookie_value(signed, SESSION)
    page = client.get("/embed/chatwoot", headers=cookie(SESSION, secret))
    assert page.status_code == 200
    assert f'data-chatwoot-origin="{CHATWOOT_ORIGIN}"' in page.text
    assert "embed-chatwoot.js" in page.text
    # The next page is inside the embed only.
    elsewhere = client.post(
        "/embed/sign-in",
        data={**fields, "next": "https://evil.example/"},
        headers=SAME_ORIGIN,
        follow_redirects=False,
    )
    assert elsewhere.headers["location"] == "/embed/profile"


def test_notes_need_a_carebase_user_and_the_sessions_csrf_token(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    customers = load(Brand(client, admin_token))
    jo = person(database, settings, clock.now)
    path = f"/embed/profile/{customers.ada}/notes"
    headers = {**cookie(SESSION, jo.secret), **SAME_ORIGIN, "HX-Request": "true"}
    assert client.post(path, data={"body": "Hello"}, headers=headers).status_code == 403
    added = client.post(
        path,
        data={"body": "Called back, all sorted.", "csrf_token": jo.csrf_token},
        headers=headers,
    )
    assert added.status_code == 200
    assert "Note added." in added.text
    assert "Called back, all sorted." in added.text
    assert added.text.lstrip().startswith('<section id="embed-notes"')
    empty = client.post(path, data={"body": "  ", "csrf_token": jo.csrf_token}, headers=headers)
    assert empty.status_code == 422
    assert "The note must not be empty." in empty.text
    missing = client.post(
        "/embed/profile/p_nope/notes",
        data={"body": "x", "csrf_token": jo.csrf_token},
        headers=headers,
    )
    assert missing.status_code == 404
    assert_framable(missing)
    # Anonymous: the sign-in form, in the notes' place.
    anonymous = client.post(path, data={"body": "x"}, headers={**SAME_ORIGIN, "HX-Request": "true"})
    assert anonymous.status_code == 401
    assert 'action="/embed/sign-in"' in anonymous.text


def test_a_console_session_views_the_embed_on_the_same_site(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    load(Brand(client, admin_token))
    jo = person(database, settings, clock.now)
    page = client.get(
        "/embed/profile", params={"email": ADA_EMAIL}, headers=cookie(CONSOLE, jo.secret)
    )
    assert page.status_code == 200
    assert shown(page.text) == "Ada Lovelace"
    # Signed in in the console, not the frame: no sign-out button here.
    assert 'action="/embed/sign-out"' not in page.text


def test_signing_out_ends_the_frames_session(
    client: TestClient, database: Database, settings: Settings, clock: FakeClock
) -> None:
    jo = person(database, settings, clock.now)
    headers = {**cookie(SESSION, jo.secret), **SAME_ORIGIN}
    page = client.get("/embed/profile", headers=cookie(SESSION, jo.secret))
    assert 'action="/embed/sign-out"' in page.text
    out = client.post(
        "/embed/sign-out",
        data={"csrf_token": jo.csrf_token, "next": "/embed/chatwoot"},
        headers=headers,
        follow_redirects=False,
    )
    assert out.status_code == 303
    assert out.headers["location"] == "/embed/chatwoot"
    assert cookie_value(out, SESSION) == ""
    assert client.get("/embed/profile", headers=cookie(SESSION, jo.secret)).status_code == 401


def test_nothing_configured_frames_nothing(
    client: TestClient, database_url: str, database: Database, clock: FakeClock
) -> None:
    plain = create_app(test_settings(database_url), database=database, clock=clock, run_jobs=False)
    with TestClient(plain, base_url="https://testserver", raise_server_exceptions=False) as bare:
        for path in ("/embed/zendesk", "/embed/chatwoot"):
            response = bare.get(path)
            assert response.status_code == 404
            assert "not set up" in response.text
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert bare.post("/embed/zendesk", data={"token": "x"}).status_code == 404
