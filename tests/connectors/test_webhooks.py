"""Webhooks from each helpdesk, posted as the helpdesk sends them, become tickets on the right
profiles; deliveries are authenticated, deduplicated, logged when refused, and retried."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import text

from carebase.app import create_app
from carebase.connectors.service import ClientOptions
from carebase.db.session import Database
from carebase.kit.jobs import RunSummary
from tests.conftest import FakeClock, test_settings
from tests.connectors import fakes
from tests.connectors.conftest import connect, zendesk_signature
from tests.helpers import auth

ZENDESK_EVENT = {
    "account_id": 22129848,
    "detail": {
        "actor_id": "8447388090494",
        "assignee_id": "235323",
        "brand_id": "8447346621310",
        "created_at": "2024-11-06T08:00:00Z",
        "description": "The fire is very colorful.",
        "id": "35436",
        "is_public": True,
        "priority": "HIGH",
        "requester_id": "20978392",
        "status": "HOLD",
        "subject": "Help, my printer is on fire!",
        "tags": ["enterprise", "printer"],
        "type": "INCIDENT",
        "updated_at": "2024-11-06T10:15:00Z",
        "via": {"channel": "email"},
    },
    "event": {"current": "HOLD", "previous": "OPEN"},
    "id": "cbe4028c-7239-495d-b020-f22348516046",
    "subject": "zen:ticket:35436",
    "time": "2024-11-06T10:15:00.000000000Z",
    "type": "zen:event-type:ticket.status_changed",
    "zendesk_event_version": "2022-11-06",
}


def zendesk_post(
    client: TestClient, connector_id: str, body: bytes, timestamp: str, signature: str | None = None
) -> Any:
    return client.post(
        f"/v1/connectors/{connector_id}/webhook",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Zendesk-Webhook-Signature": signature or zendesk_signature(timestamp, body),
            "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
        },
    )


def profile(client: TestClient, token: str, link_type: str, value: str) -> dict[str, Any]:
    response = client.get(f"/v1/profiles/by/{link_type}/{value}?tickets=5", headers=auth(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def now_stamp(clock: FakeClock) -> str:
    return clock().isoformat().replace("+00:00", "Z")


def test_a_zendesk_event_webhook_becomes_a_mapped_ticket_once(
    client: TestClient, admin_token: str, clock: FakeClock, settle: Callable[[], RunSummary]
) -> None:
    with fakes.serve(fakes.zendesk({35436: fakes.zendesk_ticket(35436)})) as fake:
        connector = connect(client, admin_token, "zendesk", fake.url)
        body = orjson.dumps(ZENDESK_EVENT)
        first = zendesk_post(client, connector.id, body, now_stamp(clock))
        assert first.status_code == 202, first.text
        assert first.json()["duplicate"] is False
        again = zendesk_post(client, connector.id, body, now_stamp(clock))
        assert again.json()["duplicate"] is True, "a retried delivery is a duplicate"
        assert again.json()["delivery_id"] == first.json()["delivery_id"]
        settle()
        fetches = [r for r in fake.requests if r.startswith("/api/v2/tickets/35436.json")]
        assert len(fetches) == 1
    aaron = profile(client, admin_token, "email", "aaron@gmail.com")
    assert {"type": "mobile", "value": "+61404000000", "system_name": None} in aaron["links"]
    [ticket] = aaron["tickets"]
    assert ticket["ticket_id"] == "35436"
    assert ticket["status"] == "pending", "Zendesk's hold is carebase's pending"
    assert ticket["custom_fields"]["helpdesk_status"] == "hold"
    assert ticket["channel"] == {"type": ["email"], "name": ["support@acme.com"]}
    assert ticket["tags"] == ["enterprise", "printer"]
    assert ticket["agents"] == ["Matt M"]
    assert ticket["satisfaction_score"] == "good"
    assert ticket["ticket_url"] == f"{fake.url}/agent/tickets/35436"
    assert ticket["timeline"]["first_reply_time"] == 19
    assert ticket["timeline"]["duration"] == 120
    assert ticket["timeline"]["closed_at"] == "2024-11-06T10:00:00Z"
    deliveries = client.get(
        f"/v1/connectors/{connector.id}/deliveries", headers=auth(admin_token)
    ).json()["deliveries"]
    assert [(d["status"], d["attempts"]) for d in deliveries] == [("done", 1)]


def test_a_zendesk_trigger_webhook_with_the_published_template(
    client: TestClient, admin_token: str, clock: FakeClock, settle: Callable[[], RunSummary]
) -> None:
    template = client.get(
        "/v1/connectors/zendesk-trigger-template", headers=auth(admin_token)
    ).json()
    assert template["ticket_id"] == "{{ticket.id}}"
    ticket = fakes.zendesk_ticket(35437, status="solved", via={"channel": "web"})
    with fakes.serve(fakes.zendesk({35437: ticket})) as fake:
        connector = connect(client, admin_token, "zendesk", fake.url)
        body = orjson.dumps(
            {"ticket_id": "35437", "updated_at": "November 06, 2024 10:15", "status": "Solved"}
        )
        assert zendesk_post(client, connector.id, body, now_stamp(clock)).status_code == 202
        settle()
    [stored] = profile(client, admin_token, "email", "aaron@gmail.com")["tickets"]
    assert (stored["ticket_id"], stored["status"]) == ("35437", "solved")
    assert stored["channel"]["type"] == ["web_form"]


def test_zendesk_signatures_are_checked(
    client: TestClient, admin_token: str, clock: FakeClock
) -> None:
    with fakes.serve(fakes.zendesk({})) as fake:
        connector = connect(client, admin_token, "zendesk", fake.url)
        body = orjson.dumps(ZENDESK_EVENT)
        stamp = now_stamp(clock)
        stale = (clock() - timedelta(minutes=6)).isoformat().replace("+00:00", "Z")
        tampered = body.replace(b"HOLD", b"OPEN")
        reserialised = orjson.dumps(ZENDESK_EVENT, option=orjson.OPT_INDENT_2)
        cases = [
            zendesk_post(client, connector.id, tampered, stamp, zendesk_signature(stamp, body)),
            zendesk_post(client, connector.id, reserialised, stamp, zendesk_signature(stamp, body)),
            zendesk_post(client, connector.id, body, stale),
            zendesk_post(client, connector.id, body, stamp, zendesk_signature(stamp, body, "x")),
            client.post(f"/v1/connectors/{connector.id}/webhook", content=body),
        ]
        assert [case.status_code for case in cases] == [401] * 5
        assert cases[2].json()["error"]["message"].endswith("outside the allowed window.")
        assert fake.requests == [], "nothing unauthenticated reaches the helpdesk"
    logs = client.get(
        f"/v1/datasets/{connector.dataset_id}/logs", headers=auth(admin_token)
    ).json()["logs"]
    assert len(logs) == 5
    assert {(log["status"], log["source"]) for log in logs} == {("refused", "webhook:zendesk")}
    assert all(log["message"].startswith("webhook_unauthenticated") for log in logs)


def test_a_gorgias_ticket_webhook_with_its_timeline_computed(
    client: TestClient, admin_token: str, settle: Callable[[], RunSummary]
) -> None:
    ticket = fakes.gorgias_ticket(9001)
    with fakes.serve(fakes.gorgias({9001: ticket})) as fake:
        connector = connect(client, admin_token, "gorgias", fake.url)
        assert connector.secret is not None
        context = {"ticket": {k: v for k, v in ticket.items() if k != "messages"}}
        response = client.post(
            f"/v1/connectors/{connector.id}/webhook",
            json=context,
            headers={"X-Carebase-Webhook-Secret": connector.secret},
        )
        assert response.status_code == 202, response.text
        settle()
    [stored] = profile(client, admin_token, "email", "jane@fake.com")["tickets"]
    assert stored["status"] == "closed"
    assert stored["channel"] == {"type": ["chat"], "name": ["chat@acme.com"]}
    assert stored["tags"] == ["sizing", "exchange"]
    assert stored["agents"] == ["Priya S", "Sam K"], "the automation is not an agent"
    assert stored["satisfaction_score"] == 4
    assert stored["description"] == "My jacket is the wrong size"
    timeline = stored["timeline"]
    # The rule's auto-reply (09:01) and the internal note (09:05) do not count.
    assert timeline["first_reply_time"] == 30
    assert timeline["reply_time"] == 20, "(30 + 10) / 2: 10:00 and 10:05 wait as one run"
    assert timeline["duration"] == 120
    mobile = profile(client, admin_token, "mobile", "+61491570006")
    assert mobile["id"] == profile(client, admin_token, "email", "jane@fake.com")["id"]


def test_a_freshdesk_automation_webhook_with_basic_auth(
    client: TestClient, admin_token: str, settle: Callable[[], RunSummary]
) -> None:
    with fakes.serve(fakes.freshdesk({101: fakes.freshdesk_ticket(101)})) as fake:
        connector = connect(client, admin_token, "freshdesk", fake.url)
        credentials = base64.b64encode(f"freshdesk:{connector.secret}".encode()).decode()
        response = client.post(
            f"/v1/connectors/{connector.id}/webhook",
            json={"freshdesk_webhook": {"ticket_id": 101, "ticket_status": "Resolved"}},
            headers={"Authorization": f"Basic {credentials}"},
        )
        assert response.status_code == 202, response.text
        settle()
    [stored] = profile(client, admin_token, "email", "bob@fake.com")["tickets"]
    assert stored["status"] == "solved"
    assert stored["custom_fields"]["helpdesk_status"] == "Resolved"
    assert stored["channel"] == {"type": ["email"], "name": ["help@acme.freshdesk.com"]}
    assert stored["agents"] == ["Chen L"]
    assert stored["satisfaction_score"] == 103
    assert stored["custom_fields"]["satisfaction_label"] == "Extremely happy"
    timeline = stored["timeline"]
    assert timeline["first_reply_time"] == 30
    assert timeline["reply_time"] == 45, "(30 + 60) / 2; the private note is left out"
    assert timeline["duration"] == 180


def test_unsigned_helpdesks_need_the_secret_and_a_ticket_id(
    client: TestClient, admin_token: str
) -> None:
    with fakes.serve(fakes.gorgias({})) as fake:
        connector = connect(client, admin_token, "gorgias", fake.url)
        url = f"/v1/connectors/{connector.id}/webhook"
        wrong = client.post(
            url, json={"ticket": {"id": 1}}, headers={"X-Carebase-Webhook-Secret": "x"}
        )
        assert wrong.status_code == 401
        unmapped = client.post(
            url,
            json={"hello": "world"},
            headers={"X-Carebase-Webhook-Secret": str(connector.secret)},
        )
        assert unmapped.status_code == 422
        assert unmapped.json()["error"]["details"][0]["field"] == "body"
        not_json = client.post(
            url, content=b"{oops", headers={"X-Carebase-Webhook-Secret": str(connector.secret)}
        )
        assert not_json.status_code == 400
    logs = client.get(
        f"/v1/datasets/{connector.dataset_id}/logs", headers=auth(admin_token)
    ).json()["logs"]
    assert [log["message"].split(":")[0] for log in logs] == [
        "malformed_json",
        "validation_error",
        "webhook_unauthenticated",
    ]
    assert client.post("/v1/connectors/con_nope/webhook", json={}).status_code == 404


def test_a_delivery_survives_a_helpdesk_outage_and_is_retried(
    client: TestClient, admin_token: str, clock: FakeClock, settle: Callable[[], RunSummary]
) -> None:
    with fakes.serve(fakes.freshdesk({101: fakes.freshdesk_ticket(101)})) as fake:
        fake.broken = re.compile(r"/api/v2/tickets/101")
        connector = connect(client, admin_token, "freshdesk", fake.url)
        response = client.post(
            f"/v1/connectors/{connector.id}/webhook",
            json={"ticket_id": "101"},
            headers={"X-Carebase-Webhook-Secret": str(connector.secret)},
        )
        assert response.status_code == 202, "acknowledged even though the helpdesk is down"
        settle()
        [delivery] = service_deliveries(client, admin_token, connector.id)
        assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
        assert "500" in delivery["error"]
        # Not due yet: nothing happens.
        assert settle().retried == 0
        fake.broken = None
        clock.advance(seconds=61)
        done = settle()
        assert done.succeeded == 1
    [delivery] = service_deliveries(client, admin_token, connector.id)
    assert (delivery["status"], delivery["attempts"]) == ("done", 2)
    assert profile(client, admin_token, "email", "bob@fake.com")["attributes"]["ticket_count"] == 1


def test_a_ticket_deleted_in_the_helpdesk_is_skipped(
    client: TestClient, admin_token: str, settle: Callable[[], RunSummary]
) -> None:
    with fakes.serve(fakes.gorgias({})) as fake:
        connector = connect(client, admin_token, "gorgias", fake.url)
        client.post(
            f"/v1/connectors/{connector.id}/webhook",
            json={"ticket_id": 5},
            headers={"X-Carebase-Webhook-Secret": str(connector.secret)},
        )
        settle()
    [delivery] = service_deliveries(client, admin_token, connector.id)
    assert delivery["status"] == "skipped"


def service_deliveries(client: TestClient, token: str, connector_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/connectors/{connector_id}/deliveries", headers=auth(token))
    deliveries: list[dict[str, Any]] = response.json()["deliveries"]
    return deliveries


def test_credentials_are_encrypted_and_never_shown(
    client: TestClient, admin_token: str, database: Database
) -> None:
    connector = connect(client, admin_token, "zendesk", "https://acme.zendesk.com")
    shown = client.get(f"/v1/connectors/{connector.id}", headers=auth(admin_token)).text
    listed = client.get("/v1/connectors", headers=auth(admin_token)).text
    for text_ in (shown, listed):
        assert "zd-token" not in text_
        assert "credentials" not in text_
        assert "dGhpc19zZWNyZXRf" not in text_
    with database.unit_of_work(write=False) as session:
        stored = session.execute(text("SELECT credentials, signing_secret FROM connectors")).one()
    assert "zd-token" not in stored[0]
    assert "dGhpc19zZWNyZXRf" not in stored[1]


def test_connector_configuration_is_validated(client: TestClient, admin_token: str) -> None:
    tickets = connect(client, admin_token, "gorgias", "https://acme.gorgias.com").dataset_id
    purchases = client.post(
        "/v1/datasets", json={"name": "p", "record_type": "purchase"}, headers=auth(admin_token)
    ).json()["id"]
    base = {"name": "x", "domain": "acme", "dataset_id": tickets}
    cases = [
        (
            {**base, "kind": "zendesk", "credentials": {"email": "a@b.co"}, "signing_secret": "s"},
            "credentials.api_token",
        ),
        (
            {**base, "kind": "zendesk", "credentials": {"email": "a@b.co", "api_token": "t"}},
            "signing_secret",
        ),
        (
            {**base, "kind": "freshdesk", "credentials": {"api_key": "k", "password": "p"}},
            "credentials.password",
        ),
        (
            {**base, "kind": "freshdesk", "credentials": {"api_key": "k"}, "dataset_id": purchases},
            "dataset_id",
        ),
    ]
    for body, field in cases:
        response = client.post("/v1/connectors", json=body, headers=auth(admin_token))
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"][0]["field"] == field
    bad_kind = client.post(
        "/v1/connectors",
        json={**base, "kind": "helpscout", "credentials": {}},
        headers=auth(admin_token),
    )
    assert bad_kind.status_code == 422
    created = client.post(
        "/v1/connectors",
        json={**base, "kind": "freshdesk", "credentials": {"api_key": "k"}},
        headers=auth(admin_token),
    ).json()
    assert created["base_url"] == "https://acme.freshdesk.com"
    assert (
        client.delete(f"/v1/connectors/{created['id']}", headers=auth(admin_token)).status_code
        == 204
    )
    assert (
        client.get(f"/v1/connectors/{created['id']}", headers=auth(admin_token)).status_code == 404
    )


def test_webhook_calls_are_rate_limited_per_connector(
    database_url: str, admin_token: str, clock: FakeClock, options: ClientOptions
) -> None:
    settings = test_settings(database_url, allow_private_outbound=True, webhook_rate_limit="2/1m")
    database = Database.from_settings(settings)
    app = create_app(settings, database=database, clock=clock)
    app.state.connector_options = options
    with TestClient(app, raise_server_exceptions=False) as client:
        connector = connect(client, admin_token, "gorgias", "https://acme.gorgias.com")
        url = f"/v1/connectors/{connector.id}/webhook"
        answers = [
            client.post(url, json={}, headers={"X-Carebase-Webhook-Secret": "x"}) for _ in range(3)
        ]
        assert [a.status_code for a in answers] == [401, 401, 429]
        assert int(answers[2].headers["Retry-After"]) > 0
        logs = client.get(
            f"/v1/datasets/{connector.dataset_id}/logs", headers=auth(admin_token)
        ).json()["logs"]
        assert len(logs) == 2, "a rate-limited call writes nothing"
    database.dispose()


def test_an_unexpected_helpdesk_answer_is_retried_then_fails(
    client: TestClient, admin_token: str, clock: FakeClock, settle: Callable[[], RunSummary]
) -> None:
    broken = fakes.gorgias_ticket(77)
    del broken["id"]
    with fakes.serve(fakes.gorgias({77: broken})) as fake:
        connector = connect(client, admin_token, "gorgias", fake.url)
        client.post(
            f"/v1/connectors/{connector.id}/webhook",
            json={"ticket_id": 77},
            headers={"X-Carebase-Webhook-Secret": str(connector.secret)},
        )
        for _ in range(10):
            clock.advance(seconds=3600)
            settle()
    [delivery] = service_deliveries(client, admin_token, connector.id)
    assert (delivery["status"], delivery["attempts"]) == ("failed", 8)
    assert "unexpected answer from the helpdesk (KeyError" in delivery["error"]


def test_a_changed_secret_key_is_a_clear_503_not_a_crash(
    client: TestClient, admin_token: str, database_url: str, clock: FakeClock
) -> None:
    connector = connect(client, admin_token, "zendesk", "https://acme.zendesk.com")
    rotated = test_settings(database_url, secret_key="another-secret-key-of-32-characters!")
    database = Database.from_settings(rotated)
    with TestClient(create_app(rotated, database=database, clock=clock)) as other:
        body = orjson.dumps(ZENDESK_EVENT)
        response = zendesk_post(other, connector.id, body, now_stamp(clock))
    database.dispose()
    assert response.status_code == 503
    assert "CAREBASE_SECRET_KEY changed" in response.json()["error"]["message"]


def test_the_delivery_worker_processes_webhooks_off_the_request_path(
    database_url: str, admin_token: str, clock: FakeClock, options: ClientOptions
) -> None:
    settings = test_settings(database_url, allow_private_outbound=True)
    database = Database.from_settings(settings)
    app = create_app(settings, database=database, clock=clock)  # the background worker runs
    app.state.connector_options = options
    tickets = {n: fakes.gorgias_ticket(n) for n in range(1, 6)}
    with fakes.serve(fakes.gorgias(tickets)) as fake, TestClient(app) as client:
        connector = connect(client, admin_token, "gorgias", fake.url)
        for n in tickets:
            response = client.post(
                f"/v1/connectors/{connector.id}/webhook",
                json={"ticket_id": n},
                headers={"X-Carebase-Webhook-Secret": str(connector.secret)},
            )
            assert response.status_code == 202
        for _ in range(200):
            statuses = {d["status"] for d in service_deliveries(client, admin_token, connector.id)}
            if statuses == {"done"}:
                break
            time.sleep(0.05)
        assert statuses == {"done"}
        stored = client.get(f"/v1/datasets/{connector.dataset_id}", headers=auth(admin_token))
        assert stored.json()["records"] == 5
    database.dispose()


def test_a_template_body_is_taken_again_for_each_change_of_the_ticket(
    client: TestClient, admin_token: str, settle: Callable[[], RunSummary]
) -> None:
    """Freshdesk's and carebase's Gorgias template bodies name only the ticket, so every
    change of it sends the same bytes: a twin of a delivery still waiting is a duplicate, but
    once it has been processed the same body announces a new change."""
    ticket = fakes.freshdesk_ticket(101)
    tickets = {101: ticket}
    with fakes.serve(fakes.freshdesk(tickets)) as fake:
        connector = connect(client, admin_token, "freshdesk", fake.url)
        headers = {"X-Carebase-Webhook-Secret": connector.secret or ""}
        body = {"ticket_id": 101}
        first = client.post(f"/v1/connectors/{connector.id}/webhook", json=body, headers=headers)
        twin = client.post(f"/v1/connectors/{connector.id}/webhook", json=body, headers=headers)
        assert (first.json()["duplicate"], twin.json()["duplicate"]) == (False, True)
        settle()
        assert profile(client, admin_token, "email", "bob@fake.com")["tickets"][0]["tags"] == (
            ticket.get("tags") or []
        )
        # The agent tags the ticket; Freshdesk sends the same body again.
        tickets[101] = {**ticket, "tags": ["vip"], "updated_at": "2024-11-07T10:00:00Z"}
        later = client.post(f"/v1/connectors/{connector.id}/webhook", json=body, headers=headers)
        assert later.json()["duplicate"] is False
        assert later.json()["delivery_id"] == first.json()["delivery_id"]
        settle()
    [stored] = profile(client, admin_token, "email", "bob@fake.com")["tickets"]
    assert stored["tags"] == ["vip"]
    deliveries = client.get(
        f"/v1/connectors/{connector.id}/deliveries", headers=auth(admin_token)
    ).json()["items"]
    assert [(d["status"], d["attempts"]) for d in deliveries] == [("done", 1)]
