"""Settings over HTTP, on both engines: users, groups and API tokens for managers (agents get
the managers-only page), a message per field for bad input (422, never a 500), the one-time
link and token secret shown once, archive with Undo, and CSRF on every form."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carebase.auth import service as tokens
from carebase.db.session import Database
from carebase.settings import Settings
from carebase.users import service
from tests.conftest import FakeClock
from tests.web.console import (
    console,
    csrf,
    field_errors,
    make_user,
    page_csrf,
    sign_in,
    signed_in,
    toast,
)

BOSS = "boss@business.io"
AGENT = "agent@business.io"
LINK = re.compile(r'value="(http://[^"]+/set-password/([A-Za-z0-9_-]{43}))"')


@pytest.fixture
def people(database: Database, settings: Settings, clock: FakeClock) -> dict[str, int]:
    boss = make_user(
        database,
        settings,
        clock.now,
        BOSS,
        role="manager",
        first_name="Bo",
        last_name="Boss",
        timezone="Australia/Sydney",
    )
    agent = make_user(database, settings, clock.now, AGENT, first_name="Ali", last_name="Agent")
    return {"boss": boss, "agent": agent}


@pytest.fixture
def manager(app: FastAPI, people: dict[str, int]) -> Iterator[TestClient]:
    with console(app) as client:
        yield signed_in(client, BOSS)


@pytest.fixture
def agent(app: FastAPI, people: dict[str, int]) -> Iterator[TestClient]:
    with console(app) as client:
        yield signed_in(client, AGENT)


def _group(database: Database, clock: FakeClock, name: str) -> int:
    with database.unit_of_work() as session:
        return service.create_group(session, name=name, comment="", now=clock.now).id


# Who may.


SETTINGS_PAGES = [
    "/settings",
    "/settings/users",
    "/settings/users/new",
    "/settings/users/1",
    "/settings/groups",
    "/settings/groups/new",
    "/settings/tokens",
    "/settings/tokens/new",
]


def test_agents_get_the_managers_only_page(agent: TestClient, people: dict[str, int]) -> None:
    for path in SETTINGS_PAGES:
        response = agent.get(path)
        assert response.status_code == 403, path
        assert "Only managers can do this." in response.text
    token = page_csrf(agent)
    refused = agent.post(f"/settings/users/{people['boss']}/archive", data={"csrf_token": token})
    assert refused.status_code == 403
    assert 'href="/settings"' not in agent.get("/account").text  # not in the navigation


def test_signed_out_settings_ask_to_sign_in(app: FastAPI) -> None:
    with console(app) as browser:
        response = browser.get("/settings/users?show=all")
        assert response.status_code == 303
        assert response.headers["location"] == "/sign-in?next=%2Fsettings%2Fusers%3Fshow%3Dall"


def test_managers_see_settings_in_the_navigation(manager: TestClient) -> None:
    page = manager.get("/account")
    assert '<a href="/settings">' in page.text
    response = manager.get("/settings")
    assert response.status_code == 303
    assert response.headers["location"] == "/settings/users"
    assert '<a href="/settings" aria-current="page">' in manager.get("/settings/users").text


# Users.


def test_the_user_list_shows_people_in_the_viewers_zone(
    manager: TestClient, database: Database, settings: Settings, clock: FakeClock
) -> None:
    from tests.users import people as builders

    builders.create_user(database, settings, clock.now, "invited@business.io", first_name="Ivy")
    page = manager.get("/settings/users")
    assert page.status_code == 200
    for text in ("Bo Boss", BOSS, "Ali Agent", AGENT, "Ivy Remington", "Invited", "Never"):
        assert text in page.text
    # Bo's last sign-in, 23 Nov 2026 12:00 UTC, is 23:00 in Sydney, Bo's zone.
    assert re.search(r'datetime="2026-11-23T12:00:00Z" title="[^"]*AEDT[^"]*">23:00', page.text)
    assert 'Archive<span class="visually-hidden"> Ali Agent' in page.text
    assert 'Archive<span class="visually-hidden"> Bo Boss' not in page.text  # not yourself
    empty = manager.get("/settings/users?show=archived")
    assert "No archived users." in empty.text
    assert manager.get("/settings/users?show=bogus").status_code == 422


def test_a_new_user_gets_a_link_shown_once(
    manager: TestClient, app: FastAPI, database: Database, clock: FakeClock
) -> None:
    support = _group(database, clock, "Support")
    form = manager.get("/settings/users/new")
    assert '<option value="Australia/Sydney" selected>' in form.text  # the manager's zone
    response = manager.post(
        "/settings/users/new",
        data={
            "csrf_token": csrf(form),
            "email": "Kim@Business.io",
            "first_name": "Kim",
            "last_name": "Lee",
            "role": "agent",
            "timezone": "Europe/Paris",
            "groups": [str(support)],
        },
    )
    assert response.status_code == 200
    found = LINK.search(response.text)
    assert found is not None
    assert "shown only now" in response.text
    assert 'data-copy="#sign-in-link"' in response.text
    token = found.group(2)
    assert token not in manager.get("/settings/users").text
    listed = manager.get("/settings/users").text
    assert "kim@business.io" in listed
    assert "Support" in listed
    with console(app) as kim:
        assert kim.get(f"/set-password/{token}").status_code == 200


def test_bad_user_input_gets_a_message_per_field(
    manager: TestClient, database: Database, clock: FakeClock
) -> None:
    archived_group = _group(database, clock, "Old team")
    with database.unit_of_work() as session:
        service.archive_group(session, archived_group, now=clock.now)
    token = page_csrf(manager, "/settings/users/new")
    response = manager.post(
        "/settings/users/new",
        data={
            "csrf_token": token,
            "email": "not an email",
            "first_name": "",
            "last_name": "x" * 101,
            "role": "owner",
            "timezone": "Mars/Base",
            "groups": ["abc"],
        },
    )
    assert response.status_code == 422
    assert field_errors(response) == {
        "email": "Enter an email address, like jane@business.io.",
        "first_name": "Fill this in.",
        "last_name": "Use at most 100 characters.",
        "role": "Choose one of the options.",
        "timezone": "Choose a time zone from the list, like Australia/Sydney.",
        "groups": "Enter a whole number.",
    }
    assert 'value="not an email"' in response.text  # values kept
    good = {
        "csrf_token": token,
        "email": AGENT.upper(),
        "first_name": "Twin",
        "role": "agent",
        "timezone": "UTC",
    }
    taken = manager.post("/settings/users/new", data=good)
    assert taken.status_code == 422
    assert field_errors(taken) == {"email": "Another user has this email address."}
    archived = manager.post(
        "/settings/users/new",
        data={**good, "email": "new@business.io", "groups": [str(archived_group), "999"]},
    )
    assert archived.status_code == 422
    assert field_errors(archived) == {"groups": f"Group {archived_group} is archived."}
    with database.unit_of_work(write=False) as session:
        assert len(service.list_users(session)) == 2


def test_editing_a_user(
    manager: TestClient, database: Database, clock: FakeClock, people: dict[str, int]
) -> None:
    support = _group(database, clock, "Support")
    agent_id = people["agent"]
    page = manager.get(f"/settings/users/{agent_id}")
    assert page.status_code == 200
    assert 'value="Ali"' in page.text
    response = manager.post(
        f"/settings/users/{agent_id}",
        data={
            "csrf_token": csrf(page),
            "email": "ali@business.io",
            "first_name": "Alison",
            "last_name": "Agent",
            "role": "manager",
            "timezone": "America/New_York",
            "groups": [str(support)],
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/settings/users?done=saved&id={agent_id}"
    assert toast(manager.get(response.headers["location"])) == "Saved Alison Agent."
    with database.unit_of_work(write=False) as session:
        user = service.describe_user(session, service.get_user(session, agent_id), now=clock.now)
    assert (user.email, user.role, user.timezone, user.groups) == (
        "ali@business.io",
        "manager",
        "America/New_York",
        [support],
    )
    assert manager.get("/settings/users/99999").status_code == 404
    assert manager.get("/settings/users/abc").status_code == 422
    assert manager.get(f"/settings/users/{2**63}").status_code == 422


def test_a_manager_cannot_change_its_own_role_or_archive_itself(
    manager: TestClient, database: Database, people: dict[str, int]
) -> None:
    boss = people["boss"]
    token = page_csrf(manager)
    response = manager.post(
        f"/settings/users/{boss}",
        data={
            "csrf_token": token,
            "email": BOSS,
            "first_name": "Bo",
            "last_name": "Boss",
            "role": "agent",
            "timezone": "Australia/Sydney",
        },
    )
    assert response.status_code == 422
    assert field_errors(response) == {
        "role": "You cannot change your own role; ask another manager."
    }
    refused = manager.post(f"/settings/users/{boss}/archive", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "You cannot archive yourself; another manager can." in refused.text
    with database.unit_of_work(write=False) as session:
        me = service.get_user(session, boss)
        assert (me.role, me.archived) == ("manager", False)


def test_archiving_a_user_offers_undo(
    manager: TestClient, app: FastAPI, database: Database, people: dict[str, int]
) -> None:
    agent_id = people["agent"]
    with console(app) as agents_browser:
        signed_in(agents_browser, AGENT)
        token = page_csrf(manager)
        response = manager.post(f"/settings/users/{agent_id}/archive", data={"csrf_token": token})
        assert response.status_code == 303
        listed = manager.get(response.headers["location"])
        assert toast(listed) == "Archived Ali Agent: signed out and unable to sign in."
        assert f'action="/settings/users/{agent_id}/restore"' in listed.text
        assert "Ali Agent" in manager.get("/settings/users?show=archived").text
        # Signed out at once, and unable to sign in.
        assert agents_browser.get("/account").status_code == 303
        assert sign_in(agents_browser, AGENT).status_code == 422

        undo = manager.post(f"/settings/users/{agent_id}/restore", data={"csrf_token": token})

        assert undo.status_code == 303
        restored = manager.get(undo.headers["location"])
        assert toast(restored) == (
            "Restored Ali Agent: they can sign in with their password again."
        )
        assert sign_in(agents_browser, AGENT).status_code == 303


def test_a_new_sign_in_link_voids_the_old_one(
    manager: TestClient,
    app: FastAPI,
    database: Database,
    settings: Settings,
    clock: FakeClock,
) -> None:
    from tests.users import people as builders

    invited, old_token = builders.create_user(database, settings, clock.now, "ivy@business.io")
    response = manager.post(
        f"/settings/users/{invited}/sign-in-link", data={"csrf_token": page_csrf(manager)}
    )
    assert response.status_code == 200
    found = LINK.search(response.text)
    assert found is not None
    with console(app) as ivy:
        assert ivy.get(f"/set-password/{old_token}").status_code == 410
        assert ivy.get(f"/set-password/{found.group(2)}").status_code == 200


def test_signing_a_user_out_everywhere(
    manager: TestClient, app: FastAPI, people: dict[str, int]
) -> None:
    agent_id = people["agent"]
    with console(app) as one, console(app) as two:
        signed_in(one, AGENT)
        signed_in(two, AGENT)
        response = manager.post(
            f"/settings/users/{agent_id}/sign-out", data={"csrf_token": page_csrf(manager)}
        )
        assert response.status_code == 303
        # Two browsers, and the session Ali's invitation opened.
        assert toast(manager.get(response.headers["location"])) == (
            "Signed Ali Agent out everywhere (3 sessions)."
        )
        assert one.get("/account").status_code == 303
        assert two.get("/account").status_code == 303
    assert manager.get("/account").status_code == 200


def test_settings_forms_refuse_a_missing_token_or_another_site(
    manager: TestClient, database: Database, people: dict[str, int]
) -> None:
    agent_id = people["agent"]
    token = page_csrf(manager)
    attempts = [
        (f"/settings/users/{agent_id}/archive", {}, {}),
        (
            f"/settings/users/{agent_id}/archive",
            {"csrf_token": token},
            {"Sec-Fetch-Site": "cross-site"},
        ),
        ("/settings/groups/new", {"name": "Sneaky"}, {}),
        ("/settings/tokens/new", {"name": "sneaky", "scopes": "admin"}, {}),
    ]
    for path, data, headers in attempts:
        response = manager.post(path, data=data, headers=headers)
        assert response.status_code == 403, path
        assert "This form has expired or came from another site" in response.text
    with database.unit_of_work(write=False) as session:
        assert not service.get_user(session, agent_id).archived
        assert service.list_groups(session, include_archived=True) == []
        assert [t.name for t in tokens.list_tokens(session)] == []


# Groups.


def test_groups_are_created_edited_archived_and_restored(
    manager: TestClient, database: Database, clock: FakeClock
) -> None:
    token = page_csrf(manager, "/settings/groups/new")
    created = manager.post(
        "/settings/groups/new",
        data={"csrf_token": token, "name": "  Social   Care ", "comment": "Social team"},
    )
    assert created.status_code == 303
    page = manager.get(created.headers["location"])
    assert toast(page) == ("Created the group Social Care. Add people to it on their user pages.")
    with database.unit_of_work(write=False) as session:
        (group,) = service.list_groups(session)
        group_id = group.id
    assert "Social team" in page.text

    blank = manager.post(
        "/settings/groups/new", data={"csrf_token": token, "name": "", "comment": "x" * 2001}
    )
    assert blank.status_code == 422
    assert field_errors(blank) == {
        "name": "Fill this in.",
        "comment": "Use at most 2000 characters.",
    }
    spaces = manager.post("/settings/groups/new", data={"csrf_token": token, "name": "   "})
    assert field_errors(spaces) == {"name": "Must not be empty."}
    taken = manager.post("/settings/groups/new", data={"csrf_token": token, "name": "Social Care"})
    assert taken.status_code == 422
    assert field_errors(taken) == {"name": "Another group has this name."}

    edit = manager.get(f"/settings/groups/{group_id}")
    assert edit.status_code == 200
    saved = manager.post(
        f"/settings/groups/{group_id}",
        data={"csrf_token": token, "name": "Social Customer Care", "comment": ""},
    )
    assert saved.status_code == 303
    assert toast(manager.get(saved.headers["location"])) == "Saved the group Social Customer Care."

    archived = manager.post(f"/settings/groups/{group_id}/archive", data={"csrf_token": token})
    listed = manager.get(archived.headers["location"])
    assert toast(listed) == "Archived the group Social Customer Care."
    assert f'action="/settings/groups/{group_id}/restore"' in listed.text
    assert "No groups yet." in listed.text  # the active list is empty now
    restored = manager.post(f"/settings/groups/{group_id}/restore", data={"csrf_token": token})
    assert toast(manager.get(restored.headers["location"])) == (
        "Restored the group Social Customer Care, with its members."
    )
    assert manager.get("/settings/groups/424242").status_code == 404


# API tokens.


def test_a_token_is_created_with_its_secret_shown_once(
    manager: TestClient, database: Database
) -> None:
    form = manager.get("/settings/tokens/new")
    assert 'value="profiles:read"' in form.text
    response = manager.post(
        "/settings/tokens/new",
        data={"csrf_token": csrf(form), "name": "zendesk", "scopes": ["activity:read"]},
    )
    assert response.status_code == 200
    found = re.search(r'id="token-secret" type="text" value="(cb_[^"]+)"', response.text)
    assert found is not None
    secret = found.group(1)
    assert (
        manager.get("/v1/users", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )
    listed = manager.get("/settings/tokens").text
    assert "zendesk" in listed
    assert secret not in listed
    assert secret[:8] in listed


def test_bad_token_input_gets_a_message_per_field(manager: TestClient) -> None:
    token = page_csrf(manager, "/settings/tokens/new")
    empty = manager.post("/settings/tokens/new", data={"csrf_token": token, "name": ""})
    assert empty.status_code == 422
    assert field_errors(empty) == {"name": "Fill this in.", "scopes": "Choose at least one scope."}
    unknown = manager.post(
        "/settings/tokens/new", data={"csrf_token": token, "name": "x", "scopes": "root"}
    )
    assert unknown.status_code == 422
    assert field_errors(unknown)["scopes"].startswith("Unknown scope 'root'")


def test_revoking_a_token_asks_first_and_refuses_the_last_admin(
    manager: TestClient, database: Database, clock: FakeClock
) -> None:
    with database.unit_of_work() as session:
        admin = tokens.create_token(
            session, name="bootstrap", scopes=["admin"], now=clock.now, created_by="test"
        )
        reader = tokens.create_token(
            session, name="reader", scopes=["activity:read"], now=clock.now, created_by="test"
        )
    confirm = manager.get(f"/settings/tokens/{reader.token.id}/revoke")
    assert confirm.status_code == 200
    assert "This cannot be undone" in confirm.text
    revoked = manager.post(
        f"/settings/tokens/{reader.token.id}/revoke", data={"csrf_token": csrf(confirm)}
    )
    assert revoked.status_code == 303
    assert toast(manager.get(revoked.headers["location"])) == (
        "Revoked the token reader: it no longer works."
    )
    bearer = {"Authorization": f"Bearer {reader.secret}"}
    assert manager.get("/v1/users", headers=bearer).status_code == 401
    assert "reader" in manager.get("/settings/tokens?show=revoked").text

    last = manager.post(
        f"/settings/tokens/{admin.token.id}/revoke", data={"csrf_token": csrf(confirm)}
    )
    assert last.status_code == 409
    assert "is the last active admin token; create another admin token" in last.text
    assert (
        manager.get("/v1/tokens", headers={"Authorization": f"Bearer {admin.secret}"}).status_code
        == 200
    )
    assert manager.get("/settings/tokens/tok_nope/revoke").status_code == 404
