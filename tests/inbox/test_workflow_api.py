"""The workflow API on both engines: lists with filters and cursor pages, a mention's
detail, each action and its refusals (409 with the workflow's reason), bulk changes,
classifications and presence."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from carebase.db.session import Database
from carebase.ids import new_id
from carebase.models import Response
from tests.conftest import FakeClock, make_token
from tests.helpers import auth
from tests.inbox.conftest import People, make_mention
from tests.inbox.workflow_helpers import label, stored


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    return error


def _mentions(database: Database, clock: FakeClock, count: int, **fields: Any) -> list[str]:
    with database.unit_of_work() as session:
        return [
            make_mention(session, published_at=clock.now + timedelta(minutes=n), **fields).id
            for n in range(count)
        ]


def test_lists_filter_and_page_oldest_first(
    client: TestClient, database: Database, people: People, clock: FakeClock, inbox_token: str
) -> None:
    agent = people.agent()
    billing = label(database, "Billing")
    new_ids = _mentions(database, clock, 3)
    with database.unit_of_work() as session:
        mine = make_mention(
            session, state="in_progress", assignee_id=agent, body="Refund for ORDER 77 please"
        ).id
        make_mention(session, state="closed", assignee_id=agent)
    headers = auth(inbox_token)
    first = _ok(client.get("/v1/mentions", params={"tab": "new", "limit": 2}, headers=headers))
    assert [item["id"] for item in first["items"]] == new_ids[:2]
    rest = _ok(
        client.get(
            "/v1/mentions",
            params={"tab": "new", "limit": 2, "cursor": first["next_cursor"]},
            headers=headers,
        )
    )
    assert [item["id"] for item in rest["items"]] == new_ids[2:]
    assert rest["next_cursor"] is None
    mine_tab = _ok(
        client.get("/v1/mentions", params={"tab": "mine", "user_id": agent}, headers=headers)
    )
    assert [item["id"] for item in mine_tab["items"]] == [mine]
    assert mine_tab["items"][0]["state_label"] == "In progress"
    found = _ok(client.get("/v1/mentions", params={"q": "order 77"}, headers=headers))
    assert [item["id"] for item in found["items"]] == [mine]
    closed = _ok(
        client.get(
            "/v1/mentions", params=[("state", "closed"), ("state", "duplicate")], headers=headers
        )
    )
    assert [item["open"] for item in closed["items"]] == [False]
    _ok(
        client.post(
            f"/v1/mentions/{new_ids[1]}/classifications/{billing}",
            json={"user_id": agent},
            headers=headers,
        )
    )
    labelled = _ok(
        client.get("/v1/mentions", params={"classification_id": billing}, headers=headers)
    )
    assert [item["id"] for item in labelled["items"]] == [new_ids[1]]
    problem = _error(
        client.get("/v1/mentions", params={"tab": "mine"}, headers=headers), 422, "validation_error"
    )
    assert problem["details"] == [{"field": "user_id", "reason": "is required for the mine tab"}]
    bad = _error(
        client.get("/v1/mentions", params={"cursor": "nope"}, headers=headers),
        422,
        "validation_error",
    )
    assert bad["details"][0]["field"] == "cursor"


def test_a_mentions_detail_has_its_classifications_events_and_responses(
    client: TestClient, database: Database, people: People, clock: FakeClock, inbox_token: str
) -> None:
    agent = people.agent()
    billing = label(database, "Billing")
    [mention] = _mentions(database, clock, 1)
    headers = auth(inbox_token)
    _ok(client.post(f"/v1/mentions/{mention}/claim", json={"user_id": agent}, headers=headers))
    _ok(
        client.post(
            f"/v1/mentions/{mention}/classifications/{billing}",
            json={"user_id": agent},
            headers=headers,
        )
    )
    detail = _ok(client.get(f"/v1/mentions/{mention}", headers=headers))
    assert (detail["state"], detail["assignee_id"]) == ("assigned", agent)
    assert [item["name"] for item in detail["classifications"]] == ["Billing"]
    assert [(e["kind"], e["actor"]["type"], e["actor"]["user_id"]) for e in detail["events"]] == [
        ("assign", "user", agent),
        ("state", "user", agent),
        ("classify", "user", agent),
    ]
    assert detail["responses"] == []
    events = _ok(client.get(f"/v1/mentions/{mention}/events", headers=headers))
    assert events["items"] == detail["events"]
    _error(client.get("/v1/mentions/men_missing", headers=headers), 404, "not_found")


def test_refused_changes_answer_409_with_the_reason(
    client: TestClient, database: Database, people: People, clock: FakeClock, inbox_token: str
) -> None:
    agent, other = people.agent(), people.agent()
    [mention] = _mentions(database, clock, 1)
    headers = auth(inbox_token)

    def state(target: str, **extra: Any) -> Any:
        body = {"user_id": agent, "state": target, **extra}
        return client.post(f"/v1/mentions/{mention}/state", json=body, headers=headers)

    moved = _ok(state("in_progress"))
    assert moved["state"] == "in_progress"
    refused = _error(state("closed_thread"), 409, "transition_refused")
    assert refused["message"] == "closed (thread) is set by carebase when messages are grouped"
    stale = _error(state("closed", expected_version=moved["version"] - 1), 409, "stale")
    assert "changed since you read it" in stale["message"]
    _ok(state("awaiting_approval"))
    waiting = _error(state("closed"), 409, "transition_refused")
    assert waiting["message"] == "a reply awaits approval: approve or reject it first"
    _ok(state("responded"))
    _ok(state("closed"))
    again = _error(state("closed"), 409, "transition_refused")
    assert again["message"] == "the mention is already closed"
    claim = client.post(f"/v1/mentions/{mention}/claim", json={"user_id": other}, headers=headers)
    assert "re-open it" in _error(claim, 409, "transition_refused")["message"]
    flagged = client.post(
        f"/v1/mentions/{mention}/follow_up",
        json={"user_id": agent, "follow_up": True},
        headers=headers,
    )
    assert "re-open it" in _error(flagged, 409, "transition_refused")["message"]
    unknown = _error(state("snoozed"), 422, "validation_error")
    assert unknown["details"][0]["field"].endswith("state")


def test_claim_assign_and_unassign(
    client: TestClient, database: Database, people: People, clock: FakeClock, inbox_token: str
) -> None:
    ann, ben = people.agent("Ann"), people.agent("Ben")
    gone = people.agent("Gone")
    people.archive(gone)
    older, newer = _mentions(database, clock, 2, author_key="twitter_55")
    headers = auth(inbox_token)
    claimed = _ok(
        client.post(f"/v1/mentions/{older}/claim", json={"user_id": ann}, headers=headers)
    )
    assert [(item["id"], item["state"]) for item in claimed["items"]] == [
        (newer, "assigned"),
        (older, "closed_thread"),
    ]
    taken = client.post(f"/v1/mentions/{newer}/claim", json={"user_id": ben}, headers=headers)
    assert (
        _error(taken, 409, "transition_refused")["message"]
        == "another agent has claimed this mention"
    )
    moved = _ok(
        client.post(
            f"/v1/mentions/{newer}/assign",
            json={"user_id": ann, "assignee_id": ben},
            headers=headers,
        )
    )
    assert moved["assignee_id"] == ben
    neither = client.post(f"/v1/mentions/{newer}/assign", json={"user_id": ann}, headers=headers)
    assert _error(neither, 422, "validation_error")["details"][0]["field"] == "assignee_id"
    archived = client.post(
        f"/v1/mentions/{newer}/assign", json={"user_id": ann, "assignee_id": gone}, headers=headers
    )
    assert _error(archived, 422, "validation_error")["details"] == [
        {"field": "assignee_id", "reason": "is an archived user"}
    ]
    acting = client.post(f"/v1/mentions/{newer}/unassign", json={"user_id": gone}, headers=headers)
    assert _error(acting, 422, "validation_error")["details"][0]["field"] == "user_id"
    nobody = client.post(
        f"/v1/mentions/{newer}/unassign", json={"user_id": 10**12}, headers=headers
    )
    _error(nobody, 404, "not_found")
    back = _ok(
        client.post(f"/v1/mentions/{newer}/unassign", json={"user_id": ann}, headers=headers)
    )
    assert (back["state"], back["assignee_id"]) == ("new", None)


def test_bulk_reports_each_mention(
    client: TestClient, database: Database, people: People, clock: FakeClock, inbox_token: str
) -> None:
    agent = people.agent()
    fresh, other = _mentions(database, clock, 2)
    [done] = _mentions(database, clock, 1, state="duplicate")
    body = {
        "user_id": agent,
        "action": "state",
        "state": "no_response_required",
        "mention_ids": [fresh, done, "men_missing", other],
    }
    answer = _ok(client.post("/v1/mentions/bulk", json=body, headers=auth(inbox_token)))
    assert (answer["changed"], answer["refused"]) == (2, 2)
    assert [(r["mention_id"], r["ok"], r["code"]) for r in answer["results"]] == [
        (fresh, True, None),
        (done, False, "transition_refused"),
        ("men_missing", False, "not_found"),
        (other, True, None),
    ]
    assert answer["results"][1]["reason"] == (
        "the mention is duplicate: re-open it (to new) before moving it to no response required"
    )
    assigned = _ok(
        client.post(
            "/v1/mentions/bulk",
            json={
                "user_id": agent,
                "action": "assign",
                "assignee_id": agent,
                "mention_ids": [fresh],
            },
            headers=auth(inbox_token),
        )
    )
    assert assigned["results"][0]["ok"] is True
    empty = client.post(
        "/v1/mentions/bulk",
        json={"user_id": agent, "action": "state", "mention_ids": []},
        headers=auth(inbox_token),
    )
    assert _error(empty, 422, "validation_error")["details"][0]["field"].endswith("mention_ids")


def test_classifications_crud(
    client: TestClient, database: Database, people: People, clock: FakeClock, inbox_token: str
) -> None:
    agent = people.agent()
    headers = auth(inbox_token)
    created = _ok(
        client.post(
            "/v1/classifications",
            json={"name": "  Billing  issue ", "colour": "#AA33CC", "description": "Money"},
            headers=headers,
        ),
        201,
    )
    assert (created["name"], created["colour"], created["archived"]) == (
        "Billing issue",
        "#aa33cc",
        False,
    )
    taken = client.post(
        "/v1/classifications", json={"name": "Billing issue", "colour": "#000000"}, headers=headers
    )
    _error(taken, 409, "name_taken")
    colour = client.post(
        "/v1/classifications", json={"name": "X", "colour": "red"}, headers=headers
    )
    assert _error(colour, 422, "validation_error")["details"][0]["field"].endswith("colour")
    blank = client.post(
        "/v1/classifications", json={"name": "   ", "colour": "#000000"}, headers=headers
    )
    assert _error(blank, 422, "validation_error")["details"] == [
        {"field": "name", "reason": "must not be blank"}
    ]
    cid = created["id"]
    changed = _ok(
        client.patch(f"/v1/classifications/{cid}", json={"name": "Billing"}, headers=headers)
    )
    assert changed["name"] == "Billing"
    [mention] = _mentions(database, clock, 1)
    _ok(
        client.post(
            f"/v1/mentions/{mention}/classifications/{cid}",
            json={"user_id": agent},
            headers=headers,
        )
    )
    archived = _ok(client.post(f"/v1/classifications/{cid}/archive", headers=headers))
    assert archived["archived"] is True
    [another] = _mentions(database, clock, 1)
    refused = client.post(
        f"/v1/mentions/{another}/classifications/{cid}", json={"user_id": agent}, headers=headers
    )
    _error(refused, 409, "classification_archived")
    # Still on the old mention, and can be taken off.
    assert [
        c["id"]
        for c in _ok(client.get(f"/v1/mentions/{mention}", headers=headers))["classifications"]
    ] == [cid]
    _error(client.delete(f"/v1/classifications/{cid}", headers=headers), 409, "in_use")
    off = _ok(
        client.delete(
            f"/v1/mentions/{mention}/classifications/{cid}",
            params={"user_id": agent},
            headers=headers,
        )
    )
    assert off["changed"] is True
    listed = _ok(
        client.get("/v1/classifications", params={"include_archived": False}, headers=headers)
    )
    assert listed == []
    _ok(client.post(f"/v1/classifications/{cid}/unarchive", headers=headers))
    assert client.delete(f"/v1/classifications/{cid}", headers=headers).status_code == 204
    _error(client.get(f"/v1/classifications/{cid}", headers=headers), 404, "not_found")


def test_presence_over_http(
    client: TestClient, database: Database, people: People, clock: FakeClock, inbox_token: str
) -> None:
    agent = people.agent()
    headers = auth(inbox_token)
    before = _ok(client.get(f"/v1/presence/{agent}", headers=headers))
    assert (before["online"], before["capacity"]) == (False, 10)
    online = _ok(
        client.put(f"/v1/presence/{agent}", json={"online": True, "capacity": 3}, headers=headers)
    )
    assert (online["online"], online["capacity"], online["last_seen_at"] is not None) == (
        True,
        3,
        True,
    )
    [mention] = _mentions(database, clock, 1)
    _ok(client.post(f"/v1/mentions/{mention}/claim", json={"user_id": agent}, headers=headers))
    offline = _ok(client.put(f"/v1/presence/{agent}", json={"online": False}, headers=headers))
    assert (offline["online"], offline["returned_mention_ids"]) == (False, [mention])
    _error(client.get("/v1/presence/999999", headers=headers), 404, "not_found")


def test_scopes(client: TestClient, database: Database, people: People, clock: FakeClock) -> None:
    agent = people.agent()
    [mention] = _mentions(database, clock, 1)
    reader = make_token(database, "inbox:read", name="reader")
    assert client.get("/v1/mentions", headers=auth(reader)).status_code == 200
    refused = client.post(
        f"/v1/mentions/{mention}/claim", json={"user_id": agent}, headers=auth(reader)
    )
    assert refused.status_code == 403
    other = make_token(database, "profiles:read", name="other")
    assert client.get("/v1/mentions", headers=auth(other)).status_code == 403


def test_a_conversation_shows_the_customers_messages_and_the_answers_in_order(
    client: TestClient, database: Database, people: People, clock: FakeClock, inbox_token: str
) -> None:
    agent = people.agent()
    first, second = _mentions(database, clock, 2, author_key="twitter_c")
    [other] = _mentions(database, clock, 1, author_key="twitter_d")
    with database.unit_of_work() as session:
        for status, minute in (("sent", 0.5), ("draft", 0.7)):
            at = clock.now + timedelta(minutes=minute)
            session.add(
                Response(
                    id=new_id("rsp"),
                    mention_id=first,
                    author_id=agent,
                    agent_name="Agent Test",
                    body=f"a {status} reply",
                    private=False,
                    status=status,
                    origin="console",
                    sent_at=at if status == "sent" else None,
                    created_at=at,
                    updated_at=at,
                )
            )
    answer = _ok(client.get(f"/v1/mentions/{second}/conversation", headers=auth(inbox_token)))
    assert [(item["kind"], item["mention_id"], item["body"]) for item in answer["items"]] == [
        ("customer", first, stored(database, first).body),
        ("agent", first, "a sent reply"),
        ("customer", second, stored(database, second).body),
    ]
    assert other not in {item["mention_id"] for item in answer["items"]}
