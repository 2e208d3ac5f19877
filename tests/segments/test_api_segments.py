"""The segments API: CRUD with errors naming the field or node, scopes, preview, members
(pages and CSV), size history, the segments of a profile, and forgetting a member."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from carebase.db.session import Database
from carebase.settings import Settings
from tests.conftest import FakeClock, make_token
from tests.helpers import auth, create_dataset
from tests.segments.storehelp import (
    create,
    members_of,
    post_tickets_for,
    profile_of,
    refresh_jobs,
    run_jobs,
    ticket_count_at_least,
    tickets_in_window,
)


def _problems(response: Any) -> list[dict[str, str]]:
    body = response.json()
    assert response.status_code == 422, body
    problems: list[dict[str, str]] = body["error"]["details"]
    return problems


def test_crud_and_validation_errors_naming_the_path(
    client: TestClient, admin_token: str, database: Database
) -> None:
    writer = make_token(database, "segments:read", "segments:write")
    reader = make_token(database, "segments:read")
    definition = {"type": "group", "op": "and", "children": [ticket_count_at_least(3)]}
    created = client.post(
        "/v1/segments",
        json={"name": " Frequent ", "description": "3+ tickets", "definition": definition},
        headers=auth(writer),
    )
    assert created.status_code == 201, created.text
    segment = created.json()
    assert segment["name"] == "Frequent"
    assert segment["definition"]["version"] == 1
    assert (segment["status"], segment["revision"], segment["size"]) == ("pending", 1, None)
    assert segment["refresh_every_hours"] == 24
    assert segment["references"] == []
    assert client.post("/v1/segments", json={}, headers=auth(reader)).status_code == 403

    taken = client.post(
        "/v1/segments", json={"name": "Frequent", "definition": definition}, headers=auth(writer)
    )
    assert taken.status_code == 409
    blank = client.post(
        "/v1/segments", json={"name": "  ", "definition": definition}, headers=auth(writer)
    )
    assert _problems(blank) == [{"field": "name", "reason": "must not be blank"}]
    bad_field = {
        "type": "group",
        "op": "and",
        "children": [{**ticket_count_at_least(1), "field": "nope"}],
    }
    problems = _problems(
        client.post(
            "/v1/segments", json={"name": "X", "definition": bad_field}, headers=auth(writer)
        )
    )
    assert [p["field"] for p in problems] == ["definition.children[0].field"]
    missing = {
        "type": "group",
        "op": "or",
        "children": [ticket_count_at_least(1), {"type": "segment", "segment_id": "seg_nope"}],
    }
    problems = _problems(
        client.post("/v1/segments", json={"name": "X", "definition": missing}, headers=auth(writer))
    )
    assert problems == [
        {"field": "definition.children[1].segment_id", "reason": "no segment has id 'seg_nope'"}
    ]

    listed = client.get("/v1/segments", headers=auth(reader)).json()["items"]
    assert [item["id"] for item in listed] == [segment["id"]]
    url = f"/v1/segments/{segment['id']}"
    assert client.get(url, headers=auth(reader)).json()["name"] == "Frequent"
    assert client.get("/v1/segments/seg_unknown", headers=auth(reader)).status_code == 404

    changed = client.put(
        url,
        json={"name": "Frequent contacts", "definition": ticket_count_at_least(4)},
        headers=auth(writer),
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["revision"], changed.json()["description"]) == (2, None)
    assert changed.json()["definition"]["value"] == 4

    # Segments using others: a cycle is refused, naming the node and the chain.
    user = create(client, writer, "Uses frequent", {"type": "segment", "segment_id": segment["id"]})
    cycle = client.put(
        url,
        json={
            "name": "Frequent contacts",
            "definition": {"type": "not", "child": {"type": "segment", "segment_id": user["id"]}},
        },
        headers=auth(writer),
    )
    [problem] = _problems(cycle)
    assert problem["field"] == "definition.child.segment_id"
    assert problem["reason"] == (
        f"makes a cycle of segments: {segment['id']} → {user['id']} → {segment['id']}"
    )
    itself = client.put(
        url,
        json={"name": "F", "definition": {"type": "segment", "segment_id": segment["id"]}},
        headers=auth(writer),
    )
    assert _problems(itself)[0]["reason"] == "a segment cannot include itself"

    # Deleting a segment others use: 409 naming them; once they are gone, deleted.
    used = client.delete(url, headers=auth(writer))
    assert used.status_code == 409
    assert used.json()["error"]["details"] == {"used_by": [user["id"]]}
    assert client.delete(f"/v1/segments/{user['id']}", headers=auth(writer)).status_code == 204
    assert client.delete(url, headers=auth(writer)).status_code == 204
    assert client.get(url, headers=auth(reader)).status_code == 404
    assert client.delete(url, headers=auth(writer)).status_code == 404


def _seed_people(
    client: TestClient, token: str, database: Database, clock: FakeClock, counts: dict[str, int]
) -> dict[str, str]:
    """Give each person (by email) that many tickets created in the last week; their ids."""
    dataset = create_dataset(client, token)
    for email, count in counts.items():
        created = [clock.now - timedelta(days=1 + n) for n in range(count)]
        post_tickets_for(client, token, dataset, email, created, prefix="p")
    return {email: profile_of(database, email) for email in counts}


def test_preview_counts_without_saving(
    client: TestClient, admin_token: str, database: Database, clock: FakeClock
) -> None:
    _seed_people(client, admin_token, database, clock, {"a@x.com": 3, "b@x.com": 1, "c@x.com": 4})
    reader = make_token(database, "segments:read")
    answer = client.post(
        "/v1/segments/preview",
        json={"definition": ticket_count_at_least(3)},
        headers=auth(reader),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() | {"definition": None} == {
        "count": 2,
        "total_profiles": 3,
        "definition": None,
    }
    assert answer.json()["definition"]["field"] == "ticket_count"
    assert client.get("/v1/segments", headers=auth(reader)).json()["items"] == []
    wrong = client.post(
        "/v1/segments/preview",
        json={"definition": {**ticket_count_at_least(3), "op": "between"}},
        headers=auth(reader),
    )
    assert _problems(wrong)[0]["field"].startswith("definition.")


def test_members_pages_csv_history_and_profile_segments(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    people = {f"p{n}@x.com": 2 for n in range(5)} | {"one@x.com": 1}
    ids = _seed_people(client, admin_token, database, clock, people)
    reader = make_token(database, "segments:read")
    segment = create(client, admin_token, "Two or more", ticket_count_at_least(2))
    url = f"/v1/segments/{segment['id']}"
    empty = client.get(f"{url}/members", headers=auth(reader)).json()
    assert empty == {"items": [], "next_cursor": None, "version": None, "computed_at": None}
    run_jobs(database, settings, clock)

    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "attributes": "email,ticket_count"}
        if cursor:
            params["cursor"] = cursor
        page = client.get(f"{url}/members", params=params, headers=auth(reader))
        assert page.status_code == 200, page.text
        seen += page.json()["items"]
        assert page.json()["version"] == 1
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    expected = sorted(ids[email] for email in people if people[email] >= 2)
    assert [item["profile_id"] for item in seen] == expected
    # `email` is the customer-record field (these people only wrote tickets), not the link.
    assert all(item["attributes"] == {"email": None, "ticket_count": 2} for item in seen)
    default = client.get(f"{url}/members", headers=auth(reader)).json()["items"][0]
    assert set(default["attributes"]) == {"email", "first_name", "last_name"}
    bad = client.get(f"{url}/members", params={"attributes": "email,nope"}, headers=auth(reader))
    assert _problems(bad) == [{"field": "attributes", "reason": "not catalogue attributes: nope"}]
    not_cursor = client.get(f"{url}/members", params={"cursor": "zzz"}, headers=auth(reader))
    assert _problems(not_cursor)[0]["field"] == "cursor"

    exported = client.get(
        f"{url}/members.csv", params={"attributes": "ticket_count,tags"}, headers=auth(reader)
    )
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["profile_id", "ticket_count", "tags"]
    assert [row[0] for row in rows[1:]] == expected
    assert {row[1] for row in rows[1:]} == {"2"}
    assert rows[1][2] == '["complaint","ecommerce"]'
    assert client.get("/v1/segments/seg_x/members.csv", headers=auth(reader)).status_code == 404
    bad_csv = client.get(f"{url}/members.csv", params={"attributes": "x"}, headers=auth(reader))
    assert bad_csv.status_code == 422

    member = ids["p0@x.com"]
    mine = client.get(f"/v1/profiles/{member}/segments", headers=auth(reader))
    assert mine.status_code == 200, mine.text
    assert mine.json()["profile_id"] == member
    assert [(s["id"], s["name"], s["status"]) for s in mine.json()["items"]] == [
        (segment["id"], "Two or more", "ready")
    ]
    outsider = ids["one@x.com"]
    assert (
        client.get(f"/v1/profiles/{outsider}/segments", headers=auth(reader)).json()["items"] == []
    )
    assert client.get("/v1/profiles/prf_nobody/segments", headers=auth(reader)).status_code == 404

    history = client.get(f"{url}/versions", params={"limit": 1}, headers=auth(reader)).json()
    assert [item["size"] for item in history["items"]] == [5]
    assert history["next_cursor"] is None


def test_a_cursor_outlives_one_refresh_but_not_two(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    _seed_people(client, admin_token, database, clock, {f"p{n}@x.com": 1 for n in range(3)})
    segment = create(client, admin_token, "Anyone", tickets_in_window(30, 1))
    run_jobs(database, settings, clock)
    url = f"/v1/segments/{segment['id']}/members"
    first = client.get(url, params={"limit": 1}, headers=auth(admin_token)).json()
    for refreshes in (1, 2):
        clock.advance(60)
        client.post(f"/v1/segments/{segment['id']}/refresh", headers=auth(admin_token))
        run_jobs(database, settings, clock)
        following = client.get(
            url, params={"limit": 1, "cursor": first["next_cursor"]}, headers=auth(admin_token)
        )
        if refreshes == 1:
            assert following.status_code == 200
            assert following.json()["version"] == 1
        else:
            assert following.status_code == 409


def test_refresh_on_demand_is_one_job_and_brings_the_scheduled_one_forward(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    segment = create(client, admin_token, "Anyone", tickets_in_window(30, 1))
    url = f"/v1/segments/{segment['id']}/refresh"
    first = client.post(url, headers=auth(admin_token))
    second = client.post(url, headers=auth(admin_token))
    assert first.status_code == second.status_code == 202
    assert first.json()["job_id"] == second.json()["job_id"]
    reader = make_token(database, "segments:read")
    assert client.post(url, headers=auth(reader)).status_code == 403
    assert client.post("/v1/segments/seg_x/refresh", headers=auth(admin_token)).status_code == 404
    run_jobs(database, settings, clock)
    [done, scheduled] = refresh_jobs(database, segment["id"])
    assert (done.status, scheduled.status) == ("succeeded", "queued")
    assert scheduled.run_at == clock.now + timedelta(hours=24)
    clock.advance(60)
    again = client.post(url, headers=auth(admin_token)).json()
    assert again["job_id"] == scheduled.id
    assert refresh_jobs(database, segment["id"])[1].run_at == clock.now
    # An edit of the definition brings it forward too; an edit of the name alone does not.
    assert run_jobs(database, settings, clock).succeeded == 1
    body = {"name": "Renamed", "definition": tickets_in_window(30, 1)}
    renamed = client.put(f"/v1/segments/{segment['id']}", json=body, headers=auth(admin_token))
    assert renamed.json()["status"] == "ready"
    assert run_jobs(database, settings, clock).handled == 0
    body["definition"] = tickets_in_window(30, 2)
    edited = client.put(f"/v1/segments/{segment['id']}", json=body, headers=auth(admin_token))
    assert (edited.json()["status"], edited.json()["revision"]) == ("pending", 3)
    assert edited.json()["current_version"] == 2, "the last version is served meanwhile"
    assert run_jobs(database, settings, clock).succeeded == 1


def test_forgetting_a_profile_removes_it_from_every_membership(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    ids = _seed_people(client, admin_token, database, clock, {"a@x.com": 2, "b@x.com": 3})
    two = create(client, admin_token, "Two or more", ticket_count_at_least(2))
    three = create(client, admin_token, "Three or more", ticket_count_at_least(3))
    run_jobs(database, settings, clock)
    b = ids["b@x.com"]
    assert [
        s["size"] for s in client.get("/v1/segments", headers=auth(admin_token)).json()["items"]
    ] == [1, 2]
    forgotten = client.delete(f"/v1/profiles/{b}", headers=auth(admin_token))
    assert forgotten.status_code == 200, forgotten.text
    assert members_of(database, two["id"]) == {ids["a@x.com"]}
    assert members_of(database, three["id"]) == set()
    sizes = {
        s["name"]: s["size"]
        for s in client.get("/v1/segments", headers=auth(admin_token)).json()["items"]
    }
    assert sizes == {"Two or more": 1, "Three or more": 0}
    assert client.get(f"/v1/segments/{three['id']}", headers=auth(admin_token)).json()["size"] == 0
    assert client.get(f"/v1/profiles/{b}/segments", headers=auth(admin_token)).status_code == 404
    with database.unit_of_work(write=False) as session:
        left = session.execute(
            text("SELECT COUNT(*) FROM segment_members WHERE profile_id = :p"), {"p": b}
        ).scalar_one()
    assert left == 0
