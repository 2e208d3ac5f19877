"""Pure pieces of the connectors: signature verification, webhook parsing, vocabularies,
conversation timelines, the outbound guard and the credential cipher."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from carebase import crypto
from carebase.connectors import freshdesk, gorgias, zendesk
from carebase.connectors.mapping import MappingError, Message, conversation_timeline
from carebase.http.outbound import (
    HelpdeskClient,
    OutboundRefused,
    Pacer,
    Pacing,
    check_destination,
)

SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
STAMP = "2021-07-25T10:00:00Z"
BODY = b'{"ticket":{"id":1}}'
# Computed once with Python's hmac over STAMP + BODY and kept: a fixed regression vector.
SIGNATURE = "aWoPloMkZyNS4DSjC/50ve/lsNI3ZwWAgoXgBgGqfzQ="
NOW = datetime(2021, 7, 25, 10, 1, tzinfo=UTC)
WINDOW = timedelta(minutes=5)


def test_zendesk_signature_known_vector() -> None:
    assert (
        zendesk.verify_signature(SECRET, SIGNATURE, STAMP, BODY, now=NOW, tolerance=WINDOW) is None
    )


@pytest.mark.parametrize(
    ("signature", "stamp", "body", "now", "reason"),
    [
        (SIGNATURE, STAMP, b'{"ticket":{"id":2}}', NOW, "does not match"),
        (SIGNATURE, STAMP, b'{"ticket": {"id": 1}}', NOW, "does not match"),
        (SIGNATURE, "2021-07-25T10:00:01Z", BODY, NOW, "does not match"),
        (SIGNATURE, STAMP, BODY, NOW + timedelta(minutes=10), "outside the allowed window"),
        (SIGNATURE, STAMP, BODY, NOW - timedelta(minutes=10), "outside the allowed window"),
        (SIGNATURE, "yesterday", BODY, NOW, "not an ISO 8601 time"),
        (None, STAMP, BODY, NOW, "missing"),
        (SIGNATURE, None, BODY, NOW, "missing"),
    ],
)
def test_zendesk_signature_rejections(
    signature: str | None, stamp: str | None, body: bytes, now: datetime, reason: str
) -> None:
    problem = zendesk.verify_signature(SECRET, signature, stamp, body, now=now, tolerance=WINDOW)
    assert problem is not None
    assert reason in problem


def test_webhook_parsing_finds_the_ticket_and_a_stable_delivery_key() -> None:
    event = zendesk.parse_webhook(
        {
            "type": "zen:event-type:ticket.created",
            "id": "e1",
            "subject": "zen:ticket:9",
            "detail": {},
        },
        b"...",
    )
    assert (event.ticket_id, event.delivery_key) == ("9", "event:e1")
    trigger = zendesk.parse_webhook({"ticket_id": 12}, b'{"ticket_id": 12}')
    assert trigger.ticket_id == "12"
    assert (
        trigger.delivery_key
        == zendesk.parse_webhook({"ticket_id": 12}, b'{"ticket_id": 12}').delivery_key
    )
    assert gorgias.parse_webhook({"ticket": {"id": 3}}, b"x").ticket_id == "3"
    assert (
        freshdesk.parse_webhook({"freshdesk_webhook": {"ticket_id": "#44"}}, b"x").ticket_id == "44"
    )
    with pytest.raises(MappingError, match="not a ticket event"):
        zendesk.parse_webhook(
            {"type": "zen:event-type:user.created", "id": "e2", "detail": {"id": "55"}}, b"x"
        )
    for parse in (zendesk.parse_webhook, gorgias.parse_webhook, freshdesk.parse_webhook):
        with pytest.raises(MappingError):
            parse({"ticket_id": "abc"}, b"x")
        with pytest.raises(MappingError):
            parse([1, 2], b"x")


def test_vocabularies_map_and_keep_the_original() -> None:
    ticket = zendesk.map_ticket(
        {"id": 1, "status": "hold", "via": {"channel": "native_messaging"}, "updated_at": "x"},
        {},
        None,
        "https://acme.zendesk.com",
    )
    assert (ticket["status"], ticket["custom_fields"]["helpdesk_status"]) == ("pending", "hold")
    assert ticket["channel"]["type"] == ["chat"]
    assert ticket["satisfaction_score"] is None
    fd = freshdesk.map_ticket(
        {"id": 2, "status": 7, "source": 3, "created_at": "2024-01-01T00:00:00Z"},
        [],
        None,
        None,
        "u",
    )
    assert (fd["status"], fd["custom_fields"]["helpdesk_status"]) == ("open", 7)
    assert fd["channel"]["type"] == ["phone"]
    gg = gorgias.map_ticket({"id": 3, "status": "open", "channel": "contact_form"}, "u")
    assert gg["channel"]["type"] == ["web_form"]
    assert gg["timeline"]["first_reply_time"] is None


def at(minute: int) -> datetime:
    return datetime(2024, 1, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=minute)


def test_conversation_timeline_counts_only_human_public_replies() -> None:
    messages = [
        Message(at(0), True, False),
        Message(at(1), False, False),  # an automation's reply: not counted
        Message(at(12), False, True),
        Message(at(20), True, False),
        Message(at(25), True, False),
        Message(at(50), False, True),
        Message(at(55), False, True),  # a second reply with nobody waiting: no gap
    ]
    timeline = conversation_timeline(messages, at(0), at(90))
    assert timeline == {"first_reply_time": 12.0, "reply_time": 21.0, "duration": 90.0}
    assert conversation_timeline([Message(at(0), True, False)], at(0), None) == {
        "first_reply_time": None,
        "reply_time": None,
        "duration": None,
    }


def test_outbound_guard_refuses_private_addresses_unless_allowed() -> None:
    for url in (
        "https://127.0.0.1/api",
        "https://10.0.0.8",
        "https://[::1]/",
        "https://169.254.169.254",
    ):
        with pytest.raises(OutboundRefused):
            check_destination(url, allow_private=False)
    with pytest.raises(OutboundRefused):
        check_destination("http://acme.zendesk.com", allow_private=False)
    with pytest.raises(OutboundRefused):
        check_destination("ftp://acme.zendesk.com", allow_private=True)
    check_destination("http://127.0.0.1:9000", allow_private=True)


def test_the_client_retries_429_with_retry_after_and_stays_on_the_helpdesk_host() -> None:
    answers = [
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(200, json={"ok": 1}),
    ]
    sleeps: list[float] = []
    transport = httpx.MockTransport(lambda _request: answers.pop(0))
    with HelpdeskClient(
        "http://127.0.0.1:1",
        auth=("u", "p"),
        pacing=Pacing(1000, 1),
        allow_private=True,
        transport=transport,
        sleep=sleeps.append,
    ) as client:
        assert client.get_json("/x") == {"ok": 1}
        assert 3.0 in sleeps
        with pytest.raises(OutboundRefused):
            client.get("https://evil.example/steal")


def test_credentials_cipher_round_trips_and_refuses_another_key() -> None:
    sealed = crypto.encrypt("k" * 40, b"zd-token")
    assert b"zd-token" not in sealed.encode()
    assert crypto.decrypt("k" * 40, sealed) == b"zd-token"
    with pytest.raises(crypto.CannotDecrypt):
        crypto.decrypt("other" * 10, sealed)


def test_a_shared_pacer_spaces_requests_across_clients() -> None:
    pacer = Pacer(Pacing(requests=4, seconds=2))  # one every 0.5 s
    assert pacer.reserve(10.0) == 0.0
    assert pacer.reserve(10.0) == 0.5, "a second client at the same moment waits its turn"
    assert pacer.reserve(10.2) == pytest.approx(0.8)
    assert pacer.reserve(20.0) == 0.0, "an idle budget refills"
