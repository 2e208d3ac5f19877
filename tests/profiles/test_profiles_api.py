"""Profile Read API, attribute definitions, forget and suppressions."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from carebase.db.session import Database
from tests.conftest import FakeClock, make_token
from tests.helpers import auth, create_dataset, post_tickets, ticket


@pytest.fixture
def dataset_id(client: TestClient, admin_token: str) -> str:
    return create_dataset(client, admin_token)


def test_lookup_by_each_link_type(client: TestClient, admin_token: str, dataset_id: str) -> None:
    link = {
        "email": "c@x.org",
        "mobile": "+61404000003",
        "customer_id": "C-9",
        "system_name": "shop",
    }
    post_tickets(client, admin_token, dataset_id, [ticket("1", link=link)])
    reader = admin_token
    by_email = client.get("/v1/profiles/by/email/C@X.org", headers=auth(reader)).json()
    by_mobile = client.get("/v1/profiles/by/mobile/+61404000003", headers=auth(reader)).json()
    by_customer = client.get(
        "/v1/profiles/by/customer_id/C-9?system_name=shop", headers=auth(reader)
    ).json()
    assert by_email["id"] == by_mobile["id"] == by_customer["id"]
    no_system = client.get("/v1/profiles/by/customer_id/C-9", headers=auth(reader))
    assert no_system.status_code == 404


def test_unknown_profile_is_404_in_the_error_shape(client: TestClient, database: Database) -> None:
    reader = make_token(database, "profiles:read")
    for path in ("/v1/profiles/prf_nope", "/v1/profiles/by/email/nobody@x.org"):
        response = client.get(path, headers=auth(reader))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    bad = client.get("/v1/profiles/by/fax/123", headers=auth(reader))
    assert bad.status_code == 422


def test_read_needs_the_profiles_scope(client: TestClient, database: Database) -> None:
    token = make_token(database, "ingest")
    assert client.get("/v1/profiles/prf_x", headers=auth(token)).status_code == 403


def test_recent_tickets_newest_first_and_limited(
    client: TestClient, admin_token: str, dataset_id: str
) -> None:
    events = [
        ticket(str(day), timeline={"created_at": f"2024-11-{day:02d}T08:00:00Z"})
        for day in (3, 1, 7, 5)
    ]
    post_tickets(client, admin_token, dataset_id, events)
    body = client.get("/v1/profiles/by/email/aaron@gmail.com?tickets=3", headers=auth(admin_token))
    assert [t["ticket_id"] for t in body.json()["tickets"]] == ["7", "5", "3"]
    none = client.get("/v1/profiles/by/email/aaron@gmail.com?tickets=0", headers=auth(admin_token))
    assert none.json()["tickets"] == []
    assert none.json()["attributes"]["ticket_count"] == 4


def test_attribute_definitions(
    client: TestClient, admin_token: str, dataset_id: str, clock: FakeClock
) -> None:
    clock.now = clock.now.replace(year=2024, month=11, day=30)
    events = [
        ticket(
            "old",
            action_at="2024-06-01T00:00:00Z",
            timeline={"created_at": "2024-06-01T00:00:00Z", "closed_at": "2024-06-01T02:00:00Z"},
            status="solved",
            satisfaction_score=5,
            channel={"type": "chat"},
            tags=["refund"],
            agents=["Zoe"],
        ),
        ticket(
            "mid",
            action_at="2024-11-20T00:00:00Z",
            timeline={"created_at": "2024-10-15T00:00:00Z", "first_reply_time": 10, "duration": 60},
            status="Closed",
            satisfaction_score="bad",
        ),
        ticket(
            "new",
            action_at="2024-11-25T00:00:00Z",
            timeline={"created_at": "2024-11-25T00:00:00Z", "first_reply_time": 30},
            status="pending",
            satisfaction_score=None,
            channel={"type": ["email", "web_form"]},
        ),
    ]
    post_tickets(client, admin_token, dataset_id, events)
    attributes = client.get(
        "/v1/profiles/by/email/aaron@gmail.com", headers=auth(admin_token)
    ).json()["attributes"]
    assert attributes["ticket_count"] == 3
    assert attributes["open_ticket_count"] == 1  # only "pending": the others are closed
    assert attributes["first_ticket_date"] == "2024-06-01T00:00:00Z"
    assert attributes["last_ticket_date"] == "2024-11-25T00:00:00Z"
    assert attributes["last_ticket_status"] == "pending"
    assert attributes["last_satisfaction_score"] == "bad"  # latest action_at with a score
    assert attributes["avg_first_reply_time"] == 20.0
    assert attributes["avg_duration"] == 90.0  # 60 given; 120 from created→closed
    assert attributes["channel_types"] == ["chat", "email", "web_form"]
    assert attributes["tags"] == ["complaint", "ecommerce", "refund"]
    assert attributes["agents"] == ["Aaron W", "Matt M", "Zoe"]
    assert attributes["tickets_last_30_days"] == 1
    assert attributes["tickets_last_90_days"] == 2


def test_windows_follow_the_clock_without_new_tickets(
    client: TestClient, admin_token: str, dataset_id: str, clock: FakeClock
) -> None:
    clock.now = clock.now.replace(year=2024, month=11, day=10)
    post_tickets(
        client, admin_token, dataset_id, [ticket("1", timeline={"created_at": "2024-11-01"})]
    )
    read = lambda: client.get(  # noqa: E731
        "/v1/profiles/by/email/aaron@gmail.com", headers=auth(admin_token)
    ).json()["attributes"]
    assert read()["tickets_last_30_days"] == 1
    clock.advance(40 * 86400)
    assert (read()["tickets_last_30_days"], read()["tickets_last_90_days"]) == (0, 1)


def test_forget_removes_everything_and_suppresses_links(
    client: TestClient, admin_token: str, dataset_id: str
) -> None:
    post_tickets(client, admin_token, dataset_id, [ticket("1"), ticket("2")])
    profile_id = client.get(
        "/v1/profiles/by/email/aaron@gmail.com", headers=auth(admin_token)
    ).json()["id"]
    forgotten = client.delete(f"/v1/profiles/{profile_id}", headers=auth(admin_token))
    assert forgotten.status_code == 200
    # The email, the two hashes carebase derived from it, and the mobile.
    assert forgotten.json() == {"profile_id": profile_id, "links_suppressed": 4}
    assert client.get(f"/v1/profiles/{profile_id}", headers=auth(admin_token)).status_code == 404
    dataset = client.get(f"/v1/datasets/{dataset_id}", headers=auth(admin_token)).json()
    assert dataset["records"] == 0

    # Its links cannot bring it back: events carrying them are rejected, not stored.
    body = post_tickets(
        client,
        admin_token,
        dataset_id,
        [
            ticket("3", link={"mobile": "+61404000000", "email": "new@x.org"}),
            ticket("4", link={"email": "other@x.org"}),
        ],
    )
    assert body["created"] == 1
    assert body["rejections"] == [
        {
            "index": 0,
            "ticket_id": "3",
            "record_id": "3",
            "errors": [{"field": "link", "reason": "suppressed"}],
        }
    ]
    suppressions = client.get("/v1/suppressions", headers=auth(admin_token)).json()
    assert {s["link_type"] for s in suppressions["suppressions"]} == {
        "email",
        "email_sha256",
        "email_md5",
        "mobile",
    }
    assert all("aaron" not in str(s) for s in suppressions["suppressions"])

    # An admin can lift a suppression.
    email_entry = next(s for s in suppressions["suppressions"] if s["link_type"] == "email")
    lifted = client.delete(f"/v1/suppressions/{email_entry['id']}", headers=auth(admin_token))
    assert lifted.status_code == 204
    left = client.get("/v1/suppressions", headers=auth(admin_token)).json()["suppressions"]
    assert [s["link_type"] for s in left] == ["mobile"]  # the email's hashes went with it
    body = post_tickets(client, admin_token, dataset_id, [ticket("5")])
    assert body["rejected"] == 1  # the mobile is still suppressed
    body = post_tickets(
        client, admin_token, dataset_id, [ticket("6", link={"email": "aaron@gmail.com"})]
    )
    assert body["created"] == 1


def test_forget_needs_admin(client: TestClient, database: Database) -> None:
    token = make_token(database, "profiles:read")
    assert client.delete("/v1/profiles/prf_x", headers=auth(token)).status_code == 403
