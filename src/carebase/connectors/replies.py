"""Posting a carebase reply on a helpdesk ticket as a public comment, through the connector's
API client (its pacing, its 429 / Retry-After handling).

Sources: developer.zendesk.com (Tickets: Update Ticket, Ticket Comments: creating comments,
Ticket Audits), developers.gorgias.com (Create a new message in ticket via API, The
TicketMessage object), developers.freshdesk.com/api (Reply to a ticket).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from carebase.http.outbound import HelpdeskClient, OutboundError


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """Where and to whom a reply goes: the ticket, and what carebase knows of the customer."""

    ticket_id: str
    # The customer's id in the helpdesk (Gorgias needs it as the receiver), when known.
    customer_ref: str | None = None
    # email, chat, sms … (the channel the customer wrote through), when known.
    channel: str | None = None
    # The helpdesk user the API credentials act as (Gorgias's sender).
    sender_email: str | None = None


def as_html(body: str) -> str:
    """Plain text as the HTML Freshdesk and Gorgias expect: escaped, line breaks kept."""
    return html.escape(body).replace("\n", "<br>\n")


def zendesk(client: HelpdeskClient, target: ReplyTarget, body: str) -> str:
    """A public comment through `PUT /api/v2/tickets/{id}.json`; the new comment's id, read
    from the `Comment` event of the audit Zendesk answers with."""
    response = client.request(
        "PUT",
        f"/api/v2/tickets/{target.ticket_id}.json",
        json={"ticket": {"comment": {"body": body, "public": True}}},
        # Adding a comment is not idempotent: never repeated after it may have been applied.
        idempotent=False,
    )
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise OutboundError("Zendesk answered the comment with something that is not JSON")
    events = (answer.get("audit") or {}).get("events") or []
    for event in events:
        if event.get("type") == "Comment" and event.get("id") is not None:
            return str(event["id"])
    raise OutboundError("Zendesk's answer has no Comment event in its audit")


GORGIAS_CHANNELS = frozenset({"email", "chat", "sms", "phone", "api", "whatsapp"})


def gorgias(client: HelpdeskClient, target: ReplyTarget, body: str) -> str:
    """An outgoing public message through `POST /api/tickets/{id}/messages`; its id."""
    channel = target.channel if target.channel in GORGIAS_CHANNELS else "email"
    message: dict[str, Any] = {
        "channel": channel,
        "via": "api",
        "from_agent": True,
        "public": True,
        "body_text": body,
        "body_html": as_html(body),
        "sender": {"email": target.sender_email} if target.sender_email else {},
    }
    if target.customer_ref and target.customer_ref.isdigit():
        message["receiver"] = {"id": int(target.customer_ref)}
    answer = client.post_json(f"/api/tickets/{target.ticket_id}/messages", message)
    if not isinstance(answer, dict) or answer.get("id") is None:
        raise OutboundError("Gorgias's answer has no message id")
    return str(answer["id"])


def freshdesk(client: HelpdeskClient, target: ReplyTarget, body: str) -> str:
    """A public reply through `POST /api/v2/tickets/{id}/reply`; the conversation's id."""
    answer = client.post_json(f"/api/v2/tickets/{target.ticket_id}/reply", {"body": as_html(body)})
    if not isinstance(answer, dict) or answer.get("id") is None:
        raise OutboundError("Freshdesk's answer has no conversation id")
    return str(answer["id"])


POSTERS = {"zendesk": zendesk, "gorgias": gorgias, "freshdesk": freshdesk}
