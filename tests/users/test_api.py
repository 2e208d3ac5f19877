"""`GET /v1/users` and `GET /v1/groups` answer the Activity API's shapes exactly; the admin
API creates, edits and archives users and groups."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from carebase.auth import sessions
from carebase.db.session import Database
from carebase.errors import InvalidCredentials, InvalidSession
from carebase.settings import Settings
from carebase.users import service
from tests.conftest import FakeClock, make_token
from tests.helpers import auth
from tests.users import people

# The Activity API's own examples (activity-api.txt, "GET Users" and "GET Groups"), with the
# trailing comma of the reference's `groups` array dropped so that it parses.
REFERENCE_USER = json.loads("""
  {
    "id": 12345,
    "email": "jane@business.io",
    "first_name": "Jane",
    "last_name": "Remington",
    "timezone": "Australia/Sydney",
    "gmtoffset": 10,
    "sign_in_count": 76,
    "last_sign_in_at": "2018-03-21T06:09:01Z",
    "archived": false,
    "groups": [
      123,
      456,
      789
    ]
  }
""")
REFERENCE_GROUP = json.loads("""
  {
    "id": 123,
    "name": "Social Customer Care",
    "comment": "Social customer care team members"
  }
""")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def shape(value: dict[str, Any]) -> list[tuple[str, str]]:
    """Keys in order, each with the JSON type of its value (ints and floats are numbers)."""

    def kind(item: Any) -> str:
        if isinstance(item, bool):
            return "boolean"
        if isinstance(item, int | float):
            return "number"
        if isinstance(item, list):
            return "array of " + ",".join(sorted({kind(element) for element in item}))
        return "null" if item is None else type(item).__name__

    return [(key, kind(item)) for key, item in value.items()]


def create_group(client: TestClient, token: str, name: str, comment: str = "") -> int:
    response = client.post(
        "/v1/groups", json={"name": name, "comment": comment}, headers=auth(token)
    )
    assert response.status_code == 201, response.text
    group_id: int = response.json()["id"]
    return group_id


def create_user(client: TestClient, token: str, **fields: Any) -> dict[str, Any]:
    body = {
        "email": "jane@business.io",
        "first_name": "Jane",
        "last_name": "Remington",
        "role": "agent",
    } | fields
    response = client.post("/v1/users", json=body, headers=auth(token))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_users_and_groups_answer_the_activity_api_shapes(
    client: TestClient,
    admin_token: str,
    database: Database,
    settings: Settings,
    clock: FakeClock,
) -> None:
    care = create_group(client, admin_token, "Social Customer Care", REFERENCE_GROUP["comment"])
    email = create_group(client, admin_token, "Email")
    jane = create_user(client, admin_token, timezone="Australia/Sydney", groups=[email, care])
    barry = create_user(
        client, admin_token, email="barry@business.io", first_name="Barry", last_name="Banana"
    )
    token = jane["sign_in_link"]["url"].rsplit("/", 1)[1]
    service.set_password_with_link(
        database, settings, token=token, password=people.PASSWORD, user_agent="t", now=clock.now
    )
    reader = make_token(database, "activity:read")

    users = client.get("/v1/users", headers={"Auth-Api-Token": reader})
    groups = client.get("/v1/groups", headers={"Auth-Api-Token": reader})

    assert users.status_code == groups.status_code == 200
    assert users.headers["content-type"] == "application/json"
    listed, teams = users.json(), groups.json()
    # Bare arrays, by id, each object exactly the reference's keys in its order and types.
    assert isinstance(listed, list)
    assert [user["id"] for user in listed] == [jane["id"], barry["id"]]
    assert shape(listed[0]) == shape(REFERENCE_USER)
    assert [key for key, _ in shape(listed[1])] == list(REFERENCE_USER)
    assert listed[0] == {
        "id": jane["id"],
        "email": "jane@business.io",
        "first_name": "Jane",
        "last_name": "Remington",
        "timezone": "Australia/Sydney",
        "gmtoffset": 11,  # 23 November: daylight saving in Sydney
        "sign_in_count": 1,
        "last_sign_in_at": "2026-11-23T12:00:00Z",
        "archived": False,
        "groups": sorted([care, email]),
    }
    assert TIMESTAMP.match(listed[0]["last_sign_in_at"])
    assert listed[1]["last_sign_in_at"] is None
    assert listed[1]["groups"] == []
    assert listed[1]["gmtoffset"] == 0
    assert isinstance(teams, list)
    assert [shape(team) for team in teams] == [shape(REFERENCE_GROUP)] * 2
    assert teams == [
        {"id": care, "name": "Social Customer Care", "comment": REFERENCE_GROUP["comment"]},
        {"id": email, "name": "Email", "comment": ""},
    ]


def test_archived_users_are_listed_and_archived_groups_are_not(
    client: TestClient, admin_token: str, database: Database
) -> None:
    care = create_group(client, admin_token, "Care")
    old = create_group(client, admin_token, "Old team")
    jane = create_user(client, admin_token, groups=[care, old])
    client.post(f"/v1/users/{jane['id']}/archive", headers=auth(admin_token))
    client.post(f"/v1/groups/{old}/archive", headers=auth(admin_token))
    reader = make_token(database, "activity:read")

    [listed] = client.get("/v1/users", headers=auth(reader)).json()
    teams = client.get("/v1/groups", headers=auth(reader)).json()

    assert listed["archived"] is True
    assert listed["groups"] == [care]
    assert [team["id"] for team in teams] == [care]
    # The archived group keeps its members: restored, it is back in the user's groups.
    restored = client.post(f"/v1/groups/{old}/restore", headers=auth(admin_token)).json()
    assert restored["members"] == [jane["id"]]
    [listed] = client.get("/v1/users", headers=auth(reader)).json()
    assert listed["groups"] == sorted([care, old])


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (datetime(2026, 11, 23, 12, tzinfo=UTC), {"Australia/Sydney": 11, "Asia/Kolkata": 5.5}),
        (datetime(2026, 6, 1, 12, tzinfo=UTC), {"Australia/Sydney": 10, "Asia/Kolkata": 5.5}),
    ],
)
def test_gmtoffset_is_the_zone_offset_now(
    client: TestClient,
    admin_token: str,
    database: Database,
    clock: FakeClock,
    when: datetime,
    expected: dict[str, float],
) -> None:
    clock.now = when
    for number, zone in enumerate(["Australia/Sydney", "Asia/Kolkata", "UTC"]):
        create_user(client, admin_token, email=f"u{number}@business.io", timezone=zone)
    reader = make_token(database, "activity:read")

    listed = client.get("/v1/users", headers=auth(reader)).json()

    offsets = {user["timezone"]: user["gmtoffset"] for user in listed}
    assert offsets == {**expected, "UTC": 0}
    assert isinstance(offsets["Australia/Sydney"], int)
    assert isinstance(offsets["UTC"], int)
    assert isinstance(offsets["Asia/Kolkata"], float)


def test_scopes(client: TestClient, admin_token: str, database: Database) -> None:
    reader = make_token(database, "activity:read")
    profiles = make_token(database, "profiles:read")

    assert client.get("/v1/users").status_code == 401
    assert client.get("/v1/users", headers=auth(profiles)).status_code == 403
    assert client.get("/v1/groups", headers=auth(profiles)).json()["error"]["details"] == {
        "required_scope": "activity:read"
    }
    assert client.get("/v1/users", headers=auth(admin_token)).status_code == 200
    # The Activity API's limit applies: 100 per 5 minutes per token.
    assert client.get("/v1/users", headers=auth(reader)).headers["RateLimit-Policy"] == "100;w=300"
    # Reading is all activity:read allows.
    created = client.post(
        "/v1/users",
        json={"email": "a@b.io", "first_name": "A", "role": "agent"},
        headers=auth(reader),
    )
    assert created.status_code == 403
    assert client.post("/v1/groups", json={"name": "x"}, headers=auth(reader)).status_code == 403


def test_create_user_answers_a_one_time_link(
    client: TestClient, admin_token: str, settings: Settings
) -> None:
    created = create_user(client, admin_token, email="  Jane@Business.IO ", timezone="asia/kolkata")

    assert created["email"] == "jane@business.io"
    assert created["timezone"] == "Asia/Kolkata"
    assert created["role"] == "agent"
    assert created["has_password"] is False
    assert created["sign_in_count"] == 0
    assert created["created_by"].startswith("tok_")
    link = created["sign_in_link"]
    assert link["purpose"] == "invite"
    assert link["url"].startswith(f"{settings.base_url}/set-password/")
    assert link["expires_at"] == "2026-11-26T12:00:00Z"  # 72 hours
    shown = client.get(f"/v1/users/{created['id']}", headers=auth(admin_token)).json()
    assert "sign_in_link" not in shown
    assert shown == {key: value for key, value in created.items() if key != "sign_in_link"}


def test_create_user_refuses_bad_input(client: TestClient, admin_token: str) -> None:
    create_user(client, admin_token)

    def post(**fields: Any) -> Any:
        body = {"email": "new@business.io", "first_name": "N", "role": "agent"} | fields
        return client.post("/v1/users", json=body, headers=auth(admin_token))

    taken = post(email="JANE@business.io")
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "conflict"
    assert taken.json()["error"]["details"] == {"reason": "email_taken"}
    for fields, field in [
        ({"email": "not an email"}, "email"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"first_name": "   "}, "first_name"),
        ({"groups": [99]}, "groups.0"),
        ({"role": "root"}, "body.role"),
        ({"groups": [2**63]}, "body.groups.0"),
        ({"password": "set-by-the-user"}, "body.password"),
    ]:
        response = post(**fields)
        assert response.status_code == 422, (fields, response.text)
        assert response.json()["error"]["code"] == "validation_error"
        assert [problem["field"] for problem in response.json()["error"]["details"]] == [field]


def test_edit_a_user_and_its_groups(client: TestClient, admin_token: str) -> None:
    care = create_group(client, admin_token, "Care")
    vip = create_group(client, admin_token, "VIP")
    jane = create_user(client, admin_token, groups=[care])
    create_user(client, admin_token, email="barry@business.io", first_name="Barry")
    path = f"/v1/users/{jane['id']}"

    edited = client.patch(
        path,
        json={"first_name": "Janet", "role": "manager", "groups": [vip], "timezone": "UTC"},
        headers=auth(admin_token),
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["first_name"], body["last_name"], body["role"], body["groups"]) == (
        "Janet",
        "Remington",
        "manager",
        [vip],
    )
    assert client.get(f"/v1/groups/{vip}", headers=auth(admin_token)).json()["members"] == [
        jane["id"]
    ]
    assert client.get(f"/v1/groups/{care}", headers=auth(admin_token)).json()["members"] == []

    taken = client.patch(path, json={"email": "Barry@business.io"}, headers=auth(admin_token))
    assert taken.status_code == 409
    null = client.patch(path, json={"first_name": None}, headers=auth(admin_token))
    assert null.status_code == 422
    assert null.json()["error"]["details"] == [
        {"field": "first_name", "reason": "must not be null; leave the field out instead"}
    ]
    cleared = client.patch(path, json={"groups": []}, headers=auth(admin_token))
    assert cleared.json()["groups"] == []
    assert client.get(path, headers=auth(admin_token)).json()["email"] == "jane@business.io"


def test_the_document_says_a_patch_field_is_left_out_not_null(
    client: TestClient, admin_token: str
) -> None:
    # A null is refused with a 422; the document said every PATCH field could be null, so the
    # OpenAPI fuzz's valid-by-the-document requests were refused. It says what is answered.
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("UserUpdate", "GroupUpdate"):
        for field, prop in schemas[name]["properties"].items():
            assert "null" not in json.dumps(prop), (name, field)
    group = create_group(client, admin_token, "Care")
    jane = create_user(client, admin_token)
    for path, field in ((f"/v1/users/{jane['id']}", "role"), (f"/v1/groups/{group}", "comment")):
        null = client.patch(path, json={field: None}, headers=auth(admin_token))
        assert null.status_code == 422
        assert null.json()["error"]["details"][0]["field"] == field


def test_unknown_ids(client: TestClient, admin_token: str) -> None:
    for method, path in [
        ("GET", "/v1/users/404"),
        ("PATCH", "/v1/users/404"),
        ("POST", "/v1/users/404/archive"),
        ("POST", "/v1/users/404/sign-in-link"),
        ("DELETE", "/v1/users/404/sessions"),
        ("GET", "/v1/groups/404"),
        ("POST", "/v1/groups/404/restore"),
    ]:
        body = {} if method == "PATCH" else None
        response = client.request(method, path, json=body, headers=auth(admin_token))
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "not_found"
    for path in ["/v1/users/abc", "/v1/users/0", f"/v1/users/{2**63}", f"/v1/groups/{2**64}"]:
        assert client.get(path, headers=auth(admin_token)).status_code == 422, path


def test_archive_ends_sessions_and_sign_in(
    client: TestClient,
    admin_token: str,
    database: Database,
    settings: Settings,
    clock: FakeClock,
) -> None:
    signed = people.user_with_password(database, settings, clock.now)
    user_id = signed.user.id

    archived = client.post(f"/v1/users/{user_id}/archive", headers=auth(admin_token))

    assert archived.status_code == 200
    assert archived.json()["archived"] is True
    assert archived.json()["archived_at"] == "2026-11-23T12:00:00Z"
    with database.unit_of_work(write=False) as session, pytest.raises(InvalidSession):
        sessions.resolve(session, settings, signed.secret, now=clock.now)
    with pytest.raises(InvalidCredentials):
        people.sign_in(database, settings, clock.now)
    link = client.post(f"/v1/users/{user_id}/sign-in-link", headers=auth(admin_token))
    assert link.status_code == 409
    assert link.json()["error"]["details"] == {"reason": "archived"}
    # Archiving twice keeps the first time.
    clock.advance(60)
    again = client.post(f"/v1/users/{user_id}/archive", headers=auth(admin_token)).json()
    assert again["archived_at"] == "2026-11-23T12:00:00Z"

    restored = client.post(f"/v1/users/{user_id}/restore", headers=auth(admin_token))
    assert restored.json()["archived"] is False
    assert people.sign_in(database, settings, clock.now).user.id == user_id


def test_sign_in_link_and_sign_out_everywhere(
    client: TestClient,
    admin_token: str,
    database: Database,
    settings: Settings,
    clock: FakeClock,
) -> None:
    jane = create_user(client, admin_token)
    invite = client.post(f"/v1/users/{jane['id']}/sign-in-link", headers=auth(admin_token))
    assert invite.status_code == 201
    assert invite.json()["purpose"] == "invite"
    assert invite.json()["url"] != jane["sign_in_link"]["url"]
    token = invite.json()["url"].rsplit("/", 1)[1]
    first = service.set_password_with_link(
        database, settings, token=token, password=people.PASSWORD, user_agent=None, now=clock.now
    )
    second = people.sign_in(database, settings, clock.now)
    reset = client.post(f"/v1/users/{jane['id']}/sign-in-link", headers=auth(admin_token))
    assert reset.json()["purpose"] == "reset"
    assert reset.json()["expires_at"] == "2026-11-23T13:00:00Z"  # 1 hour

    out = client.delete(f"/v1/users/{jane['id']}/sessions", headers=auth(admin_token))

    assert out.status_code == 200
    assert out.json() == {"revoked": 2}
    with database.unit_of_work(write=False) as session:
        for signed in (first, second):
            with pytest.raises(InvalidSession):
                sessions.resolve(session, settings, signed.secret, now=clock.now)
    again = client.delete(f"/v1/users/{jane['id']}/sessions", headers=auth(admin_token))
    assert again.json() == {"revoked": 0}


def test_groups(client: TestClient, admin_token: str) -> None:
    care = create_group(client, admin_token, "  Social   Customer Care ", "  the team ")
    shown = client.get(f"/v1/groups/{care}", headers=auth(admin_token)).json()
    assert (shown["name"], shown["comment"], shown["archived"]) == (
        "Social Customer Care",
        "the team",
        False,
    )

    taken = client.post(
        "/v1/groups", json={"name": "Social Customer Care"}, headers=auth(admin_token)
    )
    assert taken.status_code == 409
    assert taken.json()["error"]["details"] == {"reason": "name_taken"}
    other = create_group(client, admin_token, "Email")
    clash = client.patch(
        f"/v1/groups/{other}", json={"name": "Social Customer Care"}, headers=auth(admin_token)
    )
    assert clash.status_code == 409
    renamed = client.patch(
        f"/v1/groups/{care}", json={"name": "Care", "comment": ""}, headers=auth(admin_token)
    )
    assert (renamed.json()["name"], renamed.json()["comment"]) == ("Care", "")

    archived = client.post(f"/v1/groups/{care}/archive", headers=auth(admin_token)).json()
    assert archived["archived"] is True
    # An archived group cannot be joined.
    refused = client.post(
        "/v1/users",
        json={"email": "a@b.io", "first_name": "A", "role": "agent", "groups": [care]},
        headers=auth(admin_token),
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["details"] == [
        {"field": "groups.0", "reason": f"group {care} is archived"}
    ]
