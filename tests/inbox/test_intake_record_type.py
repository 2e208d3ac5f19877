"""The `mention` record type through HTTP: a good batch lands in the inbox, bad records are
rejected by index naming the field, a replay changes nothing, and a batch holds 1 to 1,000
records; on both engines."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from carebase.db.session import Database
from carebase.inbox import queues
from carebase.models import Mention
from tests.conftest import FakeClock
from tests.helpers import auth, create_dataset, post_records


def record(mention_id: str = "m1", **changes: Any) -> dict[str, Any]:
    """A valid mention record."""
    values: dict[str, Any] = {
        "mention_id": mention_id,
        "source_type": "Twitter",
        "account": "@acme_help",
        "author": {
            "id": "twitter_219",
            "username": "@kim",
            "fullname": "Kim Lee",
            "avatar": "https://img.example/kim.png",
            "url": "https://twitter.example/kim",
        },
        "link": {"email": "kim@example.org"},
        "text": "My parcel never arrived",
        "published_at": "2026-03-02T09:00:00Z",
        "thread_id": "tw-555",
        "conversation_id": "conv-1",
    }
    values.update(changes)
    return values


def _mentions(database: Database) -> list[Mention]:
    with database.unit_of_work() as session:
        rows = list(session.scalars(select(Mention).order_by(Mention.external_id)))
        session.expunge_all()
        return rows


def test_a_good_batch_lands_in_the_inbox_with_its_profile(
    client: TestClient, admin_token: str, database: Database
) -> None:
    dataset = create_dataset(client, admin_token, "social", "mention")
    body = post_records(
        client,
        admin_token,
        dataset,
        "mention",
        [record("m1"), record("m2", link=None, author={"id": "twitter_7"})],
    )
    assert (body["received"], body["created"], body["rejected"]) == (2, 2, 0)
    first, second = _mentions(database)
    assert (first.origin, first.origin_key, first.external_id) == ("api", dataset, "m1")
    assert first.source_type == "twitter"
    assert first.account == "@acme_help"
    assert first.author_username == "@kim"
    assert first.author_url == "https://twitter.example/kim"
    assert (first.thread_key, first.conversation_ref) == ("tw-555", "conv-1")
    assert first.body == "My parcel never arrived"
    assert first.state == "new"
    profile = client.get("/v1/profiles/by/email/kim@example.org", headers=auth(admin_token))
    assert profile.status_code == 200
    assert first.profile_id == profile.json()["id"]
    assert second.profile_id is None
    logs = client.get(f"/v1/datasets/{dataset}/logs", headers=auth(admin_token)).json()
    assert logs["items"][0]["created"] == 2


def test_bad_records_are_rejected_by_index_naming_the_field(
    client: TestClient, admin_token: str, database: Database
) -> None:
    dataset = create_dataset(client, admin_token, "social", "mention")
    body = post_records(
        client,
        admin_token,
        dataset,
        "mention",
        [
            record("ok"),
            record("m2", published_at="yesterday"),
            {k: v for k, v in record("m3").items() if k != "text"},
            record("m4", link={"system_name": "crm"}),
            record("m5", author={"id": "x", "handle": "kim"}),
            record("m6", queue="No such queue"),
            record("m7", source_type=""),
        ],
    )
    assert body["created"] == 1
    fields = {r["index"]: [e["field"] for e in r["errors"]] for r in body["rejections"]}
    assert fields == {
        1: ["published_at"],
        2: ["text"],
        3: ["link"],
        4: ["author.<key>"],  # an unknown key may be personal: not echoed
        5: ["queue"],
        6: ["source_type"],
    }
    assert {r["record_id"] for r in body["rejections"]} == {"m2", "m3", "m4", "m5", "m6", "m7"}
    assert [m.external_id for m in _mentions(database)] == ["ok"]
    log = client.get(f"/v1/datasets/{dataset}/logs", headers=auth(admin_token)).json()["items"][0]
    assert log["rejected"] == 6


def test_a_replay_changes_nothing(
    client: TestClient, admin_token: str, database: Database, clock: FakeClock
) -> None:
    dataset = create_dataset(client, admin_token, "social", "mention")
    post_records(client, admin_token, dataset, "mention", [record("m1"), record("m2")])
    before = [(m.id, m.body, m.received_at) for m in _mentions(database)]
    clock.advance(60)
    again = post_records(
        client, admin_token, dataset, "mention", [record("m1", text="changed"), record("m2")]
    )
    assert (again["created"], again["unchanged"]) == (0, 2)
    assert [(m.id, m.body, m.received_at) for m in _mentions(database)] == before


def test_a_named_queue_is_used(client: TestClient, admin_token: str, database: Database) -> None:
    with database.unit_of_work() as session:
        vip = queues.create_queue(session, "VIP", FakeClock().now).id
    dataset = create_dataset(client, admin_token, "social", "mention")
    post_records(client, admin_token, dataset, "mention", [record("m1", queue="VIP")])
    assert _mentions(database)[0].queue_id == vip


def test_a_batch_holds_one_to_a_thousand_records(
    client: TestClient, admin_token: str, database: Database
) -> None:
    dataset = create_dataset(client, admin_token, "social", "mention")
    url = f"/v1/datasets/{dataset}/mention"
    too_many = client.post(
        url, json=[record(f"m{i}") for i in range(1001)], headers=auth(admin_token)
    )
    assert too_many.status_code == 422
    assert too_many.json()["error"]["details"][0]["field"] == "body"
    assert client.post(url, json=[], headers=auth(admin_token)).status_code == 422
    full = post_records(
        client, admin_token, dataset, "mention", [record(f"m{i}") for i in range(1000)]
    )
    assert full["created"] == 1000
    with database.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == 1000
