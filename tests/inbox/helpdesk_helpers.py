"""Shared by the helpdesk conversation-sync and reply-channel tests: the app and job runner
wired to the loopback helpdesk fakes (tests/connectors/fakes.py), webhook posting as each
helpdesk sends, and readers of what the inbox recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import select

from carebase.db.session import Database
from carebase.models import Mention, MentionEvent, Response, Ticket
from tests.connectors.conftest import Connected, zendesk_signature


def at(value: str) -> datetime:
    """An ISO 8601 time (with Z) as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def zendesk_event(ticket_id: int, event_id: str) -> dict[str, Any]:
    """A Zendesk event webhook (ticket.comment_added) about one ticket."""
    return {
        "account_id": 22129848,
        "detail": {"id": str(ticket_id), "status": "OPEN", "via": {"channel": "email"}},
        "event": {"comment": {"id": "1", "is_public": True}},
        "id": event_id,
        "subject": f"zen:ticket:{ticket_id}",
        "time": "2024-11-06T10:15:00.000000000Z",
        "type": "zen:event-type:ticket.comment_added",
        "zendesk_event_version": "2022-11-06",
    }


def post_zendesk(client: TestClient, connector: Connected, body: dict[str, Any], now: str) -> None:
    """Post a signed Zendesk webhook; it must be accepted."""
    raw = orjson.dumps(body)
    answer = client.post(
        f"/v1/connectors/{connector.id}/webhook",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-Zendesk-Webhook-Signature": zendesk_signature(now, raw),
            "X-Zendesk-Webhook-Signature-Timestamp": now,
        },
    )
    assert answer.status_code == 202, answer.text


def post_unsigned(client: TestClient, connector: Connected, ticket_id: int) -> None:
    """Post a Gorgias or Freshdesk webhook (carebase's shared secret header)."""
    answer = client.post(
        f"/v1/connectors/{connector.id}/webhook",
        json={"ticket_id": ticket_id},
        headers={"X-Carebase-Webhook-Secret": str(connector.secret)},
    )
    assert answer.status_code == 202, answer.text


@dataclass
class Recorded:
    """What the inbox holds for one connector."""

    mentions: list[Mention]
    responses: list[Response]
    events: list[MentionEvent]

    def mention(self, external_id: str) -> Mention:
        """The mention a helpdesk message became."""
        [found] = [m for m in self.mentions if m.external_id == external_id]
        return found

    def trail(self, mention_id: str, kinds: tuple[str, ...] = ("received", "response", "state")):  # type: ignore[no-untyped-def]
        """(kind, at, to_value, actor_type, actor_ref) of a mention's events of these kinds."""
        return [
            (e.kind, e.at, e.to_value, e.actor_type, e.actor_ref)
            for e in self.events
            if e.mention_id == mention_id and e.kind in kinds
        ]


def recorded(database: Database, connector_id: str) -> Recorded:
    """Every mention of the connector, their responses and events (detached)."""
    with database.unit_of_work(write=False) as session:
        mentions = list(
            session.scalars(
                select(Mention)
                .where(Mention.origin_key == connector_id)
                .order_by(Mention.published_at, Mention.id)
            )
        )
        ids = [m.id for m in mentions]
        responses = list(
            session.scalars(
                select(Response).where(Response.mention_id.in_(ids)).order_by(Response.created_at)
            )
        )
        events = list(
            session.scalars(
                select(MentionEvent)
                .where(MentionEvent.mention_id.in_(ids))
                .order_by(MentionEvent.at, MentionEvent.id)
            )
        )
        session.expunge_all()
    return Recorded(mentions, responses, events)


def ticket_profile(database: Database, dataset_id: str, ticket_id: str) -> str:
    """The profile the ticket record was loaded onto."""
    with database.unit_of_work(write=False) as session:
        profile_id = session.scalar(
            select(Ticket.profile_id).where(
                Ticket.dataset_id == dataset_id, Ticket.ticket_id == ticket_id
            )
        )
    assert profile_id is not None
    return profile_id
