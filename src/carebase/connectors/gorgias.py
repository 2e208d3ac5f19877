"""Gorgias: ticket mapping, webhook parsing, fetching, backfill.

Sources: developers.gorgias.com (The Ticket object, The TicketMessage object, pagination,
limitations) and ../shared/reference/helpdesk-apis.md §2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from carebase.connectors.mapping import (
    MappingError,
    Message,
    conversation_timeline,
    helpdesk_url,
    is_ticket_id,
    iso,
    labels,
    link,
    parse_time,
)
from carebase.connectors.types import Page, WebhookEvent
from carebase.http.outbound import HelpdeskClient, OutboundError, Pacing

KIND = "gorgias"
# API keys: a leaky bucket of 40 requests per 20 seconds.
PACING = Pacing(requests=40, seconds=20)
STATUS = {"open": "open", "closed": "closed"}
CHANNEL = {
    "email": "email",
    "chat": "chat",
    "gorgias_chat": "chat",
    "custom-chat": "chat",
    "contact_form": "web_form",
    "help-center": "web_form",
    "phone": "phone",
    "aircall": "phone",
    "sms": "sms",
    "api": "api",
    "whatsapp": "social",
    "facebook": "social",
    "facebook-messenger": "social",
    "facebook-mention": "social",
    "instagram-comment": "social",
    "instagram-direct-message": "social",
    "twitter": "social",
}


def base_url(domain: str) -> str:
    """`acme`, `acme.gorgias.com` or a full URL → `https://acme.gorgias.com`."""
    return helpdesk_url(domain, "gorgias.com")


def credentials_auth(credentials: dict[str, str]) -> tuple[str, str]:
    """Basic auth: the account user's email and a REST API key."""
    return credentials["username"], credentials["api_key"]


def parse_webhook(payload: Any, body: bytes) -> WebhookEvent:
    """The ticket an HTTP-integration call is about: `{"ticket": {…}}` (the `{{context}}`
    body) or carebase's template `{"ticket_id": …}`."""
    if not isinstance(payload, dict):
        raise MappingError("the body must be a JSON object")
    ticket: dict[str, Any] = payload.get("ticket") or {}
    if not isinstance(ticket, dict):
        raise MappingError("ticket must be an object")
    ticket_id = ticket.get("id", payload.get("ticket_id"))
    if not is_ticket_id(ticket_id):
        raise MappingError(
            "the body needs ticket.id or ticket_id: use the template in docs/connectors.md"
        )
    event = payload.get("event") if isinstance(payload.get("event"), str) else None
    digest = hashlib.sha256(body).hexdigest()
    return WebhookEvent(str(ticket_id), f"body:{digest}", event)


def _messages(ticket: dict[str, Any]) -> list[Message]:
    found = []
    for message in ticket.get("messages") or []:
        at = parse_time(message.get("sent_datetime") or message.get("created_datetime"))
        if at is None or message.get("channel") == "internal-note":
            continue
        automated = message.get("via") == "rule" or message.get("rule_id") is not None
        from_agent = bool(message.get("from_agent"))
        found.append(
            Message(
                at,
                from_customer=not from_agent,
                public_agent_reply=from_agent and bool(message.get("public")) and not automated,
            )
        )
    return found


def map_ticket(ticket: dict[str, Any], helpdesk_url: str) -> dict[str, Any]:
    """A Gorgias ticket (with its messages) as a customer_support_ticket event."""
    customer = ticket.get("customer") or {}
    channels = customer.get("channels") or []
    phone = next((c.get("address") for c in channels if c.get("type") == "phone"), None)
    email = customer.get("email") or next(
        (c.get("address") for c in channels if c.get("type") == "email"), None
    )
    messages = ticket.get("messages") or []
    first = messages[0] if messages else {}
    agents = [(ticket.get("assignee_user") or {}).get("name")]
    agents += [
        (m.get("sender") or {}).get("name")
        for m in messages
        if m.get("from_agent") and m.get("public") and m.get("via") != "rule"
    ]
    created = parse_time(ticket.get("created_datetime"))
    closed = parse_time(ticket.get("closed_datetime"))
    channel = str(ticket.get("channel") or "")
    status = str(ticket.get("status") or "")
    survey = ticket.get("satisfaction_survey") or {}
    score = survey.get("score")
    source = (first.get("source") or {}).get("to") or []
    return {
        "ticket_id": str(ticket["id"]),
        "action_at": ticket.get("updated_datetime"),
        "link": link(email, phone),
        "title": ticket.get("subject"),
        "ticket_url": f"{helpdesk_url}/app/ticket/{ticket['id']}",
        "description": first.get("stripped_text")
        or first.get("body_text")
        or ticket.get("excerpt"),
        "timeline": {
            "created_at": iso(created),
            "closed_at": iso(closed),
            **conversation_timeline(_messages(ticket), created, closed),
        },
        "channel": {
            "type": labels([CHANNEL.get(channel, channel)]),
            "name": labels(
                [address.get("address") for address in source if isinstance(address, dict)]
            ),
        },
        "status": STATUS.get(status, status or None),
        "tags": labels(tag.get("name") for tag in ticket.get("tags") or []),
        "agents": labels(agents),
        "satisfaction_score": score if isinstance(score, int) and 1 <= score <= 5 else None,
        "custom_fields": {
            "helpdesk": KIND,
            "helpdesk_status": status or None,
            "via": ticket.get("via"),
            "priority": ticket.get("priority"),
            "snoozed_until": ticket.get("snooze_datetime"),
            "spam": ticket.get("spam"),
        },
    }


def fetch_raw(client: HelpdeskClient, ticket_id: str) -> dict[str, Any] | None:
    """One ticket as Gorgias shows it (with its messages); None when it no longer has it."""
    try:
        ticket: dict[str, Any] = client.get_json(f"/api/tickets/{ticket_id}")
    except OutboundError as error:
        if error.status == 404:
            return None
        raise
    if ticket.get("trashed_datetime"):
        return None
    return ticket


def fetch(client: HelpdeskClient, ticket_id: str) -> dict[str, Any] | None:
    """One ticket (its GET includes the messages), mapped; None when Gorgias no longer has it."""
    ticket = fetch_raw(client, ticket_id)
    return None if ticket is None else map_ticket(ticket, client.base_url)


def backfill(
    client: HelpdeskClient, since: datetime, state: dict[str, Any] | None
) -> Iterator[Page]:
    """Tickets updated since `since`, newest first through cursor pagination; each listed
    ticket is fetched whole (messages) for its timeline. Stops at the first older ticket."""
    cursor = (state or {}).get("cursor")
    while True:
        params: dict[str, Any] = {"order_by": "updated_datetime:desc", "limit": 100}
        if cursor:
            params["cursor"] = cursor
        body = client.get_json("/api/tickets", params)
        events, reached_since = [], False
        for listed in body.get("data") or []:
            updated = parse_time(listed.get("updated_datetime"))
            if updated is not None and updated < since:
                reached_since = True
                break
            event = fetch(client, str(listed["id"]))
            if event is not None:
                events.append(event)
        cursor = (body.get("meta") or {}).get("next_cursor")
        done = reached_since or not cursor
        yield Page(events, {"cursor": cursor}, done)
        if done:
            return
