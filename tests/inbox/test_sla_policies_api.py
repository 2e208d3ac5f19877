"""SLA policies, business hours, the inbox settings and a mention's SLA through the API, on
both engines: the default policy on first use, validation naming fields, in_use refusals,
and mentions keeping the snapshot of the policy they arrived under."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from carebase.db.session import Database
from carebase.inbox import sla
from carebase.models import Queue, SlaPolicy
from tests.conftest import FakeClock
from tests.helpers import auth
from tests.inbox.conftest import ensure_default_queue, make_mention, make_queue

HOURS: dict[str, Any] = {
    "name": "Sydney office",
    "timezone": "Australia/Sydney",
    "intervals": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
    "holidays": [{"date": "2026-12-25", "name": "Christmas"}],
}


def _fields(response: Any) -> set[str]:
    assert response.status_code == 422, response.text
    return {p["field"] for p in response.json()["error"]["details"]}


def test_the_default_policy_is_created_on_first_use_and_snapshotted(
    client: TestClient, inbox_token: str, database: Database, clock: FakeClock
) -> None:
    with database.unit_of_work() as session:
        queue = ensure_default_queue(session, clock.now)
        snapshot = sla.snapshot_for_queue(session, queue.id)
        again = sla.snapshot_for_queue(session, queue.id)
    assert snapshot == again
    assert snapshot["customer_sla_seconds"] == 7200
    assert snapshot["agent_sla_seconds"] == 7200
    assert snapshot["business_hours"] is None
    listed = client.get("/v1/sla-policies", headers=auth(inbox_token)).json()
    assert [(p["id"], p["is_default"]) for p in listed] == [(snapshot["id"], True)]


def test_a_queue_policy_with_hours_is_snapshotted_and_kept_when_the_policy_changes(
    client: TestClient, inbox_token: str, database: Database, clock: FakeClock
) -> None:
    hours = client.post("/v1/business-hours", json=HOURS, headers=auth(inbox_token))
    assert hours.status_code == 201, hours.text
    policy = client.post(
        "/v1/sla-policies",
        json={
            "name": "VIP",
            "customer_sla_seconds": 3600,
            "agent_sla_seconds": 1800,
            "business_hours_id": hours.json()["id"],
        },
        headers=auth(inbox_token),
    )
    assert policy.status_code == 201, policy.text
    policy_id = policy.json()["id"]
    with database.unit_of_work() as session:
        queue = make_queue(session, "VIP", clock.now)
        session.execute(update(Queue).where(Queue.id == queue.id).values(sla_policy_id=policy_id))
        snapshot = sla.snapshot_for_queue(session, queue.id)
        mention = make_mention(session, queue_id=queue.id, sla=snapshot)
        mention_id = mention.id
    assert snapshot["business_hours"]["timezone"] == "Australia/Sydney"
    assert snapshot["customer_sla_seconds"] == 3600
    # The policy becomes calendar time with a longer target; the mention keeps its terms.
    changed = client.patch(
        f"/v1/sla-policies/{policy_id}",
        json={"customer_sla_seconds": 86400, "business_hours_id": None},
        headers=auth(inbox_token),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["business_hours_id"] is None
    shown = client.get(f"/v1/mentions/{mention_id}/sla", headers=auth(inbox_token))
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["policy"]["customer_sla_seconds"] == 3600
    assert body["business_time"] is True
    assert body["customer"]["target_seconds"] == 3600
    with database.unit_of_work() as session:
        assert sla.snapshot_for_queue(session, queue.id)["customer_sla_seconds"] == 86400
    # The queue uses the policy: it cannot be deleted; the hours, once unused, can.
    refused = client.delete(f"/v1/sla-policies/{policy_id}", headers=auth(inbox_token))
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "in_use"
    assert "VIP" in refused.json()["error"]["message"]
    gone = client.delete(f"/v1/business-hours/{hours.json()['id']}", headers=auth(inbox_token))
    assert gone.status_code == 204


def test_mention_sla_in_calendar_time_with_a_fixed_clock(
    client: TestClient, inbox_token: str, database: Database, clock: FakeClock
) -> None:
    published = clock.now
    with database.unit_of_work() as session:
        mention = make_mention(
            session,
            published_at=published,
            assigned_at=published + timedelta(minutes=20),
            state="assigned",
        )
        mention_id = mention.id
    clock.advance(3 * 3600)
    body = client.get(f"/v1/mentions/{mention_id}/sla", headers=auth(inbox_token)).json()
    assert body["in_queue_seconds"] == 1200
    assert body["customer_wait_seconds"] is None
    assert body["within_customer_sla"] is False
    assert body["customer"]["breached"] is True
    assert body["customer"]["remaining_seconds"] == -3600
    assert body["agent"]["remaining_seconds"] == -(3 * 3600 - 1200 - 7200)
    missing = client.get("/v1/mentions/men_nope/sla", headers=auth(inbox_token))
    assert missing.status_code == 404


def test_business_hours_validation_names_each_field(client: TestClient, inbox_token: str) -> None:
    bad = {
        "name": "Bad",
        "timezone": "Australia/Atlantis",
        "intervals": [
            {"weekday": 0, "start": "09:00", "end": "17:00"},
            {"weekday": 0, "start": "16:00", "end": "18:00"},
            {"weekday": 9, "start": "9:00", "end": "25:00"},
        ],
        "holidays": [{"date": "25/12/2026", "name": "x", "start": "10:00", "end": "09:00"}],
    }
    fields = _fields(client.post("/v1/business-hours", json=bad, headers=auth(inbox_token)))
    assert fields == {
        "timezone",
        "intervals.1",
        "intervals.2.weekday",
        "intervals.2.start",
        "intervals.2.end",
        "holidays.0.date",
        "holidays.0.end",
    }
    created = client.post("/v1/business-hours", json=HOURS, headers=auth(inbox_token))
    assert created.status_code == 201
    taken = client.post("/v1/business-hours", json=HOURS, headers=auth(inbox_token))
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "name_taken"
    night = client.patch(
        f"/v1/business-hours/{created.json()['id']}",
        json={"intervals": [{"weekday": 4, "start": "22:00", "end": "06:00"}]},
        headers=auth(inbox_token),
    )
    assert night.status_code == 200, night.text
    assert night.json()["intervals"] == [{"weekday": 4, "start": "22:00", "end": "06:00"}]
    assert night.json()["holidays"][0]["date"] == "2026-12-25"


def test_policy_validation_default_moves_and_the_default_stays(
    client: TestClient, inbox_token: str, database: Database
) -> None:
    headers = auth(inbox_token)
    fields = _fields(
        client.post(
            "/v1/sla-policies",
            json={"name": "", "customer_sla_seconds": 5, "agent_sla_seconds": 60},
            headers=headers,
        )
    )
    assert fields == {"body.name", "body.customer_sla_seconds"}
    unknown_hours = client.post(
        "/v1/sla-policies",
        json={
            "name": "X",
            "customer_sla_seconds": 600,
            "agent_sla_seconds": 600,
            "business_hours_id": "bhr_nope",
        },
        headers=headers,
    )
    assert _fields(unknown_hours) == {"business_hours_id"}
    original = client.get("/v1/sla-policies", headers=headers).json()[0]
    fast = client.post(
        "/v1/sla-policies",
        json={
            "name": "Fast",
            "customer_sla_seconds": 900,
            "agent_sla_seconds": 600,
            "is_default": True,
        },
        headers=headers,
    ).json()
    listed = {
        p["name"]: p["is_default"] for p in client.get("/v1/sla-policies", headers=headers).json()
    }
    assert listed == {original["name"]: False, "Fast": True}
    # The default cannot be deleted, nor un-made directly.
    assert client.delete(f"/v1/sla-policies/{fast['id']}", headers=headers).status_code == 409
    unmade = client.patch(
        f"/v1/sla-policies/{fast['id']}", json={"is_default": False}, headers=headers
    )
    assert _fields(unmade) == {"is_default"}
    # The former default, unused, can go.
    assert client.delete(f"/v1/sla-policies/{original['id']}", headers=headers).status_code == 204
    with database.unit_of_work(write=False) as session:
        assert session.get(SlaPolicy, fast["id"]) is not None
    assert client.get("/v1/sla-policies/sla_nope", headers=headers).status_code == 404


def test_inbox_settings_are_created_on_first_use_and_validated(
    client: TestClient, inbox_token: str
) -> None:
    headers = auth(inbox_token)
    first = client.get("/v1/inbox/settings", headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["case_timeout_seconds"] == 86400
    assert first.json()["idle_offline_seconds"] == 1800
    changed = client.patch(
        "/v1/inbox/settings", json={"case_timeout_seconds": 3600}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["case_timeout_seconds"] == 3600
    assert changed.json()["idle_offline_seconds"] == 1800
    bad = client.patch(
        "/v1/inbox/settings",
        json={"idle_offline_seconds": 5, "reply_destination_id": "dst_nope", "nps_form_id": 99},
        headers=headers,
    )
    assert _fields(bad) == {"body.idle_offline_seconds"}
    bad = client.patch(
        "/v1/inbox/settings",
        json={"reply_destination_id": "dst_nope", "nps_form_id": 99},
        headers=headers,
    )
    assert _fields(bad) == {"reply_destination_id", "nps_form_id"}
    assert client.get("/v1/inbox/settings", headers=headers).json()["case_timeout_seconds"] == 3600


def test_a_message_dated_year_1_or_9999_has_its_sla_read(
    client: TestClient, admin_token: str, inbox_token: str
) -> None:
    # Intake takes any date the customer's system gives; reading the SLA was a 500 for these.
    from tests.helpers import create_dataset, post_records

    hours = client.post("/v1/business-hours", json=HOURS, headers=auth(inbox_token))
    assert hours.status_code == 201, hours.text
    body = {
        "name": "Office",
        "customer_sla_seconds": 3600,
        "agent_sla_seconds": 3600,
        "business_hours_id": hours.json()["id"],
        "is_default": True,
    }
    assert client.post("/v1/sla-policies", json=body, headers=auth(inbox_token)).status_code == 201
    dataset = create_dataset(client, admin_token, "messages", "mention")
    records = [
        {"mention_id": f"m{n}", "source_type": "email", "text": "hi", "published_at": at}
        for n, at in enumerate(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
    ]
    assert post_records(client, admin_token, dataset, "mention", records)["created"] == 2
    listed = client.get("/v1/mentions", headers=auth(inbox_token)).json()["items"]
    assert len(listed) == 2
    for item in listed:
        read = client.get(f"/v1/mentions/{item['id']}/sla", headers=auth(inbox_token))
        assert read.status_code == 200, read.text
        assert read.json()["policy"]["business_hours"]["timezone"] == "Australia/Sydney"
