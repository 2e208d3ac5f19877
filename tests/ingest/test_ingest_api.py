"""`POST /v1/datasets/{id}/customer_support_ticket`: the batch contract."""

from __future__ import annotations

from datetime import UTC, datetime

import jsonschema
import pytest
from fastapi.testclient import TestClient

from carebase.db.session import Database
from carebase.models import Dataset
from tests.conftest import make_token
from tests.helpers import REFERENCE_EVENT, auth, create_dataset, post_tickets, ticket

URL = "/v1/datasets/{}/customer_support_ticket"


@pytest.fixture
def dataset_id(client: TestClient, admin_token: str) -> str:
    return create_dataset(client, admin_token)


@pytest.fixture
def ingest_token(database: Database, dataset_id: str) -> str:
    return make_token(database, f"ingest:{dataset_id}", "profiles:read")


def test_reference_example_lands_with_the_six_attributes(
    client: TestClient, dataset_id: str, ingest_token: str
) -> None:
    body = post_tickets(client, ingest_token, dataset_id, [REFERENCE_EVENT])
    assert (body["received"], body["created"], body["rejected"]) == (1, 1, 0)
    profile = client.get("/v1/profiles/by/email/aaron@gmail.com", headers=auth(ingest_token))
    assert profile.status_code == 200
    attributes = profile.json()["attributes"]
    assert attributes["last_ticket_date"] == "2024-11-06T08:00:00Z"
    assert attributes["last_satisfaction_score"] == "good"
    assert attributes["ticket_count"] == 1
    assert attributes["channel_types"] == ["email"]
    assert attributes["tags"] == ["complaint", "ecommerce"]
    assert attributes["agents"] == ["Aaron W", "Matt M"]
    links = {(link["type"], link["value"]) for link in profile.json()["links"]}
    assert links == {("email", "aaron@gmail.com"), ("mobile", "+61404000000")}


def test_invalid_events_are_rejected_alone_with_index_and_field(
    client: TestClient, dataset_id: str, ingest_token: str
) -> None:
    no_created = ticket("2")
    del no_created["timeline"]["created_at"]
    events = [
        ticket("1"),
        no_created,
        ticket("3", action_at="yesterday"),
        ticket("4", link={"customer_id": "42"}),
        ticket("5", tags=[1, 2]),
        ticket("6", link={"email": "not-an-email"}),
        "a string",
        ticket("8"),
    ]
    body = post_tickets(client, ingest_token, dataset_id, events)
    assert (body["created"], body["rejected"]) == (2, 6)
    fields = {r["index"]: {e["field"] for e in r["errors"]} for r in body["rejections"]}
    assert fields == {
        1: {"timeline.created_at"},
        2: {"action_at"},
        3: {"link"},
        4: {"tags[0]", "tags[1]"},
        5: {"link.email"},
        6: {"(record)"},
    }
    assert body["rejections"][0]["ticket_id"] == "2"


def test_unknown_fields_are_kept_as_custom_fields(
    client: TestClient, dataset_id: str, ingest_token: str
) -> None:
    event = ticket("c1", priority="high", timeline={**REFERENCE_EVENT["timeline"], "sla": "4h"})
    event["custom_fields"] = {"order_id": 991}
    post_tickets(client, ingest_token, dataset_id, [event])
    profile = client.get("/v1/profiles/by/email/aaron@gmail.com", headers=auth(ingest_token))
    assert profile.json()["tickets"][0]["custom_fields"] == {
        "order_id": 991,
        "priority": "high",
        "timeline.sla": "4h",
    }


def test_timestamps_without_offset_are_utc(
    client: TestClient, dataset_id: str, ingest_token: str
) -> None:
    event = ticket("t1", timeline={"created_at": "2024-11-06T09:30:00"})
    post_tickets(client, ingest_token, dataset_id, [event])
    stored = client.get("/v1/profiles/by/email/aaron@gmail.com", headers=auth(ingest_token))
    assert stored.json()["tickets"][0]["timeline"]["created_at"] == "2024-11-06T09:30:00Z"


def test_newest_action_at_wins_and_replays_change_nothing(
    client: TestClient, dataset_id: str, ingest_token: str
) -> None:
    first = ticket("T", action_at="2024-11-06T10:00:00Z", status="open")
    newer = ticket("T", action_at="2024-11-06T11:00:00Z", status="solved")
    older = ticket("T", action_at="2024-11-06T09:00:00Z", status="pending")
    assert post_tickets(client, ingest_token, dataset_id, [first])["created"] == 1
    assert post_tickets(client, ingest_token, dataset_id, [newer])["updated"] == 1
    body = post_tickets(client, ingest_token, dataset_id, [older, newer, first])
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 0, 3)
    profile = client.get("/v1/profiles/by/email/aaron@gmail.com", headers=auth(ingest_token))
    assert profile.json()["tickets"][0]["status"] == "solved"
    assert profile.json()["attributes"]["ticket_count"] == 1


def test_equal_action_at_resolves_the_same_in_any_order(
    client: TestClient, admin_token: str, database: Database
) -> None:
    token = make_token(database, "ingest", "profiles:read")
    a = ticket("T", status="open")
    b = ticket("T", status="closed")
    outcomes = []
    for order in ([a, b], [b, a]):
        dataset_id = create_dataset(client, admin_token, name=str(len(outcomes)))
        post_tickets(client, token, dataset_id, order)
        profile = client.get("/v1/profiles/by/email/aaron@gmail.com?tickets=5", headers=auth(token))
        statuses = {t["dataset_id"]: t["status"] for t in profile.json()["tickets"]}
        outcomes.append(statuses[dataset_id])
    assert outcomes[0] == outcomes[1]


def test_duplicate_ticket_ids_in_one_batch(
    client: TestClient, dataset_id: str, ingest_token: str
) -> None:
    events = [
        ticket("D", action_at="2024-11-06T10:00:00Z"),
        ticket("D", action_at="2024-11-06T12:00:00Z", status="solved"),
        ticket("D", action_at="2024-11-06T11:00:00Z"),
    ]
    body = post_tickets(client, ingest_token, dataset_id, events)
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 1, 1)
    profile = client.get("/v1/profiles/by/email/aaron@gmail.com", headers=auth(ingest_token))
    assert [t["status"] for t in profile.json()["tickets"]] == ["solved"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{", 400, "malformed_json"),
        (b'{"ticket_id": "1"}', 422, "validation_error"),
        (b"[]", 422, "validation_error"),
        (b'"text"', 422, "validation_error"),
    ],
)
def test_whole_batch_refusals(
    client: TestClient,
    dataset_id: str,
    ingest_token: str,
    admin_token: str,
    body: bytes,
    status: int,
    code: str,
) -> None:
    response = client.post(
        URL.format(dataset_id),
        content=body,
        headers={**auth(ingest_token), "Content-Type": "application/json"},
    )
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    logs = client.get(f"/v1/datasets/{dataset_id}/logs", headers=auth(admin_token)).json()["logs"]
    assert logs[0]["status"] == "refused"
    assert logs[0]["message"].startswith(code)


def test_more_than_1000_events_is_refused(
    client: TestClient, dataset_id: str, ingest_token: str
) -> None:
    response = client.post(
        URL.format(dataset_id),
        json=[ticket(str(i)) for i in range(1001)],
        headers=auth(ingest_token),
    )
    assert response.status_code == 422
    assert "1001" in response.json()["error"]["message"]


def test_wrong_content_type_is_415(client: TestClient, dataset_id: str, ingest_token: str) -> None:
    response = client.post(
        URL.format(dataset_id),
        content=b"ticket_id=1",
        headers={**auth(ingest_token), "Content-Type": "text/plain"},
    )
    assert response.status_code == 415


def test_dataset_of_another_type_is_409(
    client: TestClient, database: Database, ingest_token: str
) -> None:
    with database.unit_of_work() as session:
        session.add(
            Dataset(
                id="ds_purchases", name="p", record_type="purchase", created_at=datetime.now(UTC)
            )
        )
    token = make_token(database, "ingest")
    response = client.post(URL.format("ds_purchases"), json=[REFERENCE_EVENT], headers=auth(token))
    assert response.status_code == 409
    assert response.json()["error"]["details"]["dataset_record_type"] == "purchase"


def test_unknown_dataset_is_404(client: TestClient, database: Database) -> None:
    token = make_token(database, "ingest")
    response = client.post(URL.format("ds_nope"), json=[REFERENCE_EVENT], headers=auth(token))
    assert response.status_code == 404


def test_token_narrowed_to_another_dataset_is_403(
    client: TestClient, admin_token: str, dataset_id: str, database: Database
) -> None:
    other = create_dataset(client, admin_token, name="other")
    token = make_token(database, f"ingest:{other}")
    response = client.post(URL.format(dataset_id), json=[REFERENCE_EVENT], headers=auth(token))
    assert response.status_code == 403
    assert response.json()["error"]["details"] == {"required_scope": f"ingest:{dataset_id}"}


def test_dataset_totals_and_logs(
    client: TestClient, admin_token: str, dataset_id: str, ingest_token: str
) -> None:
    post_tickets(client, ingest_token, dataset_id, [ticket("1"), ticket("2")])
    post_tickets(client, ingest_token, dataset_id, [ticket("3", link={"email": "b@example.org"})])
    post_tickets(client, ingest_token, dataset_id, [{"broken": True}])
    dataset = client.get(f"/v1/datasets/{dataset_id}", headers=auth(admin_token)).json()
    assert (dataset["records"], dataset["profiles"], dataset["batches"]) == (3, 2, 3)
    assert dataset["last_ingest_at"] is not None

    first = client.get(f"/v1/datasets/{dataset_id}/logs?limit=2", headers=auth(ingest_token)).json()
    assert [log["rejected"] for log in first["logs"]] == [1, 0]
    assert first["logs"][0]["rejections"][0]["errors"][0]["field"] == "ticket_id"
    assert first["logs"][0]["token_id"] is not None
    rest = client.get(
        f"/v1/datasets/{dataset_id}/logs?limit=2&before={first['next_cursor']}",
        headers=auth(ingest_token),
    ).json()
    assert [log["created"] for log in rest["logs"]] == [2]
    assert rest["next_cursor"] is None


def test_1000_events_are_accepted(
    client: TestClient, dataset_id: str, ingest_token: str, admin_token: str
) -> None:
    events = [ticket(str(i), link={"email": f"c{i % 50}@example.org"}) for i in range(1000)]
    assert post_tickets(client, ingest_token, dataset_id, events)["created"] == 1000
    dataset = client.get(f"/v1/datasets/{dataset_id}", headers=auth(admin_token)).json()
    assert (dataset["records"], dataset["profiles"]) == (1000, 50)


def test_the_document_states_a_tickets_link_rules(client: TestClient, admin_token: str) -> None:
    # The link's rules live in a validator; the document left every field optional, so the
    # OpenAPI fuzz's tickets were rejected for links the document allowed. It states them now,
    # and what it calls valid is what is accepted.
    spec = client.get("/openapi.json").json()
    link_schema = jsonschema.Draft202012Validator(spec["components"]["schemas"]["TicketLink"])
    dataset_id = create_dataset(client, admin_token)
    cases = [
        ({"email": "jo@example.com"}, True),
        ({"mobile": "+61404000000"}, True),
        ({"email": "jo@example.com", "customer_id": "c-1", "system_name": "pos"}, True),
        ({"customer_id": "c-1"}, False),
        ({"email": None, "customer_id": "c-1"}, False),
        ({"email": "jo@example.com", "system_name": "pos"}, False),
    ]
    for n, (link, accepted) in enumerate(cases):
        body = post_tickets(client, admin_token, dataset_id, [ticket(f"L{n}", link=link)])
        assert (link_schema.is_valid(link), body["rejected"] == 0) == (accepted, accepted), link
