"""Small builders shared by the ingestion and profile tests."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient

# The reference's own example event (customer-service-data.txt), made concrete.
REFERENCE_EVENT: dict[str, Any] = {
    "ticket_id": "string",
    "action_at": "2024-11-06T10:15:00Z",
    "link": {"email": "aaron@gmail.com", "mobile": "+61404000000"},
    "title": "Faulty seam",
    "ticket_url": "https://mybrand.zendesk.com/agent/tickets/1",
    "description": "Jacket has a faulty seam",
    "timeline": {
        "created_at": "2024-11-06T08:00:00Z",
        "closed_at": "2024-11-06T10:00:00Z",
        "duration": 120,
        "reply_time": 23,
        "first_reply_time": 19,
    },
    "channel": {"type": ["email"], "name": ["help@mybrand.com"]},
    "status": "open",
    "tags": ["complaint", "ecommerce"],
    "agents": ["Aaron W", "Matt M"],
    "satisfaction_score": "good",
}


def ticket(ticket_id: str, **changes: Any) -> dict[str, Any]:
    """A valid ticket event; keyword arguments replace top-level fields."""
    event = copy.deepcopy(REFERENCE_EVENT)
    event["ticket_id"] = ticket_id
    event.update(changes)
    return event


def auth(token: str) -> dict[str, str]:
    """Bearer header."""
    return {"Authorization": f"Bearer {token}"}


def create_dataset(
    client: TestClient,
    admin_token: str,
    name: str = "tickets",
    record_type: str = "customer_support_ticket",
) -> str:
    """A new dataset's id (of tickets unless `record_type` says otherwise)."""
    response = client.post(
        "/v1/datasets",
        json={"name": name, "record_type": record_type},
        headers=auth(admin_token),
    )
    assert response.status_code == 201, response.text
    dataset_id: str = response.json()["id"]
    return dataset_id


def post_tickets(client: TestClient, token: str, dataset_id: str, events: Any) -> dict[str, Any]:
    """Post a batch, assert 200, return the body."""
    response = client.post(
        f"/v1/datasets/{dataset_id}/customer_support_ticket", json=events, headers=auth(token)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def post_records(
    client: TestClient, token: str, dataset_id: str, record_type: str, records: Any
) -> dict[str, Any]:
    """Post a batch of any record type, assert 200, return the body."""
    response = client.post(
        f"/v1/datasets/{dataset_id}/{record_type}", json=records, headers=auth(token)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class Brand:
    """One dataset per record type, created on first use, for tests that post many types."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client, self.token = client, token
        self.datasets: dict[str, str] = {}

    def post(self, record_type: str, *records: dict[str, Any]) -> dict[str, Any]:
        """Post records of one type to its dataset; the 200 body."""
        if record_type not in self.datasets:
            self.datasets[record_type] = create_dataset(
                self.client, self.token, record_type, record_type
            )
        return post_records(
            self.client, self.token, self.datasets[record_type], record_type, list(records)
        )

    def profile(self, link_type: str, value: str) -> dict[str, Any]:
        """The profile owning a link (asserting it exists)."""
        response = self.client.get(f"/v1/profiles/by/{link_type}/{value}", headers=auth(self.token))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body
