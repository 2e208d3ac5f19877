"""Connector behaviour against payload shapes found in the vendors' references: Freshdesk's
ticket list leaves the description out unless asked for, and Zendesk leaves deleted and
suspended users out of its `include=users` sideloads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from fastapi.testclient import TestClient

from carebase.connectors import backfill
from carebase.connectors.service import ClientOptions
from carebase.db.session import Database
from carebase.ingest.service import IngestConfig
from carebase.kit.jobs import RunSummary
from carebase.settings import Settings
from tests.conftest import FakeClock
from tests.connectors import fakes
from tests.connectors.conftest import connect
from tests.connectors.test_webhooks import (
    ZENDESK_EVENT,
    now_stamp,
    profile,
    service_deliveries,
    zendesk_post,
)

SINCE = datetime(2024, 1, 1, tzinfo=UTC)
AARON, MATT = fakes.ZENDESK_USERS
# A requester deleted in Zendesk (kept, `active: false`), one suspended, and the id of one
# deleted permanently (Zendesk no longer knows it).
DELETED = {"id": 501, "name": "Dee", "email": "dee@fake.com", "phone": None, "active": False}
SUSPENDED = {"id": 502, "name": "Sue", "email": "sue@fake.com", "phone": None, "suspended": True}
PURGED = 503


def run(
    database: Database, settings: Settings, options: ClientOptions, connector_id: str
) -> backfill.BackfillSummary:
    return backfill.run(
        database,
        connector_id,
        since=SINCE,
        settings=settings,
        config=IngestConfig.from_settings(settings),
        options=options,
        conversations=False,
    )


def test_freshdesk_backfill_asks_for_and_keeps_the_description(
    client: TestClient,
    admin_token: str,
    database: Database,
    settings: Settings,
    options: ClientOptions,
) -> None:
    tickets = {101: fakes.freshdesk_ticket(101)}
    with fakes.serve(fakes.freshdesk(tickets)) as fake:
        connector = connect(client, admin_token, "freshdesk", fake.url)
        summary = run(database, settings, options, connector.id)
        [listed] = [r for r in fake.requests if r.startswith("/api/v2/tickets?")]
    assert summary.created == 1
    assert "description" in listed.split("include=")[1].split("&")[0].split(",")
    [stored] = profile(client, admin_token, "email", "bob@fake.com")["tickets"]
    assert stored["description"] == "Please refund order 1234"


def zendesk_tickets(requesters: list[int]) -> dict[int, dict[str, Any]]:
    start = datetime(2024, 6, 1, tzinfo=UTC)
    return {
        n: fakes.zendesk_ticket(
            n,
            requester_id=requester,
            submitter_id=requester,
            updated_at=(start + timedelta(hours=n)).isoformat(),
        )
        for n, requester in enumerate(requesters, start=1)
    }


def test_zendesk_backfill_looks_up_requesters_missing_from_the_sideload(
    client: TestClient,
    admin_token: str,
    database: Database,
    settings: Settings,
    options: ClientOptions,
) -> None:
    users = [AARON, MATT, DELETED, SUSPENDED]
    tickets = zendesk_tickets([DELETED["id"], SUSPENDED["id"], AARON["id"], PURGED])
    with fakes.serve(fakes.zendesk(tickets, page_size=2, users=users)) as fake:
        connector = connect(client, admin_token, "zendesk", fake.url)
        summary = run(database, settings, options, connector.id)
        lookups = [r for r in fake.requests if r.startswith("/api/v2/users/")]
    # One batched lookup per page that misses users, for just the missing ones.
    assert lookups == [
        "/api/v2/users/show_many.json?ids=501,502",
        f"/api/v2/users/show_many.json?ids={PURGED}",
    ]
    assert (summary.tickets, summary.created, summary.rejected) == (4, 3, 1)
    [rejection] = summary.rejections
    assert rejection["ticket_id"] == "4"
    [problem] = rejection["errors"]
    assert problem["field"] == "link"
    assert f"requester {PURGED}" in problem["reason"]
    assert "deleted or suspended" in problem["reason"]
    for email, ticket_id in [("dee@fake.com", "1"), ("sue@fake.com", "2")]:
        [stored] = profile(client, admin_token, "email", email)["tickets"]
        assert stored["ticket_id"] == ticket_id
        assert stored["agents"] == ["Matt M"]


def test_a_zendesk_webhook_for_a_suspended_requester_is_linked(
    client: TestClient, admin_token: str, clock: FakeClock, settle: Callable[[], RunSummary]
) -> None:
    ticket = fakes.zendesk_ticket(35436, requester_id=SUSPENDED["id"])
    users = [MATT, SUSPENDED]
    with fakes.serve(fakes.zendesk({35436: ticket}, users=users)) as fake:
        connector = connect(client, admin_token, "zendesk", fake.url)
        body = orjson.dumps(ZENDESK_EVENT)
        assert zendesk_post(client, connector.id, body, now_stamp(clock)).status_code == 202
        assert settle().succeeded == 1
        assert f"/api/v2/users/show_many.json?ids={SUSPENDED['id']}" in fake.requests
    [stored] = profile(client, admin_token, "email", "sue@fake.com")["tickets"]
    assert stored["ticket_id"] == "35436"


def test_a_zendesk_webhook_for_a_requester_zendesk_no_longer_has_is_rejected_clearly(
    client: TestClient, admin_token: str, clock: FakeClock, settle: Callable[[], RunSummary]
) -> None:
    ticket = fakes.zendesk_ticket(35436, requester_id=PURGED)
    with fakes.serve(fakes.zendesk({35436: ticket})) as fake:
        connector = connect(client, admin_token, "zendesk", fake.url)
        body = orjson.dumps(ZENDESK_EVENT)
        assert zendesk_post(client, connector.id, body, now_stamp(clock)).status_code == 202
        processed = settle()
    # The job is done (the delivery rejected), not retried: no retry can find the user.
    assert (processed.succeeded, processed.retried) == (1, 0)
    [delivery] = service_deliveries(client, admin_token, connector.id)
    assert (delivery["status"], delivery["attempts"]) == ("rejected", 1)
    assert f"requester {PURGED}" in delivery["error"]
    assert "deleted or suspended" in delivery["error"]
