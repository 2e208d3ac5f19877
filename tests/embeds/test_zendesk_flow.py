"""Zendesk over HTTP: the signed POST opens a read-only grant in a partitioned cookie and
goes on to the GET with ZAF's parameters; every other token is a 401 page in the frame."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import httpx
from fastapi.testclient import TestClient

from carebase.db.session import Database
from carebase.embeds import grants
from carebase.settings import Settings
from tests.conftest import FakeClock
from tests.embeds.customers import ADA_EMAIL, load, person
from tests.embeds.http import CONSOLE, GRANT, assert_framable, cookie, cookie_value, csp, set_cookie
from tests.embeds.keys import AUDIENCE, ZENDESK_ORIGIN, sign
from tests.helpers import Brand

QUERY = f"origin={ZENDESK_ORIGIN.replace(':', '%3A').replace('/', '%2F')}&app_guid=abc-123"
ZAF = "https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js"


def post_token(client: TestClient, token: str, query: str = QUERY) -> httpx.Response:
    """Post a token as Zendesk does: from Zendesk's page, another site."""
    return client.post(
        f"/embed/zendesk?{query}",
        data={"token": token},
        headers={"Sec-Fetch-Site": "cross-site", "Origin": ZENDESK_ORIGIN},
        follow_redirects=False,
    )


def test_a_signed_post_grants_the_frame_and_keeps_zafs_parameters(
    client: TestClient, clock: FakeClock, admin_token: str
) -> None:
    load(Brand(client, admin_token))
    response = post_token(client, sign(clock.now))
    assert response.status_code == 303
    assert response.headers["location"] == f"/embed/zendesk?{QUERY}"
    line = set_cookie(response, GRANT)
    assert line is not None
    attributes = [part.strip() for part in line.split(";")[1:]]
    assert attributes == [
        "Max-Age=43200",
        "Path=/",
        "HttpOnly",
        "Secure",
        "SameSite=None",
        "Partitioned",
    ]
    grant = cookie_value(response, GRANT)

    page = client.get(response.headers["location"], headers=cookie(GRANT, grant))
    assert page.status_code == 200
    assert_framable(page)
    # ZAF's SDK, that one file, on this page only.
    assert csp(page)["script-src"] == f"'self' {ZAF}"
    assert f'<script src="{ZAF}" defer></script>' in page.text
    assert "embed-zendesk.js" in page.text
    assert "<script>" not in page.text

    # The grant reads profiles; it writes nothing.
    found = client.get(
        "/embed/profile/lookup",
        params={"email": ADA_EMAIL},
        headers={**cookie(GRANT, grant), "HX-Request": "true"},
    )
    assert found.status_code == 200
    assert "Ada Lovelace" in found.text
    assert "Add a note" not in found.text
    assert "to add a note" in found.text
    assert csp(found)["script-src"] == "'self'"


def test_a_refused_token_is_a_401_page_in_the_frame_and_grants_nothing(
    client: TestClient, clock: FakeClock
) -> None:
    other = AUDIENCE.replace("360001", "999")
    cases = {
        "another installation": sign(clock.now, aud=other),
        "another key": sign(clock.now, key="attacker"),
        "expired": sign(clock.now - timedelta(minutes=10)),
        "garbage": "not-a-token",
        "empty": "",
    }
    for name, token in cases.items():
        response = post_token(client, token)
        assert response.status_code == 401, name
        assert set_cookie(response, GRANT) is None, name
        assert "could not verify Zendesk" in response.text, name
        assert_framable(response)
    # A wrong audience, under a valid signature, names the audience to configure.
    assert other in post_token(client, cases["another installation"]).text
    assert other not in post_token(client, cases["another key"]).text


def test_the_sidebar_without_a_grant_asks_for_a_sign_in_in_the_frame(client: TestClient) -> None:
    response = client.get(f"/embed/zendesk?{QUERY}")
    assert response.status_code == 401
    assert_framable(response)
    assert 'action="/embed/sign-in"' in response.text
    assert "could not confirm that Zendesk opened this panel" in response.text
    # Coming back keeps ZAF's parameters.
    assert f'name="next" value="/embed/zendesk?{QUERY.replace("&", "&amp;")}"' in response.text


def test_a_grant_of_another_installation_or_secret_is_not_a_viewer(
    client: TestClient, clock: FakeClock, settings: Settings
) -> None:
    stale = grants.issue(
        settings.secret_key.get_secret_value(),
        host="zendesk",
        audience=AUDIENCE.replace("360001", "1"),
        subject=None,
        now=clock.now,
        lifetime=timedelta(hours=1),
    )
    assert client.get(f"/embed/zendesk?{QUERY}", headers=cookie(GRANT, stale)).status_code == 401
    assert client.get(f"/embed/zendesk?{QUERY}", headers=cookie(GRANT, "x.y")).status_code == 401


def test_an_origin_that_is_not_the_configured_zendesk_is_refused(
    client: TestClient, clock: FakeClock
) -> None:
    grant = cookie_value(post_token(client, sign(clock.now)), GRANT)
    response = client.get(
        "/embed/zendesk?origin=https%3A%2F%2Fevil.example&app_guid=x", headers=cookie(GRANT, grant)
    )
    assert response.status_code == 400
    assert_framable(response)


def test_the_app_package_is_for_managers(
    client: TestClient, database: Database, settings: Settings, clock: FakeClock
) -> None:
    anonymous = client.get("/embed/zendesk/manifest.json", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/sign-in?next=")
    agent = person(database, settings, clock.now, "agent@brand.io")
    assert (
        client.get("/embed/zendesk/app.zip", headers=cookie(CONSOLE, agent.secret)).status_code
        == 403
    )
    manager = person(database, settings, clock.now, "boss@brand.io", role="manager")
    manifest = client.get("/embed/zendesk/manifest.json", headers=cookie(CONSOLE, manager.secret))
    assert manifest.status_code == 200
    assert manifest.json()["location"]["support"]["ticket_sidebar"]["url"] == (
        f"{settings.base_url}/embed/zendesk"
    )
    package = client.get("/embed/zendesk/app.zip", headers=cookie(CONSOLE, manager.secret))
    assert package.status_code == 200
    assert package.headers["content-type"] == "application/zip"
    assert "attachment" in package.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        assert "manifest.json" in archive.namelist()
