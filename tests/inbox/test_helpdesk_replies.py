"""reply_channels.deliver: a carebase reply posted as a public comment on the helpdesk ticket
(through the loopback fakes, which check what they are sent) and never coming back as a
second response; API-origin replies signed to the reply webhook and verified by a receiver;
failures that may pass (429) told apart from those that never will."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carebase.activation.webhook_signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_signature,
)
from carebase.app import create_app
from carebase.connectors.service import ClientOptions
from carebase.db.session import Database
from carebase.ids import new_id
from carebase.inbox import settings as inbox_settings
from carebase.inbox.reply_channels import REPLY_ID_HEADER, ReplyFailed, deliver
from carebase.jobkinds import registry
from carebase.kit.jobs import Runner, RunSummary
from carebase.models import Response
from carebase.settings import Settings
from tests.conftest import FakeClock, test_settings
from tests.connectors import fakes
from tests.connectors.conftest import FakeTimer, connect
from tests.helpers import auth
from tests.inbox.conftest import People, make_mention
from tests.inbox.helpdesk_helpers import (
    post_unsigned,
    post_zendesk,
    recorded,
    zendesk_event,
)

SECRET = "whsec_reply-webhook-secret-for-tests"
REPLY = "We're sending you a new printer today.\nSorry for the smoke!"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Connectors and the reply webhook may call loopback servers."""
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


def sending(database: Database, mention_id: str, author_id: int, now: datetime) -> str:
    """A console reply the send job is about to deliver (as D's submit leaves it)."""
    response_id = new_id("rsp")
    with database.unit_of_work() as session:
        session.add(
            Response(
                id=response_id,
                mention_id=mention_id,
                author_id=author_id,
                body=REPLY,
                private=False,
                status="sending",
                origin="console",
                origin_key="",
                submitted_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    return response_id


def mark_sent(database: Database, response_id: str, external_id: str, now: datetime) -> None:
    """What the send job records once deliver() answered."""
    with database.unit_of_work() as session:
        row = session.get(Response, response_id)
        assert row is not None
        row.status, row.external_id, row.sent_at = "sent", external_id, now


def test_a_reply_is_a_public_zendesk_comment_and_its_echo_is_not_a_second_response(
    client: TestClient,
    admin_token: str,
    database: Database,
    settings: Settings,
    options: ClientOptions,
    clock: FakeClock,
    settle: Callable[[], RunSummary],
    people: People,
) -> None:
    agent = people.agent("Robin")
    comments, _audits = fakes.zendesk_conversation()
    fake = fakes.zendesk({35436: fakes.zendesk_ticket(35436)}, comments={35436: comments})
    with fakes.serve(fake):
        connector = connect(client, admin_token, "zendesk", fake.url)
        post_zendesk(client, connector, zendesk_event(35436, "evt-1"), stamp(clock))
        settle()
        before = recorded(database, connector.id)
        mention = before.mention("505")
        response_id = sending(database, mention.id, agent, clock())

        result = deliver(database, response_id, settings=settings, options=options, now=clock())

        assert result.channel == "zendesk"
        [(method, path, body)] = fake.writes
        assert (method, path) == ("PUT", "/api/v2/tickets/35436.json")
        assert body == {"ticket": {"comment": {"body": REPLY, "public": True}}}
        posted = comments[-1]
        assert str(posted["id"]) == result.external_id, "the id read from the answer's audit"
        assert posted["public"] is True

        # Zendesk's webhook fires for the new comment before the send job recorded the id.
        post_zendesk(client, connector, zendesk_event(35436, "evt-2"), stamp(clock))
        settle()
        racing = recorded(database, connector.id)
        # Then the job records it; and Zendesk sends another event.
        mark_sent(database, response_id, result.external_id, clock())
        post_zendesk(client, connector, zendesk_event(35436, "evt-3"), stamp(clock))
        settle()
        after = recorded(database, connector.id)
    ours = [r for r in after.responses if r.id == response_id]
    assert len(ours) == 1
    for seen in (racing, after):
        assert len(seen.responses) == len(before.responses) + 1, "only carebase's own reply"
        assert [r.external_id for r in seen.responses if r.origin == "zendesk"] == ["504"]
        assert [m.id for m in seen.mentions] == [m.id for m in before.mentions]


def test_gorgias_and_freshdesk_replies_go_through_their_apis(
    client: TestClient,
    admin_token: str,
    database: Database,
    settings: Settings,
    options: ClientOptions,
    clock: FakeClock,
    settle: Callable[[], RunSummary],
    people: People,
) -> None:
    agent = people.agent("Robin")
    g_ticket = fakes.gorgias_ticket(9001)
    with (
        fakes.serve(fakes.gorgias({9001: g_ticket})) as gorgias,
        fakes.serve(fakes.freshdesk({101: fakes.freshdesk_ticket(101)})) as freshdesk,
    ):
        g = connect(client, admin_token, "gorgias", gorgias.url)
        f = connect(client, admin_token, "freshdesk", freshdesk.url)
        post_unsigned(client, g, 9001)
        post_unsigned(client, f, 101)
        settle()
        g_mention = recorded(database, g.id).mention("6")
        f_mention = recorded(database, f.id).mention("3")
        g_reply = sending(database, g_mention.id, agent, clock())
        f_reply = sending(database, f_mention.id, agent, clock())

        g_result = deliver(database, g_reply, settings=settings, options=options, now=clock())
        f_result = deliver(database, f_reply, settings=settings, options=options, now=clock())

        [(method, path, message)] = gorgias.writes
        assert (method, path) == ("POST", "/api/tickets/9001/messages")
        assert message["from_agent"] is True
        assert message["public"] is True
        assert (message["channel"], message["via"]) == ("chat", "api")
        assert message["body_text"] == REPLY
        assert message["receiver"] == {"id": 7}, "the ticket's customer"
        assert message["sender"] == {"email": "api@acme.com"}
        assert g_result.channel == "gorgias"
        assert g_result.external_id == str(g_ticket["messages"][-1]["id"])
        [(method, path, reply)] = freshdesk.writes
        assert (method, path) == ("POST", "/api/v2/tickets/101/reply")
        assert reply["body"] == REPLY.replace("'", "&#x27;").replace("\n", "<br>\n")
        assert f_result.channel == "freshdesk"
        assert f_result.external_id.isdigit()

        # Their echoes, once recorded by the send job, are not second responses.
        mark_sent(database, g_reply, g_result.external_id, clock())
        mark_sent(database, f_reply, f_result.external_id, clock())
        post_unsigned(client, g, 9001)
        post_unsigned(client, f, 101)
        clock.advance(1)
        settle()
    for connector, ours in ((g, g_reply), (f, f_reply)):
        responses = recorded(database, connector.id).responses
        echoes = [r for r in responses if r.external_id == external_id_of(responses, ours)]
        assert [r.id for r in echoes] == [ours]


def external_id_of(responses: list[Response], response_id: str) -> str | None:
    return next(r.external_id for r in responses if r.id == response_id)


@dataclass
class Receiver:
    """A loopback reply-webhook receiver that verifies each request's signature."""

    url: str = ""
    received: list[tuple[bool, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    status: int = 200


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            genuine = verify_signature(
                SECRET,
                self.headers.get(TIMESTAMP_HEADER, ""),
                raw,
                self.headers.get(SIGNATURE_HEADER, ""),
                now=time.time(),
            )
            state.received.append((genuine, orjson.loads(raw), dict(self.headers)))
            answer = orjson.dumps({"id": "ext-77"} if genuine else {"error": "bad signature"})
            self.send_response(state.status if genuine else 401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/replies"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def reply_destination(client: TestClient, token: str, url: str, secret: str = SECRET) -> str:
    answer = client.post(
        "/v1/destinations",
        json={
            "name": f"Replies {secret[-4:]}",
            "kind": "webhook",
            "config": {"url": url},
            "secrets": {"signing_secret": secret},
        },
        headers=auth(token),
    )
    assert answer.status_code == 201, answer.text
    destination_id: str = answer.json()["id"]
    return destination_id


def test_an_api_origin_reply_is_signed_to_the_reply_webhook(
    client: TestClient,
    admin_token: str,
    database: Database,
    settings: Settings,
    clock: FakeClock,
    people: People,
) -> None:
    agent = people.agent("Robin")
    # Real time: the receiver checks the signature's timestamp against its own clock.
    options = ClientOptions(sleep=lambda _s: None, timer=time.time, clock=clock)
    with receiver() as hook:
        with database.unit_of_work() as session:
            mention = make_mention(session, conversation_ref="conv-9", thread_key="t-9")
            mention_id, external_id = mention.id, mention.external_id
        response_id = sending(database, mention_id, agent, clock())
        with pytest.raises(ReplyFailed) as unset:
            deliver(database, response_id, settings=settings, options=options, now=clock())
        assert not unset.value.retryable
        assert "reply destination" in unset.value.message

        destination = reply_destination(client, admin_token, hook.url)
        with database.unit_of_work() as session:
            inbox_settings.update_settings(session, {"reply_destination_id": destination}, clock())
        result = deliver(database, response_id, settings=settings, options=options, now=clock())
    assert (result.channel, result.external_id) == ("webhook", "ext-77")
    [(genuine, body, headers)] = hook.received
    assert genuine, "the receiver verified the signature"
    assert headers[REPLY_ID_HEADER] == response_id
    assert body["type"] == "inbox.reply"
    assert (body["response_id"], body["mention_id"]) == (response_id, mention_id)
    assert (body["mention_external_id"], body["conversation_ref"]) == (external_id, "conv-9")
    assert body["body"] == REPLY
    assert body["author"] == {"user_id": agent, "name": "Robin Test"}


def test_what_may_pass_later_is_told_from_what_never_will(
    client: TestClient,
    admin_token: str,
    database: Database,
    settings: Settings,
    options: ClientOptions,
    clock: FakeClock,
    people: People,
) -> None:
    agent = people.agent("Robin")
    fake = fakes.zendesk({35436: fakes.zendesk_ticket(35436)})
    with fakes.serve(fake):
        connector = connect(client, admin_token, "zendesk", fake.url)
        with database.unit_of_work() as session:
            mention = make_mention(
                session, origin="zendesk", origin_key=connector.id, conversation_ref="35436"
            )
            gone = make_mention(
                session, origin="zendesk", origin_key=connector.id, conversation_ref="404"
            )
            mention_id, gone_id = mention.id, gone.id
        missing = sending(database, gone_id, agent, clock())
        with pytest.raises(ReplyFailed) as refused:
            deliver(database, missing, settings=settings, options=options, now=clock())
        assert not refused.value.retryable
        assert "404" in refused.value.message

        response_id = sending(database, mention_id, agent, clock())
        fake.failures.append((429, "120"))
        with pytest.raises(ReplyFailed) as limited:
            deliver(database, response_id, settings=settings, options=options, now=clock())
        assert limited.value.retryable
        assert limited.value.retry_after == 120
        assert [path for _m, path, _b in fake.writes] == ["/api/v2/tickets/404.json"], (
            "the 429 was not applied"
        )

    with database.unit_of_work() as session:
        note = session.get(Response, response_id)
        assert note is not None
        note.private = True
    with pytest.raises(ReplyFailed) as private:
        deliver(database, response_id, settings=settings, options=options, now=clock())
    assert not private.value.retryable


@pytest.mark.parametrize("approval", [False, True], ids=["straight", "approved"])
def test_a_reply_written_in_carebase_reaches_zendesk_through_the_api_and_the_job(
    approval: bool,
    client: TestClient,
    admin_token: str,
    database: Database,
    clock: FakeClock,
    settle: Callable[[], RunSummary],
    people: People,
) -> None:
    """End to end: the ticket arrives by webhook, the agent drafts and submits (a manager
    approves when the agent's group requires it), the reply job posts it once."""
    agent, manager = people.agent("Robin"), people.manager("Morgan")
    people.group(members=[agent], requires_approval=approval)
    comments, _audits = fakes.zendesk_conversation()
    fake = fakes.zendesk({35436: fakes.zendesk_ticket(35436)}, comments={35436: comments})
    headers = auth(admin_token)
    with fakes.serve(fake):
        connector = connect(client, admin_token, "zendesk", fake.url)
        post_zendesk(client, connector, zendesk_event(35436, "evt-1"), stamp(clock))
        settle()
        mention = recorded(database, connector.id).mention("505")
        drafted = client.post(
            f"/v1/mentions/{mention.id}/responses",
            json={"user_id": agent, "body": REPLY},
            headers=headers,
        )
        assert drafted.status_code == 201, drafted.text
        response_id = drafted.json()["id"]
        submitted = client.post(
            f"/v1/responses/{response_id}/submit", json={"user_id": agent}, headers=headers
        )
        assert submitted.json()["status"] == ("awaiting_approval" if approval else "sending")
        if approval:
            settle()
            assert fake.writes == [], "nothing reaches Zendesk before a manager approves"
            approved = client.post(
                f"/v1/responses/{response_id}/approve", json={"user_id": manager}, headers=headers
            )
            assert approved.json()["status"] == "sending", approved.text
        settle()  # the inbox_reply_send job
        # Zendesk's webhook then announces the new comment: it is carebase's own reply.
        post_zendesk(client, connector, zendesk_event(35436, "evt-2"), stamp(clock))
        settle()
        sent = client.get(f"/v1/responses/{response_id}", headers=headers).json()
        after = recorded(database, connector.id)

    [(method, path, body)] = fake.writes
    assert (method, path) == ("PUT", "/api/v2/tickets/35436.json")
    assert body == {"ticket": {"comment": {"body": REPLY, "public": True}}}
    [posted] = [c for c in comments if c["body"] == REPLY]
    assert posted["public"] is True
    assert (sent["status"], sent["external_id"], sent["error"]) == ("sent", str(posted["id"]), None)
    assert sent["reviewed_by"] == (manager if approval else None)
    assert after.mention("505").state == "responded"
    assert [r.id for r in after.responses if r.mention_id == mention.id] == [response_id]
