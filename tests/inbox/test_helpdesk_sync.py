"""A helpdesk ticket's conversation, delivered through the S4 connector's webhook delivery
job (and a backfill), becomes inbox work: mentions, sent responses and state changes at the
helpdesk's times, once however often it is delivered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from carebase.app import create_app
from carebase.connectors import backfill
from carebase.connectors.conversations import Conversation, Message, StatusChange
from carebase.connectors.service import WEBHOOK_DELIVERY, ClientOptions
from carebase.db.session import Database
from carebase.inbox import helpdesk_sync
from carebase.ingest.service import IngestConfig
from carebase.jobkinds import registry
from carebase.kit.jobs import Runner, RunSummary
from carebase.models import Job, Mention
from carebase.settings import Settings
from tests.conftest import FakeClock, test_settings
from tests.connectors import fakes
from tests.connectors.conftest import FakeTimer, connect
from tests.helpers import auth
from tests.inbox.conftest import People
from tests.inbox.helpdesk_helpers import (
    at,
    post_unsigned,
    post_zendesk,
    recorded,
    ticket_profile,
    zendesk_event,
)

HELPDESK = ("helpdesk", "zendesk")


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Connectors may call the loopback fakes."""
    return test_settings(database_url, allow_private_outbound=True)


@pytest.fixture
def options(clock: FakeClock) -> ClientOptions:
    """Waits cost nothing; pacing is measured on a clock only sleeping moves."""
    timer = FakeTimer([])
    return ClientOptions(sleep=timer.sleep, timer=timer.time, clock=clock)


@pytest.fixture
def app(
    settings: Settings, database: Database, clock: FakeClock, options: ClientOptions
) -> FastAPI:
    """The real app; webhook deliveries run when the test settles them."""
    application = create_app(settings, database=database, clock=clock, run_jobs=False)
    application.state.connector_options = options
    return application


@pytest.fixture
def settle(
    database: Database, settings: Settings, options: ClientOptions, clock: FakeClock
) -> Callable[[], RunSummary]:
    """Run every due job now, as a worker would."""
    return Runner(database, registry(settings, options=options), clock=clock).run_due


def stamp(clock: FakeClock) -> str:
    return clock().isoformat().replace("+00:00", "Z")


def test_a_zendesk_conversation_becomes_mentions_responses_and_closes(
    client: TestClient,
    admin_token: str,
    database: Database,
    clock: FakeClock,
    settle: Callable[[], RunSummary],
    people: People,
) -> None:
    matt = people.user("Matt", email="Matt@Acme.com")  # the Zendesk agent, matched by email
    comments, audits = fakes.zendesk_conversation()
    ticket = fakes.zendesk_ticket(35436, status="solved")
    fake = fakes.zendesk({35436: ticket}, comments={35436: comments}, audits={35436: audits})
    with fakes.serve(fake):
        connector = connect(client, admin_token, "zendesk", fake.url)
        post_zendesk(client, connector, zendesk_event(35436, "evt-1"), stamp(clock))
        settle()
        first = recorded(database, connector.id)
        # Delivered again (a new event about the same ticket, and Zendesk retrying it).
        post_zendesk(client, connector, zendesk_event(35436, "evt-2"), stamp(clock))
        settle()
        again = recorded(database, connector.id)
    profile_id = ticket_profile(database, connector.dataset_id, "35436")

    # Customer comments 501 and 505 are mentions; the automation's (502) and the private
    # note (503) are not; the agent's public reply (504) is a sent response.
    assert [m.external_id for m in first.mentions] == ["501", "505"]
    asked, followed_up = first.mention("501"), first.mention("505")
    for mention in (asked, followed_up):
        assert (mention.origin, mention.origin_key) == ("zendesk", connector.id)
        assert (mention.conversation_ref, mention.thread_key) == ("35436", "35436")
        assert mention.profile_id == profile_id, "the ticket's requester's profile"
        assert mention.source_type == "email"
    assert asked.body == "Printer on fire"
    assert asked.published_at == at("2024-11-06T08:00:00Z")
    [reply] = first.responses
    assert (reply.origin, reply.origin_key, reply.external_id) == ("zendesk", connector.id, "504")
    assert (reply.status, reply.private, reply.author_id) == ("sent", False, matt)
    assert reply.mention_id == asked.id
    assert reply.sent_at == at("2024-11-06T08:20:00Z")
    assert asked.first_response_at == at("2024-11-06T08:20:00Z")
    assert asked.first_responder_id == matt

    # The event log, at Zendesk's times: received, answered by Matt, closed by the solve.
    user = ("user", None)
    assert first.trail(asked.id) == [
        ("received", at("2024-11-06T08:00:00Z"), asked.queue_id, "system", "intake"),
        ("state", at("2024-11-06T08:20:00Z"), "responded", *user),
        ("response", at("2024-11-06T08:20:00Z"), reply.id, *user),
        ("state", at("2024-11-06T10:00:00Z"), "closed", *HELPDESK),
    ]
    assert first.trail(followed_up.id) == [
        ("received", at("2024-11-06T09:00:00Z"), followed_up.queue_id, "system", "intake"),
        ("state", at("2024-11-06T10:00:00Z"), "closed", *HELPDESK),
    ]
    assert (asked.state, followed_up.state) == ("closed", "closed")

    # Re-delivery changes nothing.
    assert [m.id for m in again.mentions] == [m.id for m in first.mentions]
    assert [r.id for r in again.responses] == [reply.id]
    assert [e.id for e in again.events] == [e.id for e in first.events]
    # Each delivery's job says what the inbox made of it.
    with database.unit_of_work(write=False) as session:
        results = session.scalars(
            select(Job.result).where(Job.kind == WEBHOOK_DELIVERY.name).order_by(Job.created_at)
        ).all()
    made = {"mentions_created": 2, "responses_created": 1, "echoes": 0, "closed": 2}
    assert [result["inbox"] for result in results] == [
        {**made, "reopened": 0, "refused": 0},
        {**dict.fromkeys(made, 0), "reopened": 0, "refused": 0},
    ]


def test_a_reply_awaiting_approval_is_not_closed_by_the_helpdesk(
    client: TestClient,
    admin_token: str,
    database: Database,
    clock: FakeClock,
    settle: Callable[[], RunSummary],
) -> None:
    """A refused transition is skipped: the delivery still succeeds and the rest applies."""
    comments, _audits = fakes.zendesk_conversation()
    held_comments = {35436: comments[:1]}
    held_audits: dict[int, list[dict[str, Any]]] = {}
    fake = fakes.zendesk(
        {35436: fakes.zendesk_ticket(35436)}, comments=held_comments, audits=held_audits
    )
    with fakes.serve(fake):
        connector = connect(client, admin_token, "zendesk", fake.url)
        post_zendesk(client, connector, zendesk_event(35436, "evt-1"), stamp(clock))
        settle()
        [mention] = recorded(database, connector.id).mentions
        with database.unit_of_work() as session:
            row = session.get(Mention, mention.id)
            assert row is not None
            row.state = "awaiting_approval"  # an agent's reply waits for a manager
        # Later the customer writes again and the ticket is solved in Zendesk.
        held_comments[35436] = [comments[0], comments[4]]
        held_audits[35436] = [
            fakes.zendesk_status_audit(702, "2024-11-06T10:00:00Z", "open", "solved")
        ]
        post_zendesk(client, connector, zendesk_event(35436, "evt-2"), stamp(clock))
        settle()
        after = recorded(database, connector.id)
    deliveries = client.get(
        f"/v1/connectors/{connector.id}/deliveries", headers=auth(admin_token)
    ).json()["deliveries"]
    assert {d["status"] for d in deliveries} == {"done"}, "a refusal is not a failure"
    assert after.mention("501").state == "awaiting_approval"
    assert after.mention("505").state == "closed", "the rest of the conversation applied"


def test_gorgias_and_freshdesk_conversations_are_mapped(
    client: TestClient,
    admin_token: str,
    database: Database,
    clock: FakeClock,
    settle: Callable[[], RunSummary],
) -> None:
    with (
        fakes.serve(fakes.gorgias({9001: fakes.gorgias_ticket(9001)})) as gorgias,
        fakes.serve(fakes.freshdesk({101: fakes.freshdesk_ticket(101)})) as freshdesk,
    ):
        g = connect(client, admin_token, "gorgias", gorgias.url)
        f = connect(client, admin_token, "freshdesk", freshdesk.url)
        post_unsigned(client, g, 9001)
        post_unsigned(client, f, 101)
        settle()
        post_unsigned(client, g, 9001)  # again: nothing more
        settle()
    got = recorded(database, g.id)
    # Customer messages 1, 5, 6; agent replies 4 and 7 (2 is a rule's, 3 an internal note).
    assert [m.external_id for m in got.mentions] == ["1", "5", "6"]
    assert all(m.thread_key == "9001" and m.source_type == "chat" for m in got.mentions)
    assert got.mention("1").author_fullname == "Jane Doe"
    assert got.mention("1").profile_id == ticket_profile(database, g.dataset_id, "9001")
    assert [(r.external_id, r.agent_name, r.author_id) for r in got.responses] == [
        ("4", "Priya S", None),
        ("7", "Sam K", None),
    ]
    assert [r.mention_id for r in got.responses] == [got.mention("1").id, got.mention("6").id]
    # Gorgias has no status history: the ticket's closing (11:00) closes what was open.
    closing = ("state", at("2024-02-14T11:00:00Z"), "closed", "helpdesk", "gorgias")
    assert all(closing in got.trail(m.id) for m in got.mentions)
    # An unmatched agent answers as the helpdesk.
    assert ("response", at("2024-02-14T09:30:00Z"), got.responses[0].id, "helpdesk", "gorgias") in (
        got.trail(got.mention("1").id)
    )

    fd = recorded(database, f.id)
    # The description is the first customer message; conversation 3 the second.
    assert [m.external_id for m in fd.mentions] == ["ticket:101", "3"]
    assert fd.mention("ticket:101").body == "Please refund order 1234"
    assert [(r.external_id, r.agent_name) for r in fd.responses] == [
        ("1", "Chen L"),
        ("4", "Chen L"),
    ]
    assert {m.state for m in fd.mentions} == {"closed"}, "resolved (4) closes"


def test_a_backfill_brings_conversations_with_their_tickets(
    client: TestClient,
    admin_token: str,
    database: Database,
    settings: Settings,
    options: ClientOptions,
) -> None:
    comments, audits = fakes.zendesk_conversation()
    tickets = {
        35436: fakes.zendesk_ticket(35436, status="solved"),
        35437: fakes.zendesk_ticket(35437, updated_at="2024-11-06T11:00:00Z"),
    }
    fake = fakes.zendesk(tickets, comments={35436: comments}, audits={35436: audits})
    with fakes.serve(fake):
        connector = connect(client, admin_token, "zendesk", fake.url)
        summary = backfill.run(
            database,
            connector.id,
            since=datetime.fromisoformat("2024-11-01T00:00:00+00:00"),
            settings=settings,
            config=IngestConfig.from_settings(settings),
            options=options,
        )
        assert summary.created == 2
        assert summary.inbox["mentions_created"] == 2
        assert summary.inbox["responses_created"] == 1
        first = recorded(database, connector.id)
        backfill.run(
            database,
            connector.id,
            since=datetime.fromisoformat("2024-11-01T00:00:00+00:00"),
            settings=settings,
            config=IngestConfig.from_settings(settings),
            options=options,
            restart=True,
        )
        again = recorded(database, connector.id)
    assert "/api/v2/tickets/35437/comments.json?include=users" in fake.requests
    assert [m.external_id for m in first.mentions] == ["501", "505"]
    assert [r.external_id for r in first.responses] == ["504"]
    assert {m.state for m in first.mentions} == {"closed"}
    assert [e.id for e in again.events] == [e.id for e in first.events], "nothing twice"


def set_state(client: TestClient, token: str, mention_id: str, user_id: int, state: str) -> None:
    """An agent moves a mention in carebase (the inbox API)."""
    answer = client.post(
        f"/v1/mentions/{mention_id}/state",
        json={"user_id": user_id, "state": state},
        headers=auth(token),
    )
    assert answer.status_code == 200, answer.text


def test_a_zendesk_ticket_reopened_reopens_what_its_solve_closed(
    client: TestClient,
    admin_token: str,
    database: Database,
    clock: FakeClock,
    settle: Callable[[], RunSummary],
    people: People,
) -> None:
    matt = people.user("Matt", email="matt@acme.com")
    comments, audits = fakes.zendesk_conversation()
    ticket = fakes.zendesk_ticket(35436, status="solved")
    fake = fakes.zendesk({35436: ticket}, comments={35436: comments}, audits={35436: audits})
    with fakes.serve(fake):
        connector = connect(client, admin_token, "zendesk", fake.url)
        post_zendesk(client, connector, zendesk_event(35436, "evt-1"), stamp(clock))
        settle()
        solved = recorded(database, connector.id)
        # The customer writes again on the solved ticket: Zendesk re-opens it.
        comments.append(
            fakes.zendesk_comment(506, 20978392, "2024-11-06T11:00:00Z", "Again!", via="email")
        )
        audits.append(fakes.zendesk_status_audit(703, "2024-11-06T11:00:00Z", "solved", "open"))
        ticket.update(status="open", updated_at="2024-11-06T11:00:00Z")
        post_zendesk(client, connector, zendesk_event(35436, "evt-2"), stamp(clock))
        settle()
        reopened = recorded(database, connector.id)
        post_zendesk(client, connector, zendesk_event(35436, "evt-3"), stamp(clock))
        settle()
        again = recorded(database, connector.id)

    assert {m.state for m in solved.mentions} == {"closed"}
    asked, followed_up = reopened.mention("501"), reopened.mention("505")
    # Matt's reply assigned 501 to him: it re-opens to him; 505 had nobody: back to the queue.
    assert (asked.state, asked.assignee_id) == ("assigned", matt)
    assert (followed_up.state, followed_up.assignee_id) == ("new", None)
    assert asked.state_at == at("2024-11-06T11:00:00Z"), "at Zendesk's time"
    assert reopened.mention("506").state == "new", "the new message is new work"
    assert reopened.trail(asked.id, ("state",))[-2:] == [
        ("state", at("2024-11-06T10:00:00Z"), "closed", *HELPDESK),
        ("state", at("2024-11-06T11:00:00Z"), "assigned", *HELPDESK),
    ]
    assert reopened.trail(followed_up.id, ("state",)) == [
        ("state", at("2024-11-06T10:00:00Z"), "closed", *HELPDESK),
        ("state", at("2024-11-06T11:00:00Z"), "new", *HELPDESK),
    ]
    # The pending (08:20) while the ticket was open changed nothing: no waiting state.
    assert all(
        e.at != at("2024-11-06T08:20:00Z")
        for e in solved.events
        if e.kind == "state" and e.actor_type == "helpdesk"
    )
    # Delivered again: nothing re-closes, nothing re-opens twice.
    assert [e.id for e in again.events] == [e.id for e in reopened.events]
    assert [m.state for m in again.mentions] == ["assigned", "new", "new"]


def test_an_agents_close_in_carebase_is_not_undone_by_a_zendesk_reopen(
    client: TestClient,
    admin_token: str,
    database: Database,
    clock: FakeClock,
    settle: Callable[[], RunSummary],
    people: People,
) -> None:
    matt = people.user("Matt", email="matt@acme.com")
    comments, audits = fakes.zendesk_conversation()
    ticket = fakes.zendesk_ticket(35436, status="solved")
    fake = fakes.zendesk({35436: ticket}, comments={35436: comments}, audits={35436: audits})
    with fakes.serve(fake):
        connector = connect(client, admin_token, "zendesk", fake.url)
        post_zendesk(client, connector, zendesk_event(35436, "evt-1"), stamp(clock))
        settle()
        asked = recorded(database, connector.id).mention("501")
        # Matt re-opens 501 in carebase and closes it himself (before Zendesk's re-open).
        set_state(client, admin_token, asked.id, matt, "new")
        clock.advance(60)
        set_state(client, admin_token, asked.id, matt, "closed")
        # Zendesk re-opens the ticket the next day (after the clock's now).
        audits.append(fakes.zendesk_status_audit(703, "2026-11-24T09:00:00Z", "solved", "open"))
        post_zendesk(client, connector, zendesk_event(35436, "evt-2"), stamp(clock))
        settle()
        reopened = recorded(database, connector.id)
        # After the re-open, Matt closes 505 in carebase; Zendesk sends the ticket again.
        clock.advance(2 * 86400)
        set_state(client, admin_token, reopened.mention("505").id, matt, "closed")
        post_zendesk(client, connector, zendesk_event(35436, "evt-3"), stamp(clock))
        settle()
        after = recorded(database, connector.id)

    assert reopened.mention("501").state == "closed", "Matt's close, not Zendesk's: it stands"
    assert reopened.mention("505").state == "new", "the solve's close is re-opened"
    assert after.mention("505").state == "closed", "a later close in carebase stands"
    assert after.trail(after.mention("505").id, ("state",))[-1][3:] == ("user", None)
    assert len(after.events) == len(reopened.events) + 1, "only Matt's close"


def test_gorgias_and_freshdesk_reopened_tickets_reopen_their_mentions(
    client: TestClient,
    admin_token: str,
    database: Database,
    clock: FakeClock,
    settle: Callable[[], RunSummary],
    people: People,
) -> None:
    agent = people.agent("Kim")
    gorgias_ticket = fakes.gorgias_ticket(9001)
    freshdesk_ticket = fakes.freshdesk_ticket(101)
    with (
        fakes.serve(fakes.gorgias({9001: gorgias_ticket})) as gorgias,
        fakes.serve(fakes.freshdesk({101: freshdesk_ticket})) as freshdesk,
    ):
        g = connect(client, admin_token, "gorgias", gorgias.url)
        f = connect(client, admin_token, "freshdesk", freshdesk.url)
        post_unsigned(client, g, 9001)
        post_unsigned(client, f, 101)
        settle()
        closed_g, closed_f = recorded(database, g.id), recorded(database, f.id)
        # Both helpdesks re-open their ticket; neither keeps a status history: the ticket's
        # last update is when.
        gorgias_ticket.update(
            status="open", closed_datetime=None, updated_datetime="2024-02-15T08:00:00+00:00"
        )
        freshdesk_ticket.update(status=2, updated_at="2024-03-02T09:00:00Z")
        post_unsigned(client, g, 9001)
        post_unsigned(client, f, 101)
        settle()
        open_g, open_f = recorded(database, g.id), recorded(database, f.id)
        # An agent closes one Freshdesk mention in carebase; the ticket is updated again
        # (still open) and delivered again, with the Gorgias one.
        set_state(client, admin_token, open_f.mention("3").id, agent, "closed")
        freshdesk_ticket.update(updated_at="2024-03-03T09:00:00Z")
        post_unsigned(client, g, 9001)
        post_unsigned(client, f, 101)
        settle()
        again_g, again_f = recorded(database, g.id), recorded(database, f.id)

    assert {m.state for m in closed_g.mentions} == {"closed"}
    assert {m.state for m in closed_f.mentions} == {"closed"}
    assert [m.state for m in open_g.mentions] == ["new", "new", "new"]
    reopening = ("state", at("2024-02-15T08:00:00Z"), "new", "helpdesk", "gorgias")
    assert all(open_g.trail(m.id)[-1] == reopening for m in open_g.mentions)
    assert [m.state for m in open_f.mentions] == ["new", "new"]
    assert open_f.trail(open_f.mention("3").id)[-1] == (
        ("state", at("2024-03-02T09:00:00Z"), "new", "helpdesk", "freshdesk")
    )
    # Applying again changes nothing; the agent's close stands.
    assert [e.id for e in again_g.events] == [e.id for e in open_g.events]
    assert [m.state for m in again_f.mentions] == ["new", "closed"]


def test_the_sync_summary_counts_each_close_and_reopen_once(
    database: Database, clock: FakeClock
) -> None:
    """Applied directly: the counts a delivery's sync reports."""
    asked = Message("801", True, "Where is my parcel?", at("2024-11-06T08:00:00Z"))
    solved = StatusChange("91", at("2024-11-06T10:00:00Z"), "solved", closed=True)
    pending = StatusChange("92", at("2024-11-06T11:00:00Z"), "pending", False, reopened=True)

    def apply(*changes: StatusChange) -> helpdesk_sync.SyncSummary:
        conversation = Conversation("77", messages=[asked], status_changes=list(changes))
        with database.unit_of_work() as session:
            return helpdesk_sync.apply_conversation(
                session,
                kind="zendesk",
                connector_id="con_summary",
                dataset_id="dst_none",
                conversation=conversation,
                now=clock(),
            )

    first = apply(solved)
    assert (first.mentions_created, first.closed, first.reopened) == (1, 1, 0)
    reopened = apply(solved, pending)  # back to pending after the solve: a re-open
    assert (reopened.mentions_created, reopened.closed, reopened.reopened) == (0, 0, 1)
    again = apply(solved, pending)
    assert (again.mentions_created, again.closed, again.reopened, again.refused) == (0, 0, 0, [])
