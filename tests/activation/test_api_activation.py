"""The activation API over HTTP, on both engines: scopes, the one error shape with fields
named, secrets never answered, names unique, destinations in use kept, the connection test
stored, orchestrations' validation and schedules."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from carebase.db.session import Database
from tests.conftest import make_token
from tests.helpers import auth
from tests.segments.storehelp import ticket_count_at_least

ZENDESK = {"base_url": "https://acme.zendesk.com", "email": "agent@acme.example"}
TOKEN = "zd-api-token-never-shown"


@pytest.fixture
def writer(database: Database) -> str:
    """A token that may read and write activation."""
    return make_token(database, "activation:read", "activation:write", name="activation")


def problems(response: Any) -> list[str]:
    """The fields a 422 names, in the one error shape."""
    body = response.json()
    assert response.status_code == 422, body
    assert body["error"]["code"] == "validation_error"
    return [item["field"] for item in body["error"]["details"]]


def create_destination(client: TestClient, token: str, **changes: Any) -> dict[str, Any]:
    body = {"name": "Zendesk", "kind": "zendesk", "config": ZENDESK} | changes
    body.setdefault("secrets", {"api_token": TOKEN})
    response = client.post("/v1/destinations", json=body, headers=auth(token))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_scopes(client: TestClient, database: Database, writer: str) -> None:
    other = make_token(database, "segments:read", "segments:write", name="segments")
    reader = make_token(database, "activation:read", name="reader")
    body = {"name": "Z", "kind": "zendesk", "config": ZENDESK, "secrets": {"api_token": TOKEN}}
    for path in ("/v1/destinations", "/v1/orchestrations"):
        denied = client.get(path, headers=auth(other))
        assert denied.status_code == 403
        assert denied.json()["error"]["code"] == "insufficient_scope"
        assert client.get(path, headers=auth(reader)).status_code == 200
        assert client.get(path).status_code == 401
    assert client.post("/v1/destinations", json=body, headers=auth(reader)).status_code == 403
    created = create_destination(client, writer)
    for method, path in (
        ("PUT", f"/v1/destinations/{created['id']}"),
        ("DELETE", f"/v1/destinations/{created['id']}"),
        ("POST", f"/v1/destinations/{created['id']}/test"),
        ("POST", "/v1/orchestrations"),
    ):
        answer = client.request(method, path, json=body, headers=auth(reader))
        assert answer.status_code == 403, (method, path)


def test_destination_crud_never_answers_secrets(
    client: TestClient, writer: str, database: Database
) -> None:
    created = create_destination(client, writer, name=" Zendesk prod ")
    assert created["name"] == "Zendesk prod"
    assert created["id"].startswith("dst_")
    assert created["check"] is None
    assert created["public"] == {}
    assert "secrets" not in created
    assert created.get("shown_once") is None
    one = client.get(f"/v1/destinations/{created['id']}", headers=auth(writer))
    listed = client.get("/v1/destinations", headers=auth(writer))
    assert one.json() == created
    assert listed.json() == {"items": [created], "next_cursor": None}
    for answer in (one, listed):
        assert TOKEN not in answer.text

    taken = client.post(
        "/v1/destinations",
        json={
            "name": "Zendesk prod",
            "kind": "zendesk",
            "config": ZENDESK,
            "secrets": {"api_token": TOKEN},
        },
        headers=auth(writer),
    )
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "name_taken"

    put = client.put(
        f"/v1/destinations/{created['id']}",
        json={"name": "Zendesk EU", "config": {**ZENDESK, "users_per_second": 40}},
        headers=auth(writer),
    )
    assert put.status_code == 200, put.text
    assert (put.json()["name"], put.json()["config"]["users_per_second"]) == ("Zendesk EU", 40)
    assert TOKEN not in put.text

    bad = client.put(
        f"/v1/destinations/{created['id']}",
        json={"name": "Zendesk EU", "config": {"base_url": "x"}, "secrets": {"api_token": ""}},
        headers=auth(writer),
    )
    assert sorted(problems(bad)) == ["config.base_url", "config.email", "secrets.api_token"]
    assert client.get("/v1/destinations/dst_nope", headers=auth(writer)).status_code == 404
    deleted = client.delete(f"/v1/destinations/{created['id']}", headers=auth(writer))
    assert deleted.status_code == 204
    assert client.get(f"/v1/destinations/{created['id']}", headers=auth(writer)).status_code == 404


def test_destination_validation_names_fields(client: TestClient, writer: str) -> None:
    def post(**body: Any) -> list[str]:
        return problems(client.post("/v1/destinations", json=body, headers=auth(writer)))

    assert post(name="X", kind="fax", config={}) == ["kind"]
    assert post(name="X", kind="zendesk", config={**ZENDESK, "shade": 1}, secrets={}) == [
        "config.shade",
        "secrets.api_token",
    ]
    assert post(name="X", kind="zendesk", config=ZENDESK, secrets={}) == ["secrets.api_token"]
    assert post(name="X", kind="sftp", config={"host": "h", "username": "u", "port": 0}) == [
        "config.port"
    ]
    assert post(kind="zendesk", config=ZENDESK) == ["body.name"]


def test_connection_test_is_stored_and_reported(client: TestClient, writer: str) -> None:
    created = create_destination(
        client, writer, config={**ZENDESK, "base_url": "https://127.0.0.1:9"}
    )
    tested = client.post(f"/v1/destinations/{created['id']}/test", headers=auth(writer))
    assert tested.status_code == 200, tested.text
    report = tested.json()
    assert report["ok"] is False
    assert report["steps"]
    assert report["steps"][-1]["ok"] is False
    assert report["steps"][-1]["detail"]
    again = client.get(f"/v1/destinations/{created['id']}", headers=auth(writer)).json()
    assert again["check"] == report
    missing = client.post("/v1/destinations/dst_nope/test", headers=auth(writer))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_orchestrations_over_http(client: TestClient, writer: str, admin_token: str) -> None:
    segment = client.post(
        "/v1/segments",
        json={"name": "Frequent", "definition": ticket_count_at_least(2)},
        headers=auth(admin_token),
    ).json()
    destination = create_destination(client, writer)
    body: dict[str, Any] = {
        "name": "Frequent to Zendesk",
        "destination_id": destination["id"],
        "source": {"type": "segment", "id": segment["id"], "attributes": ["email", "first_name"]},
        "mapping": {"name": "first_name", "external_id": "profile_id"},
        "schedule": {"type": "cron", "cron": "0 6 * * *", "timezone": "Australia/Sydney"},
    }
    created = client.post("/v1/orchestrations", json=body, headers=auth(writer))
    assert created.status_code == 201, created.text
    orchestration = created.json()
    assert orchestration["id"].startswith("orc_")
    assert orchestration["sync_mode"] == "upsert"
    assert orchestration["enabled"] is True
    # The fake clock's 2026-11-23 12:00 UTC is 23:00 in Sydney: next 06:00 is 19:00 UTC.
    assert orchestration["next_run_at"].startswith("2026-11-23T19:00:00")
    assert orchestration["active_run_id"] is None
    assert orchestration["last_run"] is None
    listed = client.get("/v1/orchestrations", headers=auth(writer)).json()
    assert [item["id"] for item in listed["items"]] == [orchestration["id"]]

    bad = {
        **body,
        "name": "Other",
        "source": {**body["source"], "attributes": ["email", "favourite_colour"]},
        "schedule": {"type": "cron", "cron": "every day", "timezone": "Narnia/Cair"},
    }
    assert problems(client.post("/v1/orchestrations", json=bad, headers=auth(writer))) == [
        "source.attributes[1]",
        "mapping.name",
        "schedule.cron",
    ]
    zone = {**body, "name": "Other", "schedule": {**body["schedule"], "timezone": "Narnia/C"}}
    assert problems(client.post("/v1/orchestrations", json=zone, headers=auth(writer))) == [
        "schedule.timezone"
    ]
    unknown = {**body, "name": "Other", "schedule": {"type": "hourly"}}
    assert problems(client.post("/v1/orchestrations", json=unknown, headers=auth(writer)))
    taken = client.post("/v1/orchestrations", json=body, headers=auth(writer))
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "name_taken"

    manual = {**body, "schedule": {"type": "manual"}, "sync_mode": "update_only"}
    put = client.put(f"/v1/orchestrations/{orchestration['id']}", json=manual, headers=auth(writer))
    assert put.status_code == 200, put.text
    assert put.json()["schedule"] == {"type": "manual", "cron": None, "timezone": None}
    assert (put.json()["next_run_at"], put.json()["revision"]) == (None, 2)

    in_use = client.delete(f"/v1/destinations/{destination['id']}", headers=auth(writer))
    assert in_use.status_code == 409
    assert in_use.json()["error"]["code"] == "destination_in_use"
    assert in_use.json()["error"]["details"]["used_by"][0]["id"] == orchestration["id"]
    gone = client.delete(f"/v1/orchestrations/{orchestration['id']}", headers=auth(writer))
    assert gone.status_code == 204
    assert (
        client.delete(f"/v1/destinations/{destination['id']}", headers=auth(writer)).status_code
        == 204
    )
