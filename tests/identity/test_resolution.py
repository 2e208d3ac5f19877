"""Identity resolution through the API: joins, merges, the ledger, guards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from carebase.app import create_app
from carebase.db.session import Database
from tests.conftest import FakeClock, make_token, test_settings
from tests.helpers import auth, create_dataset, post_tickets, ticket


@pytest.fixture
def setup(client: TestClient, admin_token: str) -> tuple[str, str]:
    return create_dataset(client, admin_token), admin_token


def profile(client: TestClient, token: str, link_type: str, value: str) -> dict:  # type: ignore[type-arg]
    response = client.get(f"/v1/profiles/by/{link_type}/{value}", headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_events_join_the_profile_owning_any_link(
    client: TestClient, setup: tuple[str, str]
) -> None:
    dataset_id, token = setup
    post_tickets(client, token, dataset_id, [ticket("1", link={"email": "a@x.org"})])
    post_tickets(
        client,
        token,
        dataset_id,
        [ticket("2", link={"email": "A@X.org", "mobile": "+61404000001"})],
    )
    by_email = profile(client, token, "email", "a@x.org")
    by_mobile = profile(client, token, "mobile", "+61404000001")
    assert by_email["id"] == by_mobile["id"]
    assert by_email["attributes"]["ticket_count"] == 2


def test_bridging_event_merges_into_the_older_profile_with_a_ledger(
    client: TestClient, setup: tuple[str, str], clock: FakeClock
) -> None:
    dataset_id, token = setup
    post_tickets(client, token, dataset_id, [ticket("1", link={"email": "old@x.org"})])
    clock.advance(60)
    post_tickets(client, token, dataset_id, [ticket("2", link={"mobile": "+61404000002"})])
    older = profile(client, token, "email", "old@x.org")["id"]
    newer = profile(client, token, "mobile", "+61404000002")["id"]
    assert older != newer

    bridge = ticket("3", link={"email": "old@x.org", "mobile": "+61404000002"})
    body = post_tickets(client, token, dataset_id, [bridge])
    assert body["merges"] == [
        {
            "survivor_id": older,
            "merged_id": newer,
            "rule": "shared_link",
            "links": [
                {"type": "email", "value": "old@x.org"},
                {"type": "mobile", "value": "+61404000002"},
            ],
        }
    ]
    merged = profile(client, token, "mobile", "+61404000002")
    assert merged["id"] == older
    assert merged["attributes"]["ticket_count"] == 3

    # The old id still resolves to the survivor.
    by_old_id = client.get(f"/v1/profiles/{newer}", headers=auth(token)).json()
    assert by_old_id["id"] == older
    assert by_old_id["resolved_from"] == newer

    history = client.get(f"/v1/profiles/{newer}/merges", headers=auth(token)).json()
    assert history["profile_id"] == older
    assert [(m["survivor_id"], m["merged_id"]) for m in history["merges"]] == [(older, newer)]
    assert history["merges"][0]["ingestion_log_id"] == body["log_id"]


def test_chained_merges_keep_every_old_id_resolving(
    client: TestClient, setup: tuple[str, str], clock: FakeClock
) -> None:
    dataset_id, token = setup
    ids = []
    for n in range(3):
        post_tickets(client, token, dataset_id, [ticket(f"t{n}", link={"email": f"p{n}@x.org"})])
        ids.append(profile(client, token, "email", f"p{n}@x.org")["id"])
        clock.advance(10)
    post_tickets(
        client,
        token,
        dataset_id,
        [ticket("b1", link={"email": "p1@x.org", "mobile": "+61404000009"})],
    )
    post_tickets(
        client,
        token,
        dataset_id,
        [ticket("b2", link={"email": "p2@x.org", "mobile": "+61404000009"})],
    )
    post_tickets(
        client,
        token,
        dataset_id,
        [ticket("b3", link={"email": "p0@x.org", "mobile": "+61404000009"})],
    )
    for old in ids:
        assert client.get(f"/v1/profiles/{old}", headers=auth(token)).json()["id"] == ids[0]
    merged = client.get(f"/v1/profiles/{ids[0]}", headers=auth(token)).json()
    assert merged["attributes"]["ticket_count"] == 6
    history = client.get(f"/v1/profiles/{ids[0]}/merges", headers=auth(token)).json()["merges"]
    assert {m["merged_id"] for m in history} == {ids[1], ids[2]}


def test_blocked_values_never_link(client: TestClient, setup: tuple[str, str]) -> None:
    dataset_id, token = setup
    body = post_tickets(
        client,
        token,
        dataset_id,
        [
            ticket("1", link={"email": "one@x.org", "mobile": "null"}),
            ticket("2", link={"email": "two@x.org", "mobile": "null"}),
            ticket("3", link={"email": "test@test.com"}),
        ],
    )
    assert body["created"] == 2
    assert body["rejections"][0]["index"] == 2
    assert body["rejections"][0]["errors"][0]["reason"].startswith("no usable link")
    assert {w["reason"] for w in body["warnings"]} == {"blocked_value"}
    one = profile(client, token, "email", "one@x.org")
    two = profile(client, token, "email", "two@x.org")
    assert one["id"] != two["id"]


@pytest.fixture
def capped_client(database_url: str, database: Database, clock: FakeClock) -> Iterator[TestClient]:
    settings = test_settings(database_url, max_emails_per_profile=2, max_mobiles_per_profile=1)
    with TestClient(create_app(settings, database=database, clock=clock)) as client:
        yield client


def test_cap_stops_a_runaway_merge_and_reports_it(
    capped_client: TestClient, database: Database, clock: FakeClock
) -> None:
    admin = make_token(database, "admin")
    dataset_id = create_dataset(capped_client, admin)
    for n, (email, mobile) in enumerate([("a@x.org", "+61404000001"), ("b@x.org", "+61404000002")]):
        post_tickets(capped_client, admin, dataset_id, [ticket(f"{n}", link={"email": email})])
        post_tickets(
            capped_client,
            admin,
            dataset_id,
            [ticket(f"{n}m", link={"email": email, "mobile": mobile})],
        )
        clock.advance(5)
    # One record claims both: merging would give one profile two mobiles (max 1).
    body = post_tickets(
        capped_client,
        admin,
        dataset_id,
        [ticket("x", link={"email": "a@x.org", "mobile": "+61404000002"})],
    )
    assert body["merges"] == []
    stopped = [w for w in body["warnings"] if w["reason"] == "merge_stopped"]
    assert len(stopped) == 1
    assert "max 1" in stopped[0]["detail"]
    a = profile(capped_client, admin, "email", "a@x.org")
    b = profile(capped_client, admin, "email", "b@x.org")
    assert a["id"] != b["id"]
    assert a["attributes"]["ticket_count"] == 3  # the record went to its email's profile
    log = capped_client.get(f"/v1/datasets/{dataset_id}/logs", headers=auth(admin)).json()
    assert any(w.get("reason") == "merge_stopped" for w in log["logs"][0]["warnings"])


def test_cap_stops_adding_links(capped_client: TestClient, database: Database) -> None:
    admin = make_token(database, "admin")
    dataset_id = create_dataset(capped_client, admin)
    post_tickets(capped_client, admin, dataset_id, [ticket("1", link={"mobile": "+61404000001"})])
    body = post_tickets(
        capped_client,
        admin,
        dataset_id,
        [
            ticket("2", link={"mobile": "+61404000001", "email": "z@x.org"}),
            ticket("3", link={"mobile": "+61404000001", "email": "y@x.org"}),
            ticket("4", link={"mobile": "+61404000001", "email": "w@x.org"}),
        ],
    )
    assert [w["reason"] for w in body["warnings"]] == ["link_not_added"]
    links = profile(capped_client, admin, "mobile", "+61404000001")["links"]
    assert sorted(link["value"] for link in links if link["type"] == "email") == [
        "y@x.org",
        "z@x.org",
    ]
