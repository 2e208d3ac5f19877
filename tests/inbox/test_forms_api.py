"""The forms API on both engines: `GET /v1/forms` exactly as Lexer's Activity API lists forms,
managing forms (validation, names, archive), a case's one-time survey link (one per form and
case, renewable), and a form's answers."""

from __future__ import annotations

import hashlib
import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from carebase.app import create_app
from carebase.db.session import Database
from carebase.models import FormInvitation, InboxSettings
from carebase.settings import Settings
from carebase.users import service as users
from tests.conftest import FakeClock, make_token, test_settings
from tests.helpers import auth
from tests.inbox.forms_helpers import make_agent, make_case, make_form, make_group, post_answer

ACTIVITY_KEYS = ["id", "name", "title", "archived", "created_at", "groups", "nps", "form_url"]


def test_forms_are_listed_in_the_activity_api_shape(
    client: TestClient, database: Database, settings: Settings, clock: FakeClock
) -> None:
    writer = make_token(database, "inbox:write")
    reader = make_token(database, "activity:read", name="reader")
    team = make_group(database, clock.now, "Social Customer Care")
    created = client.post(
        "/v1/forms",
        json={"name": "NPS Survey", "title": "Lexer NPS Survey", "groups": [team]},
        headers=auth(writer),
    )
    assert created.status_code == 201, created.text
    clock.advance(60)
    other = client.post(
        "/v1/forms",
        json={"name": "Competition", "title": "Win", "nps": False},
        headers=auth(writer),
    ).json()
    client.post(f"/v1/forms/{other['id']}/archive", headers=auth(writer))

    # The header Lexer documents, and Bearer, both work.
    response = client.get("/v1/forms", headers={"Auth-Api-Token": reader})
    assert response.status_code == 200
    listed = response.json()
    assert isinstance(listed, list)
    assert [list(form) for form in listed] == [ACTIVITY_KEYS, ACTIVITY_KEYS]
    first, second = listed
    key = created.json()["form_url"].rsplit("/", 1)[1]
    assert first == {
        "id": created.json()["id"],
        "name": "NPS Survey",
        "title": "Lexer NPS Survey",
        "archived": False,
        "created_at": "2026-11-23T12:00:00Z",
        "groups": [team],
        "nps": True,
        "form_url": f"{settings.base_url}/forms/{key}",
    }
    assert isinstance(first["id"], int)
    assert first["id"] < second["id"]
    assert (second["archived"], second["nps"], second["groups"]) == (True, False, [])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", second["created_at"])
    assert client.get("/v1/forms", headers=auth(reader)).json() == listed

    # The public URL is a page anyone can open.
    assert client.get(first["form_url"].removeprefix(settings.base_url)).status_code == 200
    # activity:read is the scope; inbox tokens and no token are refused.
    assert client.get("/v1/forms").status_code == 401
    assert client.get("/v1/forms", headers=auth(writer)).status_code == 403


def test_form_url_follows_the_public_url(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    settings = test_settings(settings.database_url, public_url="https://care.example.com")
    make_form(database, clock.now)
    reader = make_token(database, "activity:read")
    app = create_app(settings, database=database, clock=clock, run_jobs=False)
    with TestClient(app) as client:
        [form] = client.get("/v1/forms", headers=auth(reader)).json()
    assert re.fullmatch(r"https://care\.example\.com/forms/[A-Za-z0-9_-]{32}", form["form_url"])


def test_bad_form_bodies_name_the_field(
    client: TestClient, database: Database, clock: FakeClock
) -> None:
    writer = make_token(database, "inbox:write")
    team = make_group(database, clock.now, "Team")

    def refused(method: str, path: str, body: object) -> tuple[int, list[str]]:
        response = client.request(method, path, json=body, headers=auth(writer))
        error = response.json()["error"]
        return response.status_code, [p["field"] for p in error.get("details") or []]

    assert refused("POST", "/v1/forms", {"name": "", "title": "T"})[0] == 422
    assert refused("POST", "/v1/forms", {"name": "   ", "title": "T"}) == (422, ["name"])
    assert refused("POST", "/v1/forms", {"name": "A", "title": "T", "groups": [team, 999]}) == (
        422,
        ["groups.1"],
    )
    assert refused("POST", "/v1/forms", {"name": "A", "title": "T", "colour": "red"})[0] == 422
    assert refused("POST", "/v1/forms", {"name": "A", "title": "T", "nps": "maybe"})[0] == 422
    created = client.post("/v1/forms", json={"name": "A", "title": "T"}, headers=auth(writer))
    assert created.status_code == 201
    form_id = created.json()["id"]
    taken = client.post("/v1/forms", json={"name": "A", "title": "U"}, headers=auth(writer))
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "name_taken")

    client.post("/v1/forms", json={"name": "B", "title": "T"}, headers=auth(writer))
    renamed = client.patch(f"/v1/forms/{form_id}", json={"name": "B"}, headers=auth(writer))
    assert renamed.status_code == 409
    assert refused("PATCH", f"/v1/forms/{form_id}", {"title": None}) == (422, ["title"])
    assert refused("PATCH", f"/v1/forms/{form_id}", {"groups": [0]})[0] == 422
    assert refused("PATCH", "/v1/forms/999", {"title": "X"})[0] == 404
    assert refused("PATCH", "/v1/forms/99999999999999999999", {"title": "X"}) == (
        422,
        ["path.form_id"],
    )

    changed = client.patch(
        f"/v1/forms/{form_id}",
        json={"title": "  How  did we do? ", "groups": [team, team], "nps": False},
        headers=auth(writer),
    )
    assert changed.status_code == 200
    body = changed.json()
    assert (body["title"], body["groups"], body["nps"]) == ("How did we do?", [team], False)


def test_a_case_gets_one_survey_link(
    client: TestClient, database: Database, settings: Settings, clock: FakeClock
) -> None:
    writer = make_token(database, "inbox:write")
    team, other = make_group(database, clock.now, "Care"), make_group(database, clock.now, "VIP")
    agent = make_agent(database, settings, clock.now, groups=[team, other])
    case_id = make_case(database, clock.now, agent_id=agent)
    form_id = make_form(database, clock.now)
    path = f"/v1/cases/{case_id}/survey"

    sent = client.post(path, json={"user_id": agent, "form_id": form_id}, headers=auth(writer))
    assert sent.status_code == 201, sent.text
    link = sent.json()
    assert link["url"].startswith(f"{settings.base_url}/f/")
    assert (link["form_id"], link["case_id"], link["agent_id"]) == (form_id, case_id, agent)
    assert link["groups"] == sorted([team, other])
    assert link["expires_at"] == "2026-12-23T12:00:00Z"
    token = link["url"].rsplit("/", 1)[1]
    with database.unit_of_work() as session:
        [stored] = session.scalars(select(FormInvitation)).all()
        # Only the token's SHA-256 is kept.
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in str(
            [getattr(stored, column.key) for column in FormInvitation.__table__.columns]
        )

    again = client.post(path, json={"user_id": agent, "form_id": form_id}, headers=auth(writer))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_invited")
    assert again.json()["error"]["details"] == {"invitation_id": link["invitation_id"]}

    # A renewed link replaces the first; the invitation stays the same one.
    clock.advance(3600)
    renewed = client.post(
        path, json={"user_id": agent, "form_id": form_id, "renew": True}, headers=auth(writer)
    )
    assert renewed.status_code == 201
    assert renewed.json()["invitation_id"] == link["invitation_id"]
    assert renewed.json()["url"] != link["url"]
    assert client.get(f"/f/{token}").status_code == 410
    new_path = renewed.json()["url"].removeprefix(settings.base_url)
    assert post_answer(client, new_path, score="8").status_code == 200
    answered = client.post(
        path, json={"user_id": agent, "form_id": form_id, "renew": True}, headers=auth(writer)
    )
    assert (answered.status_code, answered.json()["error"]["code"]) == (409, "already_answered")
    with database.unit_of_work() as session:
        assert len(session.scalars(select(FormInvitation)).all()) == 1


def test_survey_requests_are_checked(
    client: TestClient, database: Database, settings: Settings, clock: FakeClock
) -> None:
    writer = make_token(database, "inbox:write")
    agent = make_agent(database, settings, clock.now)
    case_id = make_case(database, clock.now, agent_id=None)
    form_id = make_form(database, clock.now)

    def send(case: str, **body: object) -> tuple[int, object]:
        response = client.post(f"/v1/cases/{case}/survey", json=body, headers=auth(writer))
        error = response.json().get("error") if response.is_error else None
        fields = [p["field"] for p in error.get("details") or []] if error else None
        return response.status_code, fields

    # Without form_id the inbox settings' NPS form is used; none set: the field is named.
    assert send(case_id, user_id=agent) == (422, ["form_id"])
    assert send(case_id, user_id=agent, form_id=999)[0] == 404
    assert send("cas_nope", user_id=agent, form_id=form_id)[0] == 404
    assert send(case_id, user_id=999, form_id=form_id) == (422, ["user_id"])
    assert send(case_id, form_id=form_id)[0] == 422
    assert send(case_id, user_id=agent, form_id=form_id, score=3)[0] == 422
    with database.unit_of_work() as session:
        users.archive_user(session, agent, now=clock.now)
    assert send(case_id, user_id=agent, form_id=form_id) == (422, ["user_id"])

    sender = make_agent(database, settings, clock.now, email="sam@business.io")
    archived = make_form(database, clock.now, name="Old")
    client.post(f"/v1/forms/{archived}/archive", headers=auth(writer))
    assert send(case_id, user_id=sender, form_id=archived) == (422, ["form_id"])
    with database.unit_of_work() as session:
        session.add(InboxSettings(id=1, nps_form_id=form_id, updated_at=clock.now))
    sent = client.post(
        f"/v1/cases/{case_id}/survey", json={"user_id": sender}, headers=auth(writer)
    )
    assert sent.status_code == 201
    # A case no agent answered yet: the survey is about no one.
    assert (sent.json()["form_id"], sent.json()["agent_id"], sent.json()["groups"]) == (
        form_id,
        None,
        [],
    )
    reader = make_token(database, "inbox:read", name="r")
    assert (
        client.post(
            f"/v1/cases/{case_id}/survey", json={"user_id": sender}, headers=auth(reader)
        ).status_code
        == 403
    )


def test_a_forms_answers_are_listed_newest_first_with_their_category(
    client: TestClient, database: Database, settings: Settings, clock: FakeClock
) -> None:
    reader = make_token(database, "inbox:read")
    writer = make_token(database, "inbox:write", name="w")
    team = make_group(database, clock.now, "Care")
    agent = make_agent(database, settings, clock.now, groups=[team])
    form_id = make_form(database, clock.now)
    case_id = make_case(database, clock.now, agent_id=agent)
    url = client.post(
        f"/v1/cases/{case_id}/survey",
        json={"user_id": agent, "form_id": form_id},
        headers=auth(writer),
    ).json()["url"]
    form = client.get(f"/v1/forms/{form_id}", headers=auth(reader)).json()
    public = form["form_url"].removeprefix(settings.base_url)
    for score in ("7", "3"):
        clock.advance(60)
        assert post_answer(client, public, score=score).status_code == 200
    clock.advance(60)
    assert post_answer(client, url.removeprefix(settings.base_url), score="10", comment=" Great ")

    first = client.get(f"/v1/forms/{form_id}/responses?limit=2", headers=auth(reader)).json()
    assert [(r["score"], r["nps_category"]) for r in first["items"]] == [
        (10, "promoter"),
        (3, "detractor"),
    ]
    latest = first["items"][0]
    assert (latest["case_id"], latest["agent_id"], latest["groups"]) == (case_id, agent, [team])
    assert latest["comment"] == "Great"
    assert (first["items"][1]["invitation_id"], first["items"][1]["case_id"]) == (None, None)
    rest = client.get(
        f"/v1/forms/{form_id}/responses?limit=2&cursor={first['next_cursor']}",
        headers=auth(reader),
    ).json()
    assert [(r["score"], r["nps_category"]) for r in rest["items"]] == [(7, "passive")]
    assert rest["next_cursor"] is None
    assert client.get("/v1/forms/999/responses", headers=auth(reader)).status_code == 404
    bad = client.get(f"/v1/forms/{form_id}/responses?cursor=nope", headers=auth(reader))
    assert bad.status_code == 422
