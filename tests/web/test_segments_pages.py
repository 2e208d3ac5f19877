"""Segment pages over HTTP, on both engines: agents read, managers build; the builder saves
without script (rows added and removed by plain submits), its problems land beside the row,
the htmx row partials and the live count, a segment's page (definition in words, size over
time, members, CSV), a deep definition opening in the JSON editor, and the profile's
Summary listing its segments."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from carebase.db.session import Database
from carebase.settings import Settings
from tests.conftest import FakeClock
from tests.helpers import auth, create_dataset
from tests.segments.storehelp import create, post_tickets_for, profile_of, run_jobs
from tests.web.console import field_errors, toast

HTMX = {"HX-Request": "true"}


@pytest.fixture
def customers(client: TestClient, admin_token: str, clock: FakeClock) -> dict[str, int]:
    """Ticket counts in the last 120 days: ann 4, bob 1, cat 3."""
    dataset = create_dataset(client, admin_token)
    counts = {"ann@fake.com": 4, "bob@fake.com": 1, "cat@fake.com": 3}
    for email, count in counts.items():
        created = [clock.now - timedelta(days=3 + n) for n in range(count)]
        post_tickets_for(client, admin_token, dataset, email, created, prefix="t")
    return counts


def _rows(*rows: tuple[str, dict[str, str]], **fields: str) -> dict[str, Any]:
    data: dict[str, Any] = {"row": [key for key, _ in rows], **fields}
    for key, inputs in rows:
        for name, value in inputs.items():
            data[f"{key}.{name}"] = value
    return data


FREQUENT = _rows(
    (
        "a1",
        {"group": "must", "kind": "attribute", "field": "ticket_count", "op": "gte", "value": "3"},
    ),
    name="Frequent contacts",
    refresh_every_hours="24",
    action="save",
)


def _created_id(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text[:3000]
    found = re.match(r"/segments/([^?]+)\?done=created", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


# Who may.


def test_agents_read_segments_and_managers_build_them(
    agent: TestClient, manager: TestClient
) -> None:
    listed = agent.get("/segments")
    assert listed.status_code == 200
    assert "No segments yet" in listed.text
    assert "/segments/new" not in listed.text
    assert agent.get("/segments/new").status_code == 403
    assert agent.post("/segments/new", data=FREQUENT).status_code == 403
    assert agent.post("/segments/preview", data=FREQUENT).status_code == 403
    page = manager.get("/segments")
    assert 'href="/segments/new"' in page.text
    # The navigation names both sections for a manager, Segments only for an agent.
    assert 'href="/sql"' in page.text
    assert 'href="/sql"' not in listed.text
    assert 'href="/segments"' in listed.text


def test_a_form_without_the_csrf_token_is_refused(manager: TestClient) -> None:
    del manager.headers["X-CSRF-Token"]
    assert manager.post("/segments/new", data=FREQUENT).status_code == 403


# Building and reading a segment.


def test_a_manager_builds_a_segment_and_reads_its_members(
    manager: TestClient,
    database: Database,
    settings: Settings,
    clock: FakeClock,
    customers: dict[str, int],
) -> None:
    segment_id = _created_id(manager.post("/segments/new", data=FREQUENT))
    page = manager.get(f"/segments/{segment_id}?done=created")
    assert toast(page) == "Saved Frequent contacts; its first refresh is on its way."
    assert "Ticket count is at least 3" in page.text
    assert "Waiting to refresh" in page.text
    assert "No members yet" in page.text

    run_jobs(database, settings, clock)
    page = manager.get(f"/segments/{segment_id}")
    expected = {profile_of(database, e) for e, n in customers.items() if n >= 3}
    shown = set(re.findall(r'href="/profiles/([^"]+)"><code>', page.text))
    assert shown == expected
    assert "Ready" in page.text
    assert re.search(r"<rect [^>]*height=\"62", page.text), "one bar, full height"
    assert '<th scope="col" class="num">Members</th>' in page.text

    listed = manager.get("/segments")
    assert re.search(r'Frequent contacts</a>.*?<td class="num">2</td>', listed.text, re.S)

    chosen = manager.get(f"/segments/{segment_id}?attr=ticket_count&attr=email")
    assert '<th scope="col">Ticket count</th>' in chosen.text
    download = manager.get(f"/segments/{segment_id}/members.csv?attr=ticket_count")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(download.text)))
    assert table[0] == ["profile_id", "ticket_count"]
    assert {row[0] for row in table[1:]} == expected


def test_the_builder_works_without_script(manager: TestClient) -> None:
    # Add an event row to Should by a plain submit: the page comes back with it.
    added = manager.post("/segments/new", data={**FREQUENT, "action": "add:should:event"})
    assert added.status_code == 200
    keys = re.findall(r'name="row" value="([a-z0-9]+)"', added.text)
    assert len(keys) == 2
    assert keys[0] == "a1"
    event_key = keys[1]
    assert f'name="{event_key}.event"' in added.text
    # Add a where-line to it, then remove the attribute row.
    data = {
        **FREQUENT,
        "row": ["a1", event_key],
        f"{event_key}.group": "should",
        f"{event_key}.kind": "event",
        f"{event_key}.event": "customer_support_ticket",
        f"{event_key}.count_op": "gte",
        f"{event_key}.count_value": "2",
        "action": f"add_where:{event_key}",
    }
    with_where = manager.post("/segments/new", data=data)
    sub = re.findall(rf'name="{event_key}.where" value="([a-z0-9]+)"', with_where.text)
    assert len(sub) == 1
    removed = manager.post("/segments/new", data={**data, "action": "remove:a1"})
    assert 'name="row" value="a1"' not in removed.text
    # Saved with its where-line filled in.
    saved = manager.post(
        "/segments/new",
        data={
            **data,
            f"{event_key}.where": sub[0],
            f"{event_key}.{sub[0]}.field": "satisfaction_score",
            f"{event_key}.{sub[0]}.op": "eq",
            f"{event_key}.{sub[0]}.value": "bad",
            "action": "save",
        },
    )
    segment_id = _created_id(saved)
    page = manager.get(f"/segments/{segment_id}")
    assert "Should have" in page.text
    assert (
        "Support ticket: at least 2 in the last 120 days, where Satisfaction score is bad"
        in page.text
    )


def test_problems_are_shown_beside_the_row_they_name(manager: TestClient) -> None:
    data = _rows(
        ("a1", {"kind": "attribute", "field": "ticket_count", "op": "gte", "value": "lots"}),
        ("e1", {"kind": "event", "event": "customer_support_ticket", "window_days": "500"}),
        name="",
        action="save",
    )
    first = manager.post("/segments/new", data=data)
    assert first.status_code == 422
    assert field_errors(first) == {
        "a1-value": "Enter a whole number.",
        "name": "Give the segment a name.",
    }
    data["a1.value"] = "3"
    data["name"] = "x"
    second = manager.post("/segments/new", data=data)
    assert second.status_code == 422
    messages = field_errors(second)
    assert list(messages) == ["e1-window_days"]
    assert messages["e1-window_days"].startswith("Must be between 1 and 120")
    # The rows keep what was typed.
    assert 'value="500"' in second.text


def test_a_taken_name_is_a_message_beside_the_name(manager: TestClient) -> None:
    _created_id(manager.post("/segments/new", data=FREQUENT))
    again = manager.post("/segments/new", data=FREQUENT)
    assert again.status_code == 422
    assert "name" in field_errors(again)


def test_rows_come_back_from_htmx_as_partials(manager: TestClient) -> None:
    new = manager.get("/segments/builder/row?action=add:not:event", headers=HTMX)
    assert new.status_code == 200
    assert new.headers["HX-Trigger-After-Settle"] == "segment-changed"
    assert new.text.lstrip().startswith('<li class="condition')
    assert 'value="not"' in new.text
    assert "Support ticket" in new.text
    # A field changed: the operators offered fit its type (timestamps read before/after).
    changed = manager.get(
        "/segments/builder/row?row=k1&k1.group=must&k1.kind=attribute&k1.field=last_ticket_date&k1.op=contains",
        headers=HTMX,
    )
    assert ">is after</option>" in changed.text
    assert ">contains<" not in changed.text
    assert 'type="date"' in changed.text
    removed = manager.get("/segments/builder/row?row=k1&action=remove:k1", headers=HTMX)
    assert removed.text == ""
    assert removed.headers["HX-Trigger-After-Settle"] == "segment-changed"


def test_the_live_count_counts_the_form(manager: TestClient, customers: dict[str, int]) -> None:
    counted = manager.post("/segments/preview", data=FREQUENT, headers=HTMX)
    assert counted.status_code == 200
    assert re.search(r"<strong>2</strong> profiles match", counted.text)
    assert "of 3 profiles" in counted.text
    not_yet = manager.post(
        "/segments/preview",
        data={**FREQUENT, "a1.op": "contains"},
        headers=HTMX,
    )
    assert "Not counted yet" in not_yet.text


def test_a_deep_definition_opens_in_the_json_editor_and_saves(
    manager: TestClient, client: TestClient, admin_token: str
) -> None:
    deep = {
        "type": "group",
        "op": "or",
        "children": [
            {
                "type": "group",
                "op": "and",
                "children": [
                    {"type": "attribute", "field": "ticket_count", "op": "gte", "value": 5}
                ],
            },
            {"type": "attribute", "field": "order_count", "op": "gte", "value": 9},
        ],
    }
    segment = create(client, admin_token, "Deep", deep)
    page = manager.get(f"/segments/{segment['id']}")
    assert "nests deeper than Must, Should and Not" in page.text
    editor = manager.get(f"/segments/{segment['id']}/edit")
    assert '<textarea id="definition_json"' in editor.text
    assert "nests deeper" in editor.text
    bad = manager.post(
        f"/segments/{segment['id']}/edit",
        data={
            "name": "Deep",
            "mode": "json",
            "definition_json": '{"type": "group"}',
            "action": "save",
        },
    )
    assert bad.status_code == 422
    assert field_errors(bad)["definition_json"].startswith("definition.op")
    saved = manager.post(
        f"/segments/{segment['id']}/edit",
        data={
            "name": "Deep",
            "mode": "json",
            "definition_json": '{"type":"attribute","field":"ticket_count","op":"gte","value":1}',
            "refresh_every_hours": "12",
            "action": "save",
        },
    )
    assert saved.status_code == 303
    assert "done=saved" in saved.headers["location"]
    shown = client.get(f"/v1/segments/{segment['id']}", headers=auth(admin_token)).json()
    assert shown["definition"]["field"] == "ticket_count"
    assert shown["refresh_every_hours"] == 12
    # It fits the rows now.
    assert 'name="row"' in manager.get(f"/segments/{segment['id']}/edit").text


def test_refresh_and_delete(
    manager: TestClient, database: Database, settings: Settings, clock: FakeClock
) -> None:
    segment_id = _created_id(manager.post("/segments/new", data=FREQUENT))
    run_jobs(database, settings, clock)
    refreshed = manager.post(
        f"/segments/{segment_id}/refresh",
        headers={"Referer": f"https://testserver/segments/{segment_id}"},
    )
    assert refreshed.status_code == 303
    assert refreshed.headers["location"].startswith(f"/segments/{segment_id}?done=refresh")
    deleted = manager.post(f"/segments/{segment_id}/delete")
    assert deleted.status_code == 303
    assert toast(manager.get(deleted.headers["location"])) == "Deleted Frequent contacts."
    assert manager.get(f"/segments/{segment_id}").status_code == 404


def test_the_profile_summary_lists_its_segments(
    agent: TestClient,
    manager: TestClient,
    database: Database,
    settings: Settings,
    clock: FakeClock,
    customers: dict[str, int],
) -> None:
    segment_id = _created_id(manager.post("/segments/new", data=FREQUENT))
    run_jobs(database, settings, clock)
    ann = profile_of(database, "ann@fake.com")
    bob = profile_of(database, "bob@fake.com")
    summary = agent.get(f"/profiles/{ann}")
    assert f'<a href="/segments/{segment_id}">Frequent contacts</a>' in summary.text
    assert "In no segment" in agent.get(f"/profiles/{bob}").text
