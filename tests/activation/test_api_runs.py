"""Runs over HTTP against the Zendesk contract fake, on both engines: a connection test
that passes step by step, a run started (202) and worked by a worker pass, one run at a
time (409), the run's counts, its rejected records (JSON pages and CSV, no record fields),
retry of failed records, cancel, and an orchestration kept while a run is active."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from carebase.db.session import Database
from carebase.settings import Settings
from tests.activation import runhelp
from tests.activation.zendesk_fake import FakeZendesk
from tests.conftest import FakeClock, make_token, test_settings
from tests.helpers import auth

SQL = (
    "SELECT profile_id AS external_id, full_name AS name, email FROM customer_360 "
    "ORDER BY profile_id LIMIT 8"
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Loopback destinations allowed (the fake listens on 127.0.0.1)."""
    return test_settings(database_url, allow_private_outbound=True)


@pytest.fixture
def writer(database: Database) -> str:
    """A token that may read and write activation."""
    return make_token(database, "activation:read", "activation:write", name="activation")


def setup_orchestration(
    client: TestClient, token: str, database: Database, settings: Settings, fake: FakeZendesk
) -> tuple[str, str]:
    """(destination id, orchestration id): a saved query of 8 profiles to the fake."""
    runhelp.load_demo(database, settings, profiles=12)
    query = runhelp.save_query(database, SQL)
    destination = client.post(
        "/v1/destinations",
        json={
            "name": "Zendesk fake",
            "kind": "zendesk",
            "config": {"base_url": fake.url, "email": fake.email},
            "secrets": {"api_token": fake.api_token},
        },
        headers=auth(token),
    )
    assert destination.status_code == 201, destination.text
    orchestration = client.post(
        "/v1/orchestrations",
        json={
            "name": "Profiles to Zendesk",
            "destination_id": destination.json()["id"],
            "source": {"type": "query", "id": query},
        },
        headers=auth(token),
    )
    assert orchestration.status_code == 201, orchestration.text
    return destination.json()["id"], orchestration.json()["id"]


def test_connection_test_passes_against_the_fake(
    client: TestClient,
    writer: str,
    database: Database,
    settings: Settings,
    zendesk_fake: FakeZendesk,
) -> None:
    destination_id, _ = setup_orchestration(client, writer, database, settings, zendesk_fake)
    tested = client.post(f"/v1/destinations/{destination_id}/test", headers=auth(writer))
    assert tested.status_code == 200, tested.text
    report = tested.json()
    assert report["ok"] is True, report
    assert all(step["ok"] for step in report["steps"])
    assert any("users/me" in request for request in zendesk_fake.requests)
    stored = client.get(f"/v1/destinations/{destination_id}", headers=auth(writer)).json()
    assert stored["check"] == report
    # A wrong token: the report says which step failed.
    put = client.put(
        f"/v1/destinations/{destination_id}",
        json={
            "name": "Zendesk fake",
            "config": {"base_url": zendesk_fake.url, "email": zendesk_fake.email},
            "secrets": {"api_token": "wrong"},
        },
        headers=auth(writer),
    )
    assert put.json()["check"] is None  # a changed secret clears the last report
    failed = client.post(f"/v1/destinations/{destination_id}/test", headers=auth(writer)).json()
    assert failed["ok"] is False
    assert [step["ok"] for step in failed["steps"]][-1] is False
    assert "wrong" not in str(failed)


def test_run_lifecycle_over_http(
    client: TestClient,
    writer: str,
    database: Database,
    settings: Settings,
    clock: FakeClock,
    zendesk_fake: FakeZendesk,
) -> None:
    _, orchestration_id = setup_orchestration(client, writer, database, settings, zendesk_fake)
    base = f"/v1/orchestrations/{orchestration_id}"
    reader = make_token(database, "activation:read", name="reader")
    assert client.post(f"{base}/runs", headers=auth(reader)).status_code == 403

    started = client.post(f"{base}/runs", headers=auth(writer))
    assert started.status_code == 202, started.text
    run = started.json()
    assert (run["status"], run["trigger"], run["dry_run"]) == ("waiting_to_start", "manual", False)
    second = client.post(f"{base}/runs", json={"dry_run": True}, headers=auth(writer))
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "run_in_progress"
    busy = client.delete(base, headers=auth(writer))
    assert busy.status_code == 409
    assert busy.json()["error"]["code"] == "run_in_progress"
    shown = client.get(base, headers=auth(reader)).json()
    assert shown["active_run_id"] == run["id"]
    assert shown["last_run"]["id"] == run["id"]

    runhelp.work(database, settings, clock)
    done = client.get(f"{base}/runs/{run['id']}", headers=auth(reader)).json()
    # demo customers without a name are reported per record, not sent
    assert done["status"] in ("completed", "completed_with_errors"), done
    counts = done["counts"]
    assert counts["queried"] == 8
    assert counts["sent"] == counts["succeeded"] + counts["rejected"]
    assert counts["queried"] == counts["invalid"] + counts["sent"]
    assert client.get(base, headers=auth(reader)).json()["active_run_id"] is None

    page = client.get(f"{base}/runs", params={"limit": 1}, headers=auth(reader)).json()
    assert [item["id"] for item in page["items"]] == [run["id"]]
    assert page["next_cursor"] is None

    records = client.get(f"{base}/runs/{run['id']}/records", headers=auth(reader)).json()
    kept = records["items"]
    assert len(kept) == counts["invalid"] + counts["rejected"]
    exported = client.get(f"{base}/runs/{run['id']}/records.csv", headers=auth(reader))
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["record_key"] for row in rows] == [item["record_key"] for item in kept]
    # No record's fields (its email) in the history.
    assert "@" not in exported.text.replace("user_fields", "")
    invalid = client.get(
        f"{base}/runs/{run['id']}/records", params={"status": "invalid"}, headers=auth(reader)
    ).json()
    assert all(item["status"] == "invalid" for item in invalid["items"])
    bad_status = client.get(
        f"{base}/runs/{run['id']}/records", params={"status": "lost"}, headers=auth(reader)
    )
    assert bad_status.status_code == 422

    ended = client.post(f"{base}/runs/{run['id']}/cancel", headers=auth(writer))
    assert ended.status_code == 409
    retried = client.post(f"{base}/runs/{run['id']}/retry", headers=auth(writer))
    assert retried.status_code == 202, retried.text
    assert (retried.json()["trigger"], retried.json()["only_failed"]) == ("retry", True)
    cancelled = client.post(f"{base}/runs/{retried.json()['id']}/cancel", headers=auth(writer))
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"

    missing: list[Any] = [
        client.get(f"{base}/runs/run_nope", headers=auth(reader)),
        client.get("/v1/orchestrations/orc_nope/runs", headers=auth(reader)),
        client.post("/v1/orchestrations/orc_nope/runs", headers=auth(writer)),
    ]
    assert [answer.status_code for answer in missing] == [404, 404, 404]
    assert client.delete(base, headers=auth(writer)).status_code == 204


def test_dry_run_sends_nothing(
    client: TestClient,
    writer: str,
    database: Database,
    settings: Settings,
    clock: FakeClock,
    zendesk_fake: FakeZendesk,
) -> None:
    _, orchestration_id = setup_orchestration(client, writer, database, settings, zendesk_fake)
    base = f"/v1/orchestrations/{orchestration_id}"
    started = client.post(f"{base}/runs", json={"dry_run": True}, headers=auth(writer))
    assert started.status_code == 202, started.text
    runhelp.work(database, settings, clock)
    done = client.get(f"{base}/runs/{started.json()['id']}", headers=auth(writer)).json()
    assert done["status"] == "completed"
    assert done["dry_run"] is True
    assert done["counts"]["sent"] == 0
    assert zendesk_fake.users == {}
    both = client.post(
        f"{base}/runs", json={"full_resync": True, "only_failed": True}, headers=auth(writer)
    )
    assert both.status_code == 422
