"""Queues and ignored senders over HTTP: the default queue on first use, CRUD with errors
naming the field, scopes; ignored-sender patterns with `*`."""

from __future__ import annotations

from fastapi.testclient import TestClient

from carebase.db.session import Database
from carebase.inbox import intake
from tests.conftest import make_token
from tests.helpers import auth
from tests.inbox.intake_helpers import T0, events_of, mention, message


def test_queues_crud_and_the_default(client: TestClient, admin_token: str) -> None:
    headers = auth(admin_token)
    listed = client.get("/v1/queues", headers=headers).json()
    assert [(q["name"], q["is_default"]) for q in listed] == [("Inbox", True)]
    default_id = listed[0]["id"]
    vip = client.post("/v1/queues", json={"name": "VIP", "description": "Big"}, headers=headers)
    assert vip.status_code == 201
    vip_id = vip.json()["id"]
    taken = client.post("/v1/queues", json={"name": "VIP"}, headers=headers)
    assert taken.status_code == 409
    blank = client.post("/v1/queues", json={"name": ""}, headers=headers)
    assert blank.status_code == 422
    assert blank.json()["error"]["details"][0]["field"] == "body.name"
    bad_policy = client.patch(
        f"/v1/queues/{vip_id}", json={"sla_policy_id": "sla_nope"}, headers=headers
    )
    assert bad_policy.status_code == 422
    assert bad_policy.json()["error"]["details"][0]["field"] == "sla_policy_id"
    made_default = client.patch(f"/v1/queues/{vip_id}", json={"is_default": True}, headers=headers)
    assert made_default.json()["is_default"] is True
    assert client.get(f"/v1/queues/{default_id}", headers=headers).json()["is_default"] is False
    refused = client.post(f"/v1/queues/{vip_id}/archive", headers=headers)
    assert refused.status_code == 409
    archived = client.post(f"/v1/queues/{default_id}/archive", headers=headers)
    assert archived.json()["archived"] is True
    assert [q["name"] for q in client.get("/v1/queues", headers=headers).json()] == ["VIP"]
    everything = client.get("/v1/queues", params={"include_archived": True}, headers=headers)
    assert len(everything.json()) == 2
    assert client.delete(f"/v1/queues/{default_id}", headers=headers).status_code == 204
    assert client.get(f"/v1/queues/{default_id}", headers=headers).status_code == 404


def test_a_queue_holding_mentions_cannot_be_deleted(
    client: TestClient, admin_token: str, database: Database
) -> None:
    headers = auth(admin_token)
    queue_id = client.post("/v1/queues", json={"name": "Help"}, headers=headers).json()["id"]
    with database.unit_of_work() as session:
        intake.receive(session, [message("m1", queue_id=queue_id)], T0)
    refused = client.delete(f"/v1/queues/{queue_id}", headers=headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "in_use"


def test_reading_needs_inbox_read_and_writing_inbox_write(
    client: TestClient, database: Database
) -> None:
    reader = make_token(database, "inbox:read", name="reader")
    assert client.get("/v1/queues", headers=auth(reader)).status_code == 200
    assert client.get("/v1/rules", headers=auth(reader)).status_code == 200
    assert client.get("/v1/ignored-senders", headers=auth(reader)).status_code == 200
    denied = client.post("/v1/ignored-senders", json={"pattern": "x"}, headers=auth(reader))
    assert denied.status_code == 403


def test_ignored_senders_with_wildcards(
    client: TestClient, admin_token: str, database: Database
) -> None:
    headers = auth(admin_token)
    bots = client.post(
        "/v1/ignored-senders",
        json={"pattern": "*@noreply.example.com", "comment": "bots"},
        headers=headers,
    )
    assert bots.status_code == 201
    handle = client.post("/v1/ignored-senders", json={"pattern": "@spam*"}, headers=headers)
    assert handle.status_code == 201
    again = client.post(
        "/v1/ignored-senders", json={"pattern": "*@noreply.example.com"}, headers=headers
    )
    assert again.status_code == 409
    only_stars = client.post("/v1/ignored-senders", json={"pattern": "**"}, headers=headers)
    assert only_stars.status_code == 422
    assert only_stars.json()["error"]["details"][0]["field"] == "pattern"
    with database.unit_of_work() as session:
        received = intake.receive(
            session,
            [
                message("m1", author_key=None, author_username="alerts@noreply.example.com"),
                message("m2", author_key="twitter_1", author_username="@SpamKing"),
                message("m3", author_key=None, author_username="noreply.example.com"),
                message("m4", author_key="twitter_2", author_username="@kim_spam"),
            ],
            T0,
        )
    states = [mention(database, r.mention_id).state for r in received]
    assert states == ["irrelevant", "irrelevant", "new", "new"]
    assert events_of(database, received[1].mention_id)[-1] == (
        "state",
        "system",
        handle.json()["id"],
        "irrelevant",
    )
    changed = client.patch(
        f"/v1/ignored-senders/{handle.json()['id']}", json={"comment": "spammers"}, headers=headers
    )
    assert changed.json()["comment"] == "spammers"
    assert (
        client.delete(f"/v1/ignored-senders/{handle.json()['id']}", headers=headers).status_code
        == 204
    )
    listed = client.get("/v1/ignored-senders", headers=headers).json()
    assert [row["pattern"] for row in listed] == ["*@noreply.example.com"]
    with database.unit_of_work() as session:
        (later,) = intake.receive(session, [message("m5", author_username="@spamton")], T0)
    assert mention(database, later.mention_id).state == "new"
