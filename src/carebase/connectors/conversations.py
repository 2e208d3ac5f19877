"""A ticket's conversation as the inbox needs it: the customer's messages, the agents' public
replies and the ticket's status changes, read from the helpdesk's API.

Sources: developer.zendesk.com (Ticket Comments: List Comments, sideloading users; Ticket
Audits: List Audits for a Ticket; Ticket Audit events reference: Change event),
developers.gorgias.com (The TicketMessage object; List messages of a ticket),
developers.freshdesk.com/api (List All Conversations of a Ticket; View an Agent) and
../shared/reference/helpdesk-apis.md.

Private notes and internal notes are left out; so are replies written by automations
(Zendesk comments via `rule` or `system`, Gorgias messages with a `rule_id`), which are not
an agent's response.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from carebase.connectors import gorgias as gorgias_api
from carebase.connectors.kinds import KINDS
from carebase.connectors.mapping import parse_time
from carebase.http.outbound import HelpdeskClient, OutboundError

# A conversation longer than this many pages is read up to here (a runaway ticket must not
# hold a delivery's job for ever).
MAX_PAGES = 50
# Statuses the inbox reads as the conversation being over (Zendesk's own; the mapped status
# of a Gorgias or Freshdesk ticket: Resolved and Closed map to solved and closed).
CLOSING = frozenset({"solved", "closed"})
# Statuses of a ticket still being worked on: after a close, the ticket was re-opened.
REOPENING = frozenset({"new", "open", "pending", "hold"})
AUTOMATED_VIA = frozenset({"rule", "system"})


@dataclass(frozen=True, slots=True)
class Message:
    """One public message of a ticket."""

    external_id: str
    from_customer: bool
    body: str
    at: datetime
    author_ref: str | None = None
    author_name: str | None = None
    author_email: str | None = None
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """The ticket's status changed (`status` as the helpdesk names it): to a closing status
    (`closed`), or to one of a ticket being worked on (`reopened`: a re-open if it was closed)."""

    external_id: str
    at: datetime
    status: str
    closed: bool
    reopened: bool = False


@dataclass(slots=True)
class Conversation:
    """A ticket's public messages and status changes, each in time order."""

    ticket_id: str
    messages: list[Message] = field(default_factory=list)
    status_changes: list[StatusChange] = field(default_factory=list)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _id(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


# --- Zendesk


def _zendesk_pages(client: HelpdeskClient, path: str, key: str) -> tuple[list[Any], dict[Any, Any]]:
    """Every item of a paginated Zendesk list (following `next_page`), and the users sideloaded."""
    items: list[Any] = []
    users: dict[Any, Any] = {}
    url: str | None = path
    params: dict[str, Any] | None = {"include": "users"}
    for _ in range(MAX_PAGES):
        if url is None:
            break
        body = client.get_json(url, params)
        items += body.get(key) or []
        users.update((u.get("id"), u) for u in body.get("users") or [])
        url, params = body.get("next_page") or None, None
    return items, users


def zendesk(client: HelpdeskClient, ticket_id: str, _event: dict[str, Any]) -> Conversation:
    """Public comments (`GET /api/v2/tickets/{id}/comments.json`) and status changes (the
    `Change` events on `status` of `GET /api/v2/tickets/{id}/audits.json`)."""
    conversation = Conversation(ticket_id)
    path = f"/api/v2/tickets/{ticket_id}"
    comments, users = _zendesk_pages(client, f"{path}/comments.json", "comments")
    for comment in comments:
        at = parse_time(comment.get("created_at"))
        comment_id = _id(comment.get("id"))
        if not comment.get("public") or at is None or comment_id is None:
            continue
        author = users.get(comment.get("author_id")) or {}
        # An author Zendesk no longer has is read as the customer: agents are not deleted.
        from_customer = author.get("role", "end-user") == "end-user"
        via = str((comment.get("via") or {}).get("channel") or "")
        if not from_customer and via in AUTOMATED_VIA:
            continue
        conversation.messages.append(
            Message(
                external_id=comment_id,
                from_customer=from_customer,
                body=_text(comment.get("plain_body")) or _text(comment.get("body")),
                at=at,
                author_ref=_id(comment.get("author_id")),
                author_name=author.get("name"),
                author_email=author.get("email"),
                channel=via or None,
            )
        )
    audits, _users = _zendesk_pages(client, f"{path}/audits.json", "audits")
    for audit in audits:
        at = parse_time(audit.get("created_at"))
        for event in audit.get("events") or []:
            if event.get("type") != "Change" or event.get("field_name") != "status":
                continue
            status = str(event.get("value") or "")
            event_id = _id(event.get("id")) or f"{audit.get('id')}:status"
            if at is not None and status:
                change = StatusChange(
                    event_id, at, status, status in CLOSING, reopened=status in REOPENING
                )
                conversation.status_changes.append(change)
    _sort(conversation)
    return conversation


# --- Gorgias


def gorgias(
    client: HelpdeskClient,
    ticket_id: str,
    event: dict[str, Any],
    embedded: list[dict[str, Any]] | None = None,
) -> Conversation:
    """Public messages (`GET /api/tickets/{id}/messages`, cursor pages, unless the ticket's
    own GET gave them: `embedded`); Gorgias keeps no status history, so the ticket's current
    status is its one change (see `_status_from_ticket`)."""
    conversation = Conversation(ticket_id)
    if embedded is not None:
        for message in embedded:
            _gorgias_message(conversation, message)
        _status_from_ticket(conversation, event)
        _sort(conversation)
        return conversation
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        params: dict[str, Any] = {"limit": 100}
        if cursor:
            params["cursor"] = cursor
        body = client.get_json(f"/api/tickets/{ticket_id}/messages", params)
        for message in body.get("data") or []:
            _gorgias_message(conversation, message)
        cursor = (body.get("meta") or {}).get("next_cursor")
        if not cursor:
            break
    _status_from_ticket(conversation, event)
    _sort(conversation)
    return conversation


def _gorgias_message(conversation: Conversation, message: dict[str, Any]) -> None:
    at = parse_time(message.get("sent_datetime")) or parse_time(message.get("created_datetime"))
    message_id = _id(message.get("id"))
    internal = message.get("channel") == "internal-note" or message.get("public") is False
    if at is None or message_id is None or internal:
        return
    from_agent = bool(message.get("from_agent"))
    if from_agent and message.get("rule_id") is not None:
        return
    sender = message.get("sender") or {}
    body = _text(message.get("stripped_text")) or _text(message.get("body_text"))
    conversation.messages.append(
        Message(
            external_id=message_id,
            from_customer=not from_agent,
            body=body,
            at=at,
            author_ref=_id(sender.get("id")),
            author_name=sender.get("name"),
            author_email=sender.get("email"),
            channel=message.get("channel"),
        )
    )


# --- Freshdesk


def freshdesk(client: HelpdeskClient, ticket_id: str, event: dict[str, Any]) -> Conversation:
    """The ticket's description (its first customer message), then the public conversations
    (`GET /api/v2/tickets/{id}/conversations`, `Link` pages); agents' names and emails from
    `GET /api/v2/agents/{id}`; the ticket's current status is its one change (see
    `_status_from_ticket`)."""
    conversation = Conversation(ticket_id)
    created = parse_time((event.get("timeline") or {}).get("created_at"))
    if created is not None:
        conversation.messages.append(
            Message(
                external_id=f"ticket:{ticket_id}",
                from_customer=True,
                body=_text(event.get("description")),
                at=created,
                channel=None,
            )
        )
    agents: dict[Any, dict[str, Any]] = {}
    page = 1
    for _ in range(MAX_PAGES):
        response = client.get(
            f"/api/v2/tickets/{ticket_id}/conversations", {"per_page": 100, "page": page}
        )
        for item in response.json():
            _freshdesk_item(client, conversation, item, agents)
        if 'rel="next"' not in response.headers.get("link", ""):
            break
        page += 1
    _status_from_ticket(conversation, event)
    _sort(conversation)
    return conversation


def _freshdesk_item(
    client: HelpdeskClient,
    conversation: Conversation,
    item: dict[str, Any],
    agents: dict[Any, dict[str, Any]],
) -> None:
    at = parse_time(item.get("created_at"))
    item_id = _id(item.get("id"))
    if at is None or item_id is None or item.get("private"):
        return
    incoming = bool(item.get("incoming"))
    contact: dict[str, Any] = {}
    user_id = item.get("user_id")
    if not incoming and isinstance(user_id, int):
        if user_id not in agents:
            try:
                agents[user_id] = client.get_json(f"/api/v2/agents/{user_id}").get("contact") or {}
            except OutboundError as error:
                if error.status != 404:
                    raise
                agents[user_id] = {}
        contact = agents[user_id]
    conversation.messages.append(
        Message(
            external_id=item_id,
            from_customer=incoming,
            body=_text(item.get("body_text")),
            at=at,
            author_ref=_id(user_id),
            author_name=contact.get("name"),
            author_email=contact.get("email") or item.get("from_email"),
        )
    )


def _status_from_ticket(conversation: Conversation, event: dict[str, Any]) -> None:
    """A helpdesk without status history: a ticket mapped as closed (or solved) closed at its
    `closed_at`; a ticket mapped as open (or pending) is being worked on as of its last update
    (`action_at`), which re-opens what an earlier close from this helpdesk closed."""
    status = str(event.get("status") or "")
    updated = parse_time(event.get("action_at"))
    if status in CLOSING:
        at = parse_time((event.get("timeline") or {}).get("closed_at")) or updated
        closed, reopened = True, False
    elif status in REOPENING:
        at, closed, reopened = updated, False, True
    else:
        return
    if at is not None:
        conversation.status_changes.append(
            StatusChange(f"status:{status}:{at.isoformat()}", at, status, closed, reopened)
        )


def _sort(conversation: Conversation) -> None:
    conversation.messages.sort(key=lambda m: (m.at, m.external_id))
    conversation.status_changes.sort(key=lambda c: (c.at, c.external_id))


FETCHERS: dict[str, Callable[[HelpdeskClient, str, dict[str, Any]], Conversation]] = {
    "zendesk": zendesk,
    "gorgias": gorgias,
    "freshdesk": freshdesk,
}


def fetch(kind: str, client: HelpdeskClient, event: dict[str, Any]) -> Conversation:
    """The conversation of the ticket a mapped customer_support_ticket event describes."""
    return FETCHERS[kind](client, str(event["ticket_id"]), event)


def channel_of(event: dict[str, Any]) -> str | None:
    """The ticket's channel type as mapped (email, chat, …): its messages' source type."""
    types = (event.get("channel") or {}).get("type") or []
    return str(types[0]) if types else None


def fetch_ticket(
    kind: str, client: HelpdeskClient, ticket_id: str
) -> tuple[dict[str, Any] | None, Conversation | None]:
    """A ticket, mapped as its kind's `fetch` maps it, and its conversation; (None, None)
    when the helpdesk no longer has it. Gorgias's ticket GET carries its messages: read once."""
    if kind == "gorgias":
        raw = gorgias_api.fetch_raw(client, ticket_id)
        if raw is None:
            return None, None
        event = gorgias_api.map_ticket(raw, client.base_url)
        messages = raw.get("messages")
        return event, gorgias(
            client, str(event["ticket_id"]), event, messages if isinstance(messages, list) else None
        )
    mapped = KINDS[kind].fetch(client, ticket_id)
    return mapped, (None if mapped is None else fetch(kind, client, mapped))
