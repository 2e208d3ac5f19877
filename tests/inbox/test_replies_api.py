"""The replies and templates API: drafting to approving through HTTP, the approval queue,
who may review (403), bad input as 422 naming the field, templates rendered with a profile's
values in a sandbox."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from carebase.db.session import Database
from tests.conftest import FakeClock
from tests.helpers import Brand, auth
from tests.inbox.conftest import People, make_mention


def _mention(database: Database, clock: FakeClock, **fields: Any) -> str:
    with database.unit_of_work() as session:
        return make_mention(session, published_at=clock.now, **fields).id


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def test_a_reply_is_drafted_submitted_and_reviewed_over_http(
    client: TestClient, database: Database, clock: FakeClock, people: People, inbox_token: str
) -> None:
    headers = auth(inbox_token)
    agent, other = people.agent(), people.agent()
    manager = people.manager()
    people.group(members=[agent, other], requires_approval=True)
    mention_id = _mention(database, clock)

    draft = _ok(
        client.post(
            f"/v1/mentions/{mention_id}/responses",
            json={"user_id": agent, "body": "We are on it"},
            headers=headers,
        ),
        201,
    )
    assert (draft["status"], draft["origin"], draft["private"]) == ("draft", "api", False)
    rid = draft["id"]
    edited = _ok(
        client.patch(
            f"/v1/responses/{rid}", json={"user_id": agent, "body": "On it"}, headers=headers
        )
    )
    assert edited["body"] == "On it"
    refused = client.patch(
        f"/v1/responses/{rid}", json={"user_id": other, "body": "mine"}, headers=headers
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_author"
    waiting = _ok(
        client.post(f"/v1/responses/{rid}/submit", json={"user_id": agent}, headers=headers)
    )
    assert waiting["status"] == "awaiting_approval"
    queue = _ok(
        client.get("/v1/responses", params={"status": "awaiting_approval"}, headers=headers)
    )
    assert [item["id"] for item in queue["items"]] == [rid]

    # An agent may not approve; neither may the author; a manager may.
    for user in (other, agent):
        denied = client.post(
            f"/v1/responses/{rid}/approve", json={"user_id": user}, headers=headers
        )
        assert denied.status_code == 403
        assert denied.json()["error"]["code"] == "not_reviewer"
    twice = client.post(f"/v1/responses/{rid}/submit", json={"user_id": agent}, headers=headers)
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "transition_refused"
    rejected = _ok(
        client.post(
            f"/v1/responses/{rid}/reject",
            json={"user_id": manager, "comment": "Add the tracking link"},
            headers=headers,
        )
    )
    assert (rejected["status"], rejected["review_comment"]) == ("rejected", "Add the tracking link")
    assert rejected["reviewed_by"] == manager
    _ok(client.post(f"/v1/responses/{rid}/submit", json={"user_id": agent}, headers=headers))
    sending = _ok(
        client.post(f"/v1/responses/{rid}/approve", json={"user_id": manager}, headers=headers)
    )
    assert sending["status"] == "sending"
    mention = _ok(client.get(f"/v1/responses/{rid}", headers=headers))
    assert mention["status"] == "sending"
    assert (
        _ok(client.get("/v1/responses", params={"status": "awaiting_approval"}, headers=headers))[
            "items"
        ]
        == []
    )


def test_bad_input_is_a_422_naming_the_field_and_a_note_can_be_discarded(
    client: TestClient, database: Database, clock: FakeClock, people: People, inbox_token: str
) -> None:
    headers = auth(inbox_token)
    agent = people.agent()
    mention_id = _mention(database, clock)
    url = f"/v1/mentions/{mention_id}/responses"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"user_id": agent, "body": "   "}, "body"),
        ({"user_id": 999_999, "body": "Hi"}, "user_id"),
        ({"user_id": 2**70, "body": "Hi"}, "user_id"),
        ({"user_id": agent, "body": "Hi", "template_id": "tpl_nope"}, "template_id"),
    ]
    for body, field in cases:
        answer = client.post(url, json=body, headers=headers)
        assert answer.status_code == 422, (body, answer.text)
        assert field in [p["field"].split(".")[-1] for p in answer.json()["error"]["details"]]
    missing = client.post(
        "/v1/mentions/men_missing/responses", json={"user_id": agent, "body": "x"}, headers=headers
    )
    assert missing.status_code == 404
    note = _ok(
        client.post(
            url, json={"user_id": agent, "body": "Call back", "private": True}, headers=headers
        ),
        201,
    )
    gone = client.delete(f"/v1/responses/{note['id']}", params={"user_id": agent}, headers=headers)
    assert gone.status_code == 204
    assert client.get(f"/v1/responses/{note['id']}", headers=headers).status_code == 404


def test_templates_render_profile_values_missing_ones_empty_in_a_sandbox(
    client: TestClient, admin_token: str, people: People, inbox_token: str
) -> None:
    headers = auth(inbox_token)
    brand = Brand(client, admin_token)
    brand.post(
        "customer_record",
        {"link": {"email": "kim@example.org"}, "first_name": "Kim", "city": "Hobart"},
    )
    profile_id = brand.profile("email", "kim@example.org")["id"]
    team = people.group("Care")
    made = _ok(
        client.post(
            "/v1/templates",
            json={
                "name": "Greeting",
                "body": "Hi {{ profile.first_name }}{{ profile.last_name }} from "
                "{{ profile.city | upper }}, {{ profile.nothing.deeper }}"
                "{{ profile.support.ticket_count }}",
                "group_ids": [team],
            },
            headers=headers,
        ),
        201,
    )
    rendered = _ok(
        client.post(
            f"/v1/templates/{made['id']}/render", json={"profile_id": profile_id}, headers=headers
        )
    )
    assert rendered["body"] == "Hi Kim from HOBART, 0"
    nobody = _ok(client.post(f"/v1/templates/{made['id']}/render", json={}, headers=headers))
    assert nobody["body"] == "Hi  from , "

    # Syntax and private attributes are refused on save, naming `body`.
    for body in ("Hi {{ profile.first_name ", "{{ profile.__class__ }}", "{{ x['_secret'] }}"):
        bad = client.post("/v1/templates", json={"name": "Bad", "body": body}, headers=headers)
        assert bad.status_code == 422, body
        assert bad.json()["error"]["details"][0]["field"] == "body"
    # What fails only when rendered (here a macro calling itself) is a 422 naming `body`.
    looping = _ok(
        client.post(
            "/v1/templates",
            json={"name": "Loop", "body": "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"},
            headers=headers,
        ),
        201,
    )
    refused = client.post(f"/v1/templates/{looping['id']}/render", json={}, headers=headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"][0]["field"] == "body"
    client.delete(f"/v1/templates/{looping['id']}", headers=headers)
    taken = client.post("/v1/templates", json={"name": "greeting", "body": "x"}, headers=headers)
    assert taken.status_code == 409
    unknown_group = client.post(
        "/v1/templates", json={"name": "G", "body": "x", "group_ids": [424242]}, headers=headers
    )
    assert unknown_group.status_code == 422

    # Seen by members of its groups only; archived ones leave the list.
    member, outsider = people.agent(groups=[team]), people.agent()
    listed = _ok(client.get("/v1/templates", params={"user_id": member}, headers=headers))
    assert [t["name"] for t in listed] == ["Greeting"]
    assert _ok(client.get("/v1/templates", params={"user_id": outsider}, headers=headers)) == []
    archived = _ok(
        client.patch(f"/v1/templates/{made['id']}", json={"archived": True}, headers=headers)
    )
    assert archived["archived"] is True
    assert _ok(client.get("/v1/templates", headers=headers)) == []
    assert client.delete(f"/v1/templates/{made['id']}", headers=headers).status_code == 204
    assert client.get(f"/v1/templates/{made['id']}", headers=headers).status_code == 404
