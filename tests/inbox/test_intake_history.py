"""Mentions, with the responses sent to them, are in the profile's history; private notes
and drafts are not. Forgetting the profile empties its responses' text."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from carebase.db.session import Database
from carebase.ids import new_id
from carebase.models import Mention, Response
from tests.helpers import Brand, auth
from tests.inbox.conftest import People
from tests.inbox.intake_helpers import T0
from tests.inbox.test_intake_record_type import record


def _response(
    database: Database, mention_id: str, body: str, *, status: str = "sent", private: bool = False
) -> None:
    with database.unit_of_work() as session:
        session.add(
            Response(
                id=new_id("rsp"),
                mention_id=mention_id,
                body=body,
                private=private,
                status=status,
                origin="console",
                agent_name="Sam",
                sent_at=T0 + timedelta(hours=1) if status == "sent" else None,
                created_at=T0,
                updated_at=T0,
            )
        )


def test_a_profiles_history_shows_its_messages_and_the_replies_sent(
    client: TestClient, admin_token: str, database: Database
) -> None:
    brand = Brand(client, admin_token)
    brand.post("mention", record("m1"))
    brand.post(
        "customer_support_ticket",
        {
            "ticket_id": "T1",
            "action_at": "2026-03-01T09:00:00Z",
            "link": {"email": "kim@example.org"},
            "timeline": {"created_at": "2026-03-01T09:00:00Z"},
        },
    )
    profile_id = brand.profile("email", "kim@example.org")["id"]
    page = client.get(f"/v1/profiles/{profile_id}/history", headers=auth(admin_token)).json()
    assert [item["type"] for item in page["items"]] == ["mention", "customer_support_ticket"]
    item = page["items"][0]
    mention_id = item["id"]
    assert item["summary"] == "Message via twitter from @kim: My parcel never arrived — new"
    assert item["dataset_id"] == brand.datasets["mention"]
    assert item["record"]["text"] == "My parcel never arrived"
    assert item["record"]["responses"] == []
    _response(database, mention_id, "On its way!")
    _response(database, mention_id, "internal: check courier", private=True)
    _response(database, mention_id, "draft", status="draft")
    only = client.get(
        f"/v1/profiles/{profile_id}/history", params={"type": "mention"}, headers=auth(admin_token)
    ).json()
    (item,) = only["items"]
    assert [r["text"] for r in item["record"]["responses"]] == ["On its way!"]
    assert item["summary"].endswith("— new, 1 reply")


def test_history_pages_through_mentions_without_repeats(
    client: TestClient, admin_token: str
) -> None:
    brand = Brand(client, admin_token)
    brand.post("mention", *[record(f"m{i}", published_at="2026-03-02T09:00:00Z") for i in range(5)])
    profile_id = brand.profile("email", "kim@example.org")["id"]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get(
            f"/v1/profiles/{profile_id}/history", params=params, headers=auth(admin_token)
        ).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5
    assert len(set(seen)) == 5


def test_forgetting_a_profile_empties_its_responses_too(
    client: TestClient, admin_token: str, database: Database, people: People
) -> None:
    """Beside test_intake_concurrency's mention test: the replies and notes written to a
    forgotten person's messages lose their text (and a reviewer's comment), keep the rest."""
    agent, manager = people.agent("Ana"), people.manager("Mo")
    people.group(members=[agent], requires_approval=True)
    brand = Brand(client, admin_token)
    brand.post(
        "mention",
        record("m1"),
        record("m3", link={"email": "sam@example.org"}, author={"id": "twitter_9"}),
    )
    with database.unit_of_work(write=False) as session:
        ids = {m.external_id: m.id for m in session.scalars(select(Mention))}
    headers = auth(admin_token)

    def write(mention_key: str, body: str, *, private: bool = False) -> str:
        drafted = client.post(
            f"/v1/mentions/{ids[mention_key]}/responses",
            json={"user_id": agent, "body": body, "private": private},
            headers=headers,
        )
        assert drafted.status_code == 201, drafted.text
        response_id: str = drafted.json()["id"]
        return response_id

    def step(response_id: str, action: str, **body: Any) -> None:
        answer = client.post(f"/v1/responses/{response_id}/{action}", json=body, headers=headers)
        assert answer.status_code == 200, answer.text

    rejected = write("m1", "Kim, we'll resend it to 1 High St")
    step(rejected, "submit", user_id=agent)
    step(rejected, "reject", user_id=manager, comment="Kim moved: check the address")
    note = write("m1", "Kim called twice about this", private=True)
    step(note, "submit", user_id=agent)
    kept = write("m3", "Sam, it's on its way")
    brand.post("forget", {"link": {"email": "kim@example.org"}})

    with database.unit_of_work(write=False) as session:
        rows = {r.id: r for r in session.scalars(select(Response))}
        session.expunge_all()
    for response_id, status in ((rejected, "rejected"), (note, "sent")):
        row = rows[response_id]
        assert (row.body, row.review_comment, row.profile_id) == ("", None, None)
        # What reports count stays: the status, who and when.
        assert (row.status, row.author_id, row.mention_id) == (status, agent, ids["m1"])
        assert row.submitted_at is not None
    assert rows[rejected].reviewed_by == manager
    assert rows[kept].body == "Sam, it's on its way", "another person's reply is untouched"
    assert rows[kept].profile_id is not None
