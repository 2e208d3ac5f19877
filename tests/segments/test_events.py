"""POST /v1/events/search: the events Python expects, newest first, page by page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from carebase.db.session import Database
from tests.conftest import FakeClock, make_token
from tests.helpers import Brand, auth, ticket
from tests.segments.test_compiler import NOW, Person, generate, iso, load


@pytest.fixture
def reader(database: Database) -> str:
    return make_token(database, "segments:read", name="reader")


def search(client: TestClient, token: str, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/events/search", json=body, headers=auth(token))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def every_page(client: TestClient, token: str, **body: Any) -> list[dict[str, Any]]:
    """Follow next_cursor to the end; every item of every page."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        page = search(client, token, **body, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination never ended")


def test_ticket_search_finds_what_python_expects_newest_first(
    client: TestClient, admin_token: str, reader: str, clock: FakeClock
) -> None:
    clock.now = NOW
    people = generate()
    load(client, admin_token, people)
    where = {
        "type": "group",
        "op": "or",
        "children": [
            {"type": "event_field", "field": "tags", "op": "contains", "value": "vip"},
            {"type": "event_field", "field": "satisfaction_score", "op": "eq", "value": "bad"},
        ],
    }
    items = every_page(client, reader, event="customer_support_ticket", where=where, limit=4)
    expected = sorted(
        (
            (t.created, t.id, p.profile_id)
            for p in people
            for t in p.tickets_within(120)
            if "vip" in t.tags or t.score == "bad"
        ),
        reverse=True,
    )
    assert len(expected) > 8, "several pages"
    assert [(item["id"], item["profile_id"]) for item in items] == [
        (ticket_id, profile_id) for _, ticket_id, profile_id in expected
    ]
    first = items[0]
    assert first["event"] == "customer_support_ticket"
    assert set(first["fields"]) >= {
        "title",
        "created_at",
        "closed_at",
        "duration",
        "reply_time",
        "first_reply_time",
        "channel_type",
        "channel_name",
        "status",
        "tags",
        "agents",
        "satisfaction_score",
    }
    assert first["occurred_at"] == first["fields"]["created_at"]
    assert isinstance(first["fields"]["tags"], list)


def test_window_profile_and_other_event_types(
    client: TestClient, admin_token: str, reader: str, clock: FakeClock
) -> None:
    clock.now = NOW
    people = generate()
    load(client, admin_token, people)
    busiest: Person = max(people, key=lambda p: len(p.tickets_within(30)))
    items = every_page(
        client,
        reader,
        event="customer_support_ticket",
        window_days=30,
        profile_id=busiest.profile_id,
    )
    assert [item["id"] for item in items] == [
        t.id for t in sorted(busiest.tickets_within(30), key=lambda t: t.created, reverse=True)
    ]
    purchases = every_page(
        client,
        reader,
        event="purchase",
        where={"type": "event_field", "field": "currency", "op": "eq", "value": "USD"},
    )
    expected = sorted(
        (
            (at, key)
            for p in people
            for key, at, _, currency in p.purchases
            if currency == "USD" and at >= NOW - timedelta(days=120)
        ),
        reverse=True,
    )
    assert [item["id"] for item in purchases] == [key for _, key in expected]
    assert all(item["fields"]["currency"] == "USD" for item in purchases)
    assert all(item["fields"]["action_at"] == item["occurred_at"] for item in purchases)


def test_equal_times_page_by_the_tie_break_and_merged_ids_resolve(
    client: TestClient, admin_token: str, reader: str, clock: FakeClock
) -> None:
    clock.now = NOW
    brand = Brand(client, admin_token)
    at = iso(NOW - timedelta(days=1))
    brand.post(
        "customer_support_ticket",
        *(
            ticket(f"SAME-{n}", link={"email": f"s{n}@example.com"}, timeline={"created_at": at})
            for n in range(5)
        ),
    )
    brand.post("unify", {"records": [{"email": "s0@example.com"}, {"email": "s1@example.com"}]})
    items = every_page(client, reader, event="customer_support_ticket", limit=1)
    assert sorted(item["id"] for item in items) == [f"SAME-{n}" for n in range(5)]
    ids = {item["profile_id"] for item in items}
    assert len(ids) == 4, "the merged profile's ticket is on its survivor"
    survivor = brand.profile("email", "s1@example.com")["id"]
    mine = [item for item in items if item["profile_id"] == survivor]
    assert len(mine) == 2
    response = client.post(
        "/v1/events/search",
        json={"event": "customer_support_ticket", "profile_id": "prf_nobody"},
        headers=auth(reader),
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "profile_id"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event": "ticket"}, "event"),
        ({"event": "customer_support_ticket", "window_days": 121}, "window_days"),
        ({"event": "customer_support_ticket", "window_days": 0}, "body.window_days"),
        ({"event": "customer_support_ticket", "limit": 201}, "body.limit"),
        ({"event": "customer_support_ticket", "cursor": "garbage"}, "cursor"),
        ({"event": "customer_support_ticket", "extra": 1}, "body.extra"),
        (
            {
                "event": "customer_support_ticket",
                "where": {
                    "type": "group",
                    "op": "and",
                    "children": [{"type": "event_field", "field": "tags", "op": "gt", "value": 1}],
                },
            },
            "where.children[0].op",
        ),
        (
            {
                "event": "email_open",
                "where": {"type": "event_field", "field": "tags", "op": "contains", "value": "x"},
            },
            "where.field",
        ),
        (
            {"event": "customer_support_ticket", "where": {"type": "attribute"}},
            "where.type",
        ),
    ],
)
def test_bad_requests_name_the_field(
    client: TestClient, reader: str, body: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/events/search", json=body, headers=auth(reader))
    assert response.status_code == 422, response.text
    fields = [problem["field"] for problem in response.json()["error"]["details"]]
    assert field in fields, fields


def test_the_scope_is_segments_read(client: TestClient, database: Database) -> None:
    body = {"event": "customer_support_ticket"}
    assert client.post("/v1/events/search", json=body).status_code == 401
    other = make_token(database, "profiles:read", name="other")
    response = client.post("/v1/events/search", json=body, headers=auth(other))
    assert response.status_code == 403
