"""Rules on arriving mentions, in order, with every action (classify, set state, assign to a
user or by group and capacity, redact), through the rules API and intake; redaction is
permanent; on both engines."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, text

from carebase.db.session import Database
from carebase.inbox import classifications, intake, queues
from carebase.models import MentionClassification
from tests.conftest import FakeClock
from tests.helpers import auth, create_dataset, post_records
from tests.inbox.conftest import People, set_presence
from tests.inbox.intake_helpers import T0, events_of, mention, message


def _classification(database: Database, name: str) -> int:
    with database.unit_of_work() as session:
        return classifications.create(session, name=name, colour="#112233", now=T0).id


def _default_queue(database: Database) -> str:
    with database.unit_of_work() as session:
        return queues.default_queue(session, T0).id


def _rule(client: TestClient, token: str, queue_id: str, name: str, **body: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/rules", json={"queue_id": queue_id, "name": name, **body}, headers=auth(token)
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _classes(database: Database, mention_id: str) -> set[int]:
    with database.unit_of_work() as session:
        return set(
            session.scalars(
                select(MentionClassification.classification_id).where(
                    MentionClassification.mention_id == mention_id
                )
            )
        )


def _receive(database: Database, *items: Any) -> list[str]:
    with database.unit_of_work() as session:
        return [r.mention_id for r in intake.receive(session, list(items), T0)]


def test_rules_run_in_order_with_every_action(
    client: TestClient, admin_token: str, database: Database, people: People
) -> None:
    queue = _default_queue(database)
    billing = _classification(database, "Billing")
    urgent = _classification(database, "Urgent")
    sam = people.agent("Sam")
    ana = people.agent("Ana")
    team = people.group("Care", members=[ana])
    with database.unit_of_work() as session:
        set_presence(session, ana, online=True, now=T0)
    r_billing = _rule(
        client,
        admin_token,
        queue,
        "billing",
        conditions={"terms": ["refund", "invoice"]},
        actions={"classify": [billing], "redact": ["cards"]},
    )
    r_spam = _rule(
        client,
        admin_token,
        queue,
        "spam",
        conditions={"terms": ["free money"]},
        actions={"state": "irrelevant"},
    )
    r_vip = _rule(
        client,
        admin_token,
        queue,
        "vip to Sam",
        conditions={"authors": ["@vip"], "source_types": ["twitter"]},
        actions={"classify": [urgent], "assign": {"user_id": sam}},
    )
    r_team = _rule(
        client,
        admin_token,
        queue,
        "email to the team",
        conditions={"source_types": ["email"]},
        actions={"assign": {"group_id": team}},
    )
    refund, spam, vip, mail, plain = _receive(
        database,
        message("m1", body="Refund to card 4111 1111 1111 1111 please"),
        message("m2", body="FREE   money inside"),
        message("m3", author_username="@vip", body="Hello, refund?"),
        message("m4", source_type="email", author_key="kim@example.org", body="Hi"),
        message("m5", body="Just saying hi"),
    )
    first = mention(database, refund)
    assert first.body == "Refund to card [CREDIT CARD REMOVED] please"
    assert first.redacted_at == T0
    assert _classes(database, refund) == {billing}
    assert ("redact", "rule", r_billing["id"], None) in events_of(database, refund)
    assert mention(database, spam).state == "irrelevant"
    assert events_of(database, spam)[-1] == ("state", "rule", r_spam["id"], "irrelevant")
    # Two rules matched, in order: classified by both, assigned by the second.
    vip_row = mention(database, vip)
    assert _classes(database, vip) == {billing, urgent}
    assert (vip_row.state, vip_row.assignee_id) == ("assigned", sam)
    assert ("assign", "rule", r_vip["id"], str(sam)) in events_of(database, vip)
    mail_row = mention(database, mail)
    assert (mail_row.state, mail_row.assignee_id, mail_row.assigned_group_id) == (
        "assigned",
        ana,
        team,
    )
    assert ("assign", "rule", r_team["id"], str(ana)) in events_of(database, mail)
    plain_row = mention(database, plain)
    assert (plain_row.state, plain_row.assignee_id, _classes(database, plain)) == (
        "new",
        None,
        set(),
    )


def test_order_stop_and_disabled_rules(
    client: TestClient, admin_token: str, database: Database
) -> None:
    queue = _default_queue(database)
    first = _rule(
        client,
        admin_token,
        queue,
        "close",
        conditions={"terms": ["thanks"]},
        actions={"state": "no_response_required"},
    )
    second = _rule(
        client,
        admin_token,
        queue,
        "irrelevant",
        conditions={"terms": ["thanks"]},
        actions={"state": "irrelevant"},
        position=0,
    )
    listed = client.get("/v1/rules", params={"queue_id": queue}, headers=auth(admin_token))
    assert [r["id"] for r in listed.json()["items"]] == [second["id"], first["id"]]
    (one,) = _receive(database, message("m1", body="thanks!"))
    # The first rule closed it; the second found it closed and left it so.
    assert mention(database, one).state == "irrelevant"
    reordered = client.post(
        "/v1/rules/reorder",
        json={"queue_id": queue, "rule_ids": [first["id"], second["id"]]},
        headers=auth(admin_token),
    )
    assert [r["position"] for r in reordered.json()["items"]] == [0, 1]
    (two,) = _receive(database, message("m2", body="thanks"))
    assert mention(database, two).state == "no_response_required"
    client.post(f"/v1/rules/{first['id']}/disable", headers=auth(admin_token))
    (three,) = _receive(database, message("m3", body="thanks"))
    assert mention(database, three).state == "irrelevant"
    client.patch(f"/v1/rules/{second['id']}", json={"enabled": False}, headers=auth(admin_token))
    client.post(f"/v1/rules/{first['id']}/enable", headers=auth(admin_token))
    client.patch(f"/v1/rules/{first['id']}", json={"stop": True}, headers=auth(admin_token))
    client.patch(f"/v1/rules/{second['id']}", json={"enabled": True}, headers=auth(admin_token))
    (four,) = _receive(database, message("m4", body="thanks"))
    assert mention(database, four).state == "no_response_required"
    assert [e[2] for e in events_of(database, four) if e[0] == "state"] == [first["id"]]


def test_rule_bodies_are_validated_naming_the_field(
    client: TestClient, admin_token: str, database: Database, people: People
) -> None:
    queue = _default_queue(database)
    archived = _classification(database, "Old")
    client.post(f"/v1/classifications/{archived}/archive", headers=auth(admin_token))
    gone = people.agent("Gone")
    people.archive(gone)

    def problems(**body: Any) -> list[str]:
        payload = {"queue_id": queue, "name": "r", **body}
        response = client.post("/v1/rules", json=payload, headers=auth(admin_token))
        assert response.status_code in (404, 422), response.text
        return [d["field"] for d in response.json()["error"]["details"] or []]

    ok_conditions = {"terms": ["x"]}
    assert problems(conditions={}, actions={"state": "closed"}) == ["conditions"]
    assert problems(conditions={"colour": []}, actions={"state": "closed"}) == [
        "body.conditions.colour"
    ]
    assert problems(conditions=ok_conditions, actions={"state": "assigned"}) == [
        "body.actions.state"
    ]
    assert problems(conditions=ok_conditions, actions={"classify": [archived]}) == [
        "actions.classify[0]"
    ]
    assert problems(conditions=ok_conditions, actions={"classify": [999]}) == [
        "actions.classify[0]"
    ]
    assert problems(conditions=ok_conditions, actions={"assign": {"user_id": gone}}) == [
        "actions.assign.user_id"
    ]
    assert problems(conditions=ok_conditions, actions={"assign": {"group_id": 999}}) == [
        "actions.assign.group_id"
    ]
    assert problems(conditions=ok_conditions, actions={}) == ["actions"]
    unknown = client.post(
        "/v1/rules",
        json={
            "queue_id": "que_nope",
            "name": "r",
            "conditions": ok_conditions,
            "actions": {"state": "closed"},
        },
        headers=auth(admin_token),
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"][0]["field"] == "queue_id"
    bad_order = client.post(
        "/v1/rules/reorder", json={"queue_id": queue, "rule_ids": ["x"]}, headers=auth(admin_token)
    )
    assert bad_order.status_code == 422
    assert bad_order.json()["error"]["details"][0]["field"] == "rule_ids"


def test_redaction_is_permanent_the_original_is_stored_nowhere(
    client: TestClient, admin_token: str, database: Database, clock: FakeClock
) -> None:
    queue = _default_queue(database)
    rule = _rule(
        client,
        admin_token,
        queue,
        "pii",
        conditions={"source_types": ["chat"]},
        actions={"redact": ["cards", "emails", "phones"]},
    )
    dataset = create_dataset(client, admin_token, "chat", "mention")
    secret = "card 4111111111111111 mail kim@secret.example phone +61 404 000 000"
    record = {
        "mention_id": "c1",
        "source_type": "chat",
        "text": secret,
        "published_at": "2026-03-02T09:00:00Z",
        "link": {"email": "kim@example.org"},
    }
    post_records(client, admin_token, dataset, "mention", [record])
    post_records(client, admin_token, dataset, "mention", [record])  # a replay
    with database.unit_of_work() as session:
        body, mention_id = session.execute(text("SELECT body, id FROM mentions")).one()
    assert body == "card [CREDIT CARD REMOVED] mail [EMAIL REMOVED] phone [PHONE REMOVED]"
    assert ("redact", "rule", rule["id"], None) in events_of(database, mention_id)
    # Nowhere in the database: not in any text column of any table.
    with database.unit_of_work() as session:
        dump = _every_text(session)
    for fragment in ("4111111111111111", "kim@secret.example", "404 000 000"):
        assert fragment not in dump
    detail = client.get(f"/v1/mentions/{mention_id}", headers=auth(admin_token)).json()
    assert "4111" not in str(detail)


def _every_text(session: Any) -> str:
    """Every row of every table, as text (a small test database)."""
    from carebase.models.base import Base

    parts = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)):
            parts.append(repr(tuple(row)))
    return "\n".join(parts)
