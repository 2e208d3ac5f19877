"""Freshdesk: ticket mapping, webhook parsing, fetching, backfill.

Sources: developers.freshdesk.com/api (Tickets, Conversations, Satisfaction Ratings, Agents,
Rate limit) and ../shared/reference/helpdesk-apis.md §3.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta
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
    minutes,
    parse_time,
)
from carebase.connectors.types import Page, WebhookEvent
from carebase.http.outbound import HelpdeskClient, OutboundError, Pacing

KIND = "freshdesk"
# The Growth plan's 200 calls a minute; `include=requester,stats` costs extra credits.
PACING = Pacing(requests=100, seconds=60)
# Freshdesk stops paging at about 300 pages: restart from the last updated_at before then.
PAGE_LIMIT = 300
STATUS = {2: "open", 3: "pending", 4: "solved", 5: "closed"}
STATUS_NAMES = {2: "Open", 3: "Pending", 4: "Resolved", 5: "Closed"}
SOURCE = {
    1: "email",
    2: "web_form",
    3: "phone",
    7: "chat",
    9: "web_form",
    10: "email",
}
SOURCE_NAMES = {
    1: "Email",
    2: "Portal",
    3: "Phone",
    7: "Chat",
    9: "Feedback Widget",
    10: "Outbound Email",
}
# Classic CSAT: the raw value is kept as the score; its label goes to custom_fields.
SATISFACTION = {
    103: "Extremely happy",
    102: "Very happy",
    101: "Happy",
    100: "Neutral",
    -101: "Unhappy",
    -102: "Very unhappy",
    -103: "Extremely unhappy",
}


def base_url(domain: str) -> str:
    """`acme`, `acme.freshdesk.com` or a full URL → `https://acme.freshdesk.com`."""
    return helpdesk_url(domain, "freshdesk.com")


def credentials_auth(credentials: dict[str, str]) -> tuple[str, str]:
    """Basic auth: the API key as user name, `X` as password."""
    return credentials["api_key"], "X"


def parse_webhook(payload: Any, body: bytes) -> WebhookEvent:
    """The ticket an automation webhook is about: the Simple body
    `{"freshdesk_webhook": {"ticket_id": …}}` or carebase's Advanced template `{"ticket_id": …}`."""
    if not isinstance(payload, dict):
        raise MappingError("the body must be a JSON object")
    inner = payload.get("freshdesk_webhook")
    fields = inner if isinstance(inner, dict) else payload
    ticket_id = fields.get("ticket_id")
    if isinstance(ticket_id, str):
        ticket_id = ticket_id.strip().lstrip("#")
    if not is_ticket_id(ticket_id):
        raise MappingError("the body needs ticket_id: use the template in docs/connectors.md")
    digest = hashlib.sha256(body).hexdigest()
    event = (
        fields.get("triggered_event") if isinstance(fields.get("triggered_event"), str) else None
    )
    return WebhookEvent(str(ticket_id), f"body:{digest}", event)


def _messages(conversations: list[dict[str, Any]], created: datetime | None) -> list[Message]:
    # The ticket's own description is the customer's first message.
    found = [Message(created, True, False)] if created is not None else []
    for item in conversations:
        at = parse_time(item.get("created_at"))
        if at is None or item.get("private"):
            continue
        incoming = bool(item.get("incoming"))
        found.append(Message(at, from_customer=incoming, public_agent_reply=not incoming))
    return found


def map_ticket(
    ticket: dict[str, Any],
    conversations: list[dict[str, Any]],
    rating: dict[str, Any] | None,
    agent_name: str | None,
    helpdesk_url: str,
) -> dict[str, Any]:
    """A Freshdesk ticket (with requester, stats, conversations, rating) as a ticket event."""
    requester = ticket.get("requester") or {}
    stats = ticket.get("stats") or {}
    status = ticket.get("status")
    source = ticket.get("source")
    created = parse_time(ticket.get("created_at"))
    resolved = parse_time(stats.get("resolved_at") or stats.get("closed_at"))
    score = ((rating or {}).get("ratings") or {}).get("default_question")
    timeline = conversation_timeline(_messages(conversations, created), created, resolved)
    if timeline["first_reply_time"] is None:
        # No public agent reply in the conversations (or they were not fetched): Freshdesk's
        # own first-response stamp is the next best thing.
        timeline["first_reply_time"] = minutes(created, parse_time(stats.get("first_responded_at")))
    return {
        "ticket_id": str(ticket["id"]),
        "action_at": ticket.get("updated_at"),
        "link": link(
            requester.get("email") or ticket.get("email"),
            requester.get("mobile") or requester.get("phone"),
        ),
        "title": ticket.get("subject"),
        "ticket_url": f"{helpdesk_url}/a/tickets/{ticket['id']}",
        "description": ticket.get("description_text"),
        "timeline": {"created_at": iso(created), "closed_at": iso(resolved), **timeline},
        "channel": {
            "type": labels(
                [SOURCE.get(source, f"source_{source}") if source is not None else None]
            ),
            "name": labels([ticket.get("support_email")]),
        },
        "status": STATUS.get(status, "open") if isinstance(status, int) else None,
        "tags": labels(ticket.get("tags") or []),
        "agents": labels([agent_name]),
        "satisfaction_score": score if isinstance(score, int) else None,
        "custom_fields": {
            "helpdesk": KIND,
            "helpdesk_status": STATUS_NAMES.get(status, status) if status is not None else None,
            "helpdesk_source": SOURCE_NAMES.get(source, source) if source is not None else None,
            "priority": ticket.get("priority"),
            "satisfaction_label": SATISFACTION.get(score) if isinstance(score, int) else None,
        },
    }


class _Agents:
    """Agent names by id, each fetched once per run."""

    def __init__(self, client: HelpdeskClient) -> None:
        self.client = client
        self.names: dict[int, str | None] = {}

    def name(self, agent_id: Any) -> str | None:
        if not isinstance(agent_id, int):
            return None
        if agent_id not in self.names:
            try:
                agent = self.client.get_json(f"/api/v2/agents/{agent_id}")
            except OutboundError as error:
                if error.status != 404:
                    raise
                agent = {}
            self.names[agent_id] = (agent.get("contact") or {}).get("name")
        return self.names[agent_id]


def _complete(client: HelpdeskClient, ticket: dict[str, Any], agents: _Agents) -> dict[str, Any]:
    ticket_id = ticket["id"]
    conversations: list[dict[str, Any]] = []
    page = 1
    while True:  # 100 a page; a long conversation has more
        response = client.get(
            f"/api/v2/tickets/{ticket_id}/conversations", {"per_page": 100, "page": page}
        )
        conversations += response.json()
        if 'rel="next"' not in response.headers.get("link", ""):
            break
        page += 1
    ratings = client.get_json(f"/api/v2/tickets/{ticket_id}/satisfaction_ratings")
    rating = max(ratings, key=lambda r: r.get("updated_at") or "", default=None)
    return map_ticket(
        ticket, conversations, rating, agents.name(ticket.get("responder_id")), client.base_url
    )


def fetch(client: HelpdeskClient, ticket_id: str) -> dict[str, Any] | None:
    """One ticket with requester, stats, conversations and rating, mapped; None when gone."""
    try:
        ticket = client.get_json(f"/api/v2/tickets/{ticket_id}", {"include": "requester,stats"})
    except OutboundError as error:
        if error.status == 404:
            return None
        raise
    if ticket.get("deleted"):
        return None
    return _complete(client, ticket, _Agents(client))


def backfill(
    client: HelpdeskClient, since: datetime, state: dict[str, Any] | None
) -> Iterator[Page]:
    """Tickets updated since `since`, oldest first, 100 a page. Before Freshdesk's ~300-page
    limit the walk restarts from the last `updated_at` seen (a ticket on the boundary comes
    twice and is stored once)."""
    agents = _Agents(client)
    updated_since: str = (state or {}).get("updated_since") or iso(since) or ""
    page = int((state or {}).get("page") or 1)
    while True:
        params = {
            "updated_since": updated_since,
            "order_by": "updated_at",
            "order_type": "asc",
            "per_page": 100,
            "page": page,
            # Accounts created after 2018-11-30 list tickets without their description unless
            # it is asked for (developers.freshdesk.com/api, List All Tickets).
            "include": "requester,stats,description",
        }
        response = client.get("/api/v2/tickets", params)
        tickets = response.json()
        events = [
            _complete(client, ticket, agents) for ticket in tickets if not ticket.get("deleted")
        ]
        has_next = 'rel="next"' in response.headers.get("link", "") and bool(tickets)
        last = parse_time(tickets[-1].get("updated_at")) if tickets else None
        restart_from = iso(last - timedelta(seconds=1)) if last else None
        if has_next and page + 1 >= PAGE_LIMIT and restart_from and restart_from > updated_since:
            updated_since, page = restart_from, 1
        else:
            page += 1
        done = not has_next
        yield Page(events, {"updated_since": updated_since, "page": page}, done)
        if done:
            return
