"""Activation pages over HTTP, on both engines: agents read and managers change; a
destination's form comes from its kind's models, its problems land beside the inputs and
secrets are never echoed; test connection shows each step; delete while in use is refused
in words; an orchestration built with the form (mapping rows, cron with its next runs);
runs started from its page, followed live, cancelled; a dry run's summary."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from carebase.activation import orchestrations
from carebase.activation.schemas import OrchestrationIn
from carebase.db.session import Database
from carebase.models.activation import Destination
from carebase.query import service as queries
from carebase.segments import service as segments
from carebase.settings import Settings
from tests.conftest import FakeClock
from tests.segments.storehelp import run_jobs, ticket_count_at_least
from tests.web.console import field_errors, form_error, toast

HTMX = {"HX-Request": "true"}
TOKEN = "zd-token-which-must-never-show"
ZENDESK_FORM = {
    "kind": "zendesk",
    "name": "Zendesk production",
    "config.base_url": "https://acme.zendesk.com",
    "config.email": "agent@acme.example",
    "config.users_per_second": "",
    "config.max_jobs_in_flight": "",
    "secrets.api_token": TOKEN,
}


@pytest.fixture
def sources(database: Database, clock: FakeClock) -> dict[str, str]:
    """A saved segment and a saved query to send."""
    with database.unit_of_work() as session:
        segment = segments.create_segment(
            session,
            {
                "name": "Frequent",
                "definition": {
                    "type": "group",
                    "op": "and",
                    "children": [ticket_count_at_least(2)],
                },
            },
            now=clock.now,
            created_by="test",
        )
        query = queries.create_query(
            session,
            name="Zendesk users",
            description="",
            sql="SELECT profile_id AS external_id, email FROM customer_360",
            dialect=database.dialect,
            created_by="test",
            now=clock.now,
        )
    return {"segment": segment.id, "query": str(query["id"])}


def _created(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text[:3000]
    found = re.search(r'action="/activation/destinations/([^/"]+)/test"', response.text)
    assert found, response.text[:3000]
    return found.group(1)


def _orchestration(database: Database, clock: FakeClock, destination_id: str, segment: str) -> str:
    body = OrchestrationIn.model_validate(
        {
            "name": "Frequent to Zendesk",
            "destination_id": destination_id,
            "source": {"type": "segment", "id": segment, "attributes": ["email"]},
            "mapping": {"email": "email"},
        }
    )
    with database.unit_of_work() as session:
        made = orchestrations.create_orchestration(session, body, now=clock.now, created_by="t")
    return made.id


# Who may.


def test_agents_read_activation_and_managers_change_it(
    agent: TestClient, manager: TestClient
) -> None:
    listed = agent.get("/activation")
    assert listed.status_code == 200
    assert "No orchestrations yet" in listed.text
    assert "A manager builds them here" in listed.text
    assert "/activation/orchestrations/new" not in listed.text
    assert agent.get("/activation/destinations").status_code == 200
    assert agent.get("/activation/destinations/new?kind=zendesk").status_code == 403
    assert agent.post("/activation/destinations/new", data=ZENDESK_FORM).status_code == 403
    assert agent.get("/activation/orchestrations/new").status_code == 403
    # The navigation: Activation between Segments and Data, for everyone.
    nav = re.findall(r'<li><a href="(/[a-z]+)"', manager.get("/activation").text)
    assert nav.index("/activation") == nav.index("/segments") + 1
    assert "/activation" in re.findall(r'<li><a href="(/[a-z]+)"', listed.text)
    # No destination yet: the manager is told to add one first.
    page = manager.get("/activation")
    assert "First" in page.text
    assert 'href="/activation/destinations"' in page.text


def test_a_form_without_the_csrf_token_is_refused(manager: TestClient) -> None:
    del manager.headers["X-CSRF-Token"]
    assert manager.post("/activation/destinations/new", data=ZENDESK_FORM).status_code == 403


# Destinations.


def test_the_form_of_each_kind_comes_from_its_models(manager: TestClient) -> None:
    sftp = manager.get("/activation/destinations/new?kind=sftp")
    assert sftp.status_code == 200
    text = sftp.text
    assert re.search(
        r'<input id="config-port" name="config.port" type="number"[^>]*min="1"[^>]*max="65535"',
        text,
    )
    assert re.search(r'<select id="config-file_format" name="config.file_format"', text)
    assert '<option value="ndjson">' in text
    assert re.search(r'<textarea id="secrets-private_key" name="secrets.private_key"', text)
    assert "Leave blank and carebase generates it" in text
    zendesk = manager.get("/activation/destinations/new?kind=zendesk").text
    assert re.search(r'name="secrets.api_token" type="password"', zendesk)
    assert re.search(r'name="config.base_url" type="text"[^>]*required', zendesk)
    assert manager.get("/activation/destinations/new?kind=fax").status_code == 404


def test_a_manager_creates_tests_edits_and_deletes_a_destination(
    manager: TestClient, database: Database
) -> None:
    # Problems land beside their inputs; the secret is never sent back.
    missing = manager.post(
        "/activation/destinations/new", data={**ZENDESK_FORM, "config.base_url": ""}
    )
    assert missing.status_code == 422
    assert "config-base_url" in field_errors(missing)
    assert TOKEN not in missing.text
    assert 'value="agent@acme.example"' in missing.text
    wrong = manager.post(
        "/activation/destinations/new", data={**ZENDESK_FORM, "config.users_per_second": "500"}
    )
    assert wrong.status_code == 422
    assert "config-users_per_second" in field_errors(wrong)

    created = manager.post("/activation/destinations/new", data=ZENDESK_FORM)
    destination_id = _created(created)
    assert toast(created) == "Created Zendesk production. Test its connection before the first run."
    assert TOKEN not in created.text
    assert "Not tested yet" in created.text
    with database.unit_of_work(write=False) as session:
        stored = session.execute(select(Destination.secrets)).scalar_one()
    assert TOKEN not in stored

    taken = manager.post("/activation/destinations/new", data=ZENDESK_FORM)
    assert taken.status_code == 409
    assert "exists already" in field_errors(taken)["name"]

    listed = manager.get("/activation/destinations")
    assert f'href="/activation/destinations/{destination_id}">Zendesk production</a>' in listed.text
    assert "No orchestration" in listed.text

    # Test connection: each step with its word, the failed one with what failed.
    tested = manager.post(f"/activation/destinations/{destination_id}/test")
    assert tested.status_code == 303
    page = manager.get(tested.headers["location"])
    assert "Connection failed" in page.text
    assert re.search(
        r'<li class="step step--bad">.*?<span>Failed</span>.*?step__detail', page.text, re.S
    )
    assert "Connection failed" in manager.get("/activation/destinations").text

    # Edit: the form comes filled in, secrets blank; leaving them blank keeps them.
    form = manager.get(f"/activation/destinations/{destination_id}/edit")
    assert 'value="https://acme.zendesk.com"' in form.text
    assert "Leave blank to keep the one saved." in form.text
    edited = {**ZENDESK_FORM, "name": "Zendesk main", "secrets.api_token": ""}
    saved = manager.post(f"/activation/destinations/{destination_id}/edit", data=edited)
    assert saved.status_code == 303, saved.text[:2000]
    assert toast(manager.get(saved.headers["location"])) == "Saved Zendesk main."
    with database.unit_of_work(write=False) as session:
        assert session.execute(select(Destination.secrets)).scalar_one() == stored

    deleted = manager.post(f"/activation/destinations/{destination_id}/delete")
    assert deleted.status_code == 303
    assert toast(manager.get(deleted.headers["location"])) == "Deleted Zendesk main."
    assert manager.get(f"/activation/destinations/{destination_id}").status_code == 404


def test_a_destination_in_use_is_not_deleted_and_the_page_says_why(
    manager: TestClient, database: Database, clock: FakeClock, sources: dict[str, str]
) -> None:
    destination_id = _created(manager.post("/activation/destinations/new", data=ZENDESK_FORM))
    _orchestration(database, clock, destination_id, sources["segment"])
    confirm = manager.get(f"/activation/destinations/{destination_id}/delete")
    assert "cannot be deleted while 1 orchestration sends to it" in confirm.text
    assert "Frequent to Zendesk" in confirm.text
    refused = manager.post(f"/activation/destinations/{destination_id}/delete")
    assert refused.status_code == 409
    assert "cannot be deleted while 1 orchestration sends to it" in refused.text
    listed = manager.get("/activation/destinations")
    assert "Frequent to Zendesk</a>" in listed.text


# Orchestrations.


def _orchestration_form(destination_id: str, source: str, **changes: Any) -> dict[str, Any]:
    return {
        "name": "VIPs to Zendesk",
        "destination_id": destination_id,
        "source": source,
        "attributes": ["email", "first_name"],
        "map_field": ["email", "name", ""],
        "map_column": ["email", "first_name", ""],
        "sync_mode": "upsert",
        "schedule_type": "cron",
        "cron": "0 6 * * *",
        "timezone": "Australia/Sydney",
        "enabled": "on",
        "action": "save",
        **changes,
    }


def test_a_manager_builds_an_orchestration_with_a_schedule(
    manager: TestClient, clock: FakeClock, sources: dict[str, str]
) -> None:
    destination_id = _created(manager.post("/activation/destinations/new", data=ZENDESK_FORM))
    form = manager.get(f"/activation/orchestrations/new?destination={destination_id}")
    assert form.status_code == 200
    assert f'<option value="segment:{sources["segment"]}">Frequent</option>' in form.text
    assert f'<option value="query:{sources["query"]}">Zendesk users</option>' in form.text
    # The destination's kind offers its sync modes.
    assert '<option value="update_only">Update existing only</option>' in form.text

    # One more mapping row, without losing what was typed.
    more = manager.post(
        "/activation/orchestrations/new",
        data=_orchestration_form(
            destination_id, f"segment:{sources['segment']}", action="add_mapping"
        ),
    )
    assert more.status_code == 200
    assert len(re.findall(r'name="map_field"', more.text)) == 4
    assert 'value="first_name"' in more.text

    bad = manager.post(
        "/activation/orchestrations/new",
        data=_orchestration_form(
            destination_id, f"segment:{sources['segment']}", cron="61 * * * *"
        ),
    )
    assert bad.status_code == 422
    assert "cron" in field_errors(bad)
    half = manager.post(
        "/activation/orchestrations/new",
        data=_orchestration_form(
            destination_id, f"segment:{sources['segment']}", map_field=["email"], map_column=[""]
        ),
    )
    assert half.status_code == 422
    assert "Fill in both sides" in half.text

    made = manager.post(
        "/activation/orchestrations/new",
        data=_orchestration_form(destination_id, f"segment:{sources['segment']}"),
    )
    assert made.status_code == 303, made.text[:3000]
    page = manager.get(made.headers["location"])
    assert toast(page) == "Created VIPs to Zendesk. Try a dry run: it sends nothing."
    assert "Every day at 06:00 (Australia/Sydney)" in page.text
    assert "<code>name</code> ← <code>first_name</code>" in page.text
    assert "Segment Frequent" in page.text
    assert "No runs yet" in page.text
    for label in ("Run now", "Dry run", "Full resync"):
        assert f"<span>{label}</span>" in page.text

    listed = manager.get("/activation")
    assert "VIPs to Zendesk</a>" in listed.text
    assert "Every day at 06:00 (Australia/Sydney)" in listed.text
    assert "Never run" in listed.text
    # The next run is shown as a time (the viewer's zone), not "not scheduled".
    assert re.search(r"VIPs to Zendesk.*?<time [^>]*datetime=", listed.text, re.S)


def test_the_schedule_preview_lists_the_next_three_runs_in_the_zone(
    manager: TestClient, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 4, 3, 12, 0, tzinfo=UTC)
    preview = manager.get(
        "/activation/orchestrations/schedule-preview",
        params={"schedule_type": "cron", "cron": "0 6 * * *", "timezone": "Australia/Sydney"},
        headers=HTMX,
    )
    assert preview.status_code == 200
    # Sydney leaves daylight saving on Sunday 5 April 2026: 06:00 local stays 06:00.
    assert re.findall(r"\((\w{3} \d\d \w{3} 06:00) in Australia/Sydney\)", preview.text) == [
        "Sat 04 Apr 06:00",
        "Sun 05 Apr 06:00",
        "Mon 06 Apr 06:00",
    ]
    wrong = manager.get(
        "/activation/orchestrations/schedule-preview",
        params={"schedule_type": "cron", "cron": "0 6 * *", "timezone": "Australia/Sydney"},
    )
    assert "five fields" in wrong.text
    manual = manager.get(
        "/activation/orchestrations/schedule-preview", params={"schedule_type": "manual"}
    )
    assert "Runs only when someone presses Run now" in manual.text


# Runs.


def test_a_run_is_started_followed_and_cancelled(
    manager: TestClient,
    agent: TestClient,
    database: Database,
    clock: FakeClock,
    sources: dict[str, str],
) -> None:
    destination_id = _created(manager.post("/activation/destinations/new", data=ZENDESK_FORM))
    orchestration_id = _orchestration(database, clock, destination_id, sources["segment"])
    started = manager.post(
        f"/activation/orchestrations/{orchestration_id}/runs", data={"mode": "run"}
    )
    assert started.status_code == 303, started.text[:2000]
    run_url = started.headers["location"].split("?")[0]
    page = manager.get(started.headers["location"])
    assert toast(page) == "Run started: it updates here as it goes."
    assert 'data-status="waiting_to_start"' in page.text
    assert "Waiting to start" in page.text
    assert f'hx-get="{run_url}/live" hx-trigger="every 1s"' in page.text
    assert "Cancel run" in page.text
    # The agent reads it, without the buttons.
    assert "Cancel run" not in agent.get(run_url).text
    assert agent.post(f"{run_url}/cancel").status_code == 403

    # A second run while this one is active: refused, in words, on the orchestration page.
    again = manager.post(
        f"/activation/orchestrations/{orchestration_id}/runs", data={"mode": "run"}
    )
    assert again.status_code == 409
    assert form_error(again) == (
        "Another run of this orchestration is in progress: it must end, or be cancelled,"
        " before the next starts."
    )
    assert "follow it</a>" in again.text

    live = manager.get(f"{run_url}/live", headers=HTMX)
    assert live.status_code == 200
    assert 'hx-trigger="every 1s"' in live.text
    cancelled = manager.post(f"{run_url}/cancel")
    assert cancelled.status_code == 303
    ended = manager.get(f"{run_url}/live", headers=HTMX)
    assert 'data-status="cancelled"' in ended.text
    assert "Cancelled" in ended.text
    assert "hx-trigger" not in ended.text, "an ended run is not polled"
    assert ended.headers["hx-refresh"] == "true", "its end reloads the page once"
    assert live.headers.get("hx-refresh") is None
    refused = manager.post(f"{run_url}/cancel")
    assert refused.status_code == 409

    csv_file = manager.get(f"{run_url}/records.csv")
    assert csv_file.status_code == 200
    assert csv_file.headers["content-type"].startswith("text/csv")
    assert csv_file.text.splitlines()[0].startswith("seq,")

    runs = manager.get(f"/activation/orchestrations/{orchestration_id}")
    assert f'href="{run_url}"' in runs.text
    assert "Cancelled" in runs.text
    assert "Cancelled" in manager.get("/activation").text


def test_a_dry_run_shows_what_it_would_send(
    manager: TestClient,
    database: Database,
    settings: Settings,
    clock: FakeClock,
    sources: dict[str, str],
) -> None:
    destination_id = _created(manager.post("/activation/destinations/new", data=ZENDESK_FORM))
    orchestration_id = _orchestration(database, clock, destination_id, sources["segment"])
    started = manager.post(
        f"/activation/orchestrations/{orchestration_id}/runs", data={"mode": "dry_run"}
    )
    assert started.status_code == 303
    run_jobs(database, settings, clock)
    page = manager.get(started.headers["location"].split("?")[0])
    assert 'data-status="completed"' in page.text
    assert "What this dry run found" in page.text
    assert "Nothing was sent." in page.text
    assert "hx-trigger" not in page.text


def test_the_sync_modes_follow_the_destinations_kind(manager: TestClient) -> None:
    zendesk = _created(manager.post("/activation/destinations/new", data=ZENDESK_FORM))
    sftp_form = {
        "kind": "sftp",
        "name": "Files",
        "config.host": "files.brand.example",
        "config.username": "carebase",
    }
    sftp = _created(manager.post("/activation/destinations/new", data=sftp_form))
    form = manager.get("/activation/orchestrations/new")
    assert 'hx-get="/activation/orchestrations/sync-modes"' in form.text

    def modes(destination_id: str, chosen: str) -> list[str]:
        answer = manager.get(
            "/activation/orchestrations/sync-modes",
            params={"destination_id": destination_id, "sync_mode": chosen},
            headers=HTMX,
        )
        assert answer.status_code == 200
        assert answer.text.lstrip().startswith('<div id="sync-mode-field">')
        return re.findall(r'<option value="(\w+)"( selected)?', answer.text)

    assert modes(zendesk, "update_only") == [("upsert", ""), ("update_only", " selected")]
    assert modes(sftp, "update_only") == [("upsert", " selected")]


def test_what_carebase_generates_is_shown_once_and_public_keys_always(
    manager: TestClient,
) -> None:
    hook = {"kind": "webhook", "name": "Hook", "config.url": "https://hooks.brand.example/in"}
    created = manager.post("/activation/destinations/new", data=hook)
    destination_id = _created(created)
    assert "Copy this now" in created.text
    secret = re.search(
        r'<label for="once-1">Signing secret</label>.*?value="([^"]+)"', created.text, re.S
    )
    assert secret, created.text[:3000]
    again = manager.get(f"/activation/destinations/{destination_id}")
    assert "Copy this now" not in again.text
    assert secret.group(1) not in again.text

    files = {"kind": "sftp", "name": "Files", "config.host": "f.example", "config.username": "cb"}
    sftp_id = _created(manager.post("/activation/destinations/new", data=files))
    page = manager.get(f"/activation/destinations/{sftp_id}")
    assert "authorized_keys" in page.text
    assert re.search(r'value="ssh-ed25519 AAAA[^"]+"', page.text)
    assert "PRIVATE KEY" not in page.text
