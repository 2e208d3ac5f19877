"""Zendesk Support: ticket mapping, webhook verification and parsing, fetching, backfill.

Sources: developer.zendesk.com (Tickets, Ticket Metrics, Incremental Exports, Webhooks:
verifying) and ../shared/reference/helpdesk-apis.md §1.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from carebase.connectors.mapping import (
    MappingError,
    TicketRejected,
    helpdesk_url,
    is_ticket_id,
    iso,
    labels,
    link,
    parse_time,
)
from carebase.connectors.types import Page, WebhookEvent
from carebase.http.outbound import HelpdeskClient, OutboundError, Pacing

KIND = "zendesk"
# The smallest plan's budget (Team: 200/min); the incremental export allows 10/min.
PACING = Pacing(requests=200, seconds=60)
EXPORT_PACING = Pacing(requests=10, seconds=60)
# `GET /api/v2/users/show_many.json` takes at most 100 ids a call.
SHOW_MANY = 100
STATUS = {
    "new": "new",
    "open": "open",
    "pending": "pending",
    "hold": "pending",
    "solved": "solved",
    "closed": "closed",
}
CHANNEL = {
    "email": "email",
    "web": "web_form",
    "web_form": "web_form",
    "web_widget": "web_form",
    "chat": "chat",
    "native_messaging": "chat",
    "messaging": "chat",
    "voice": "phone",
    "sms": "sms",
    "api": "api",
    "mobile": "mobile",
    "mobile_sdk": "mobile",
    "facebook": "social",
    "twitter": "social",
    "instagram_dm": "social",
    "whatsapp": "social",
}
TRIGGER_TEMPLATE = {
    "ticket_id": "{{ticket.id}}",
    "updated_at": "{{ticket.updated_at_with_timestamp}}",
    "status": "{{ticket.status}}",
}


def base_url(domain: str) -> str:
    """`acme`, `acme.zendesk.com` or a full URL → `https://acme.zendesk.com`."""
    return helpdesk_url(domain, "zendesk.com")


def credentials_auth(credentials: dict[str, str]) -> tuple[str, str]:
    """Basic auth for an API token: `{email}/token` and the token."""
    return f"{credentials['email']}/token", credentials["api_token"]


def verify_signature(
    secret: str,
    signature: str | None,
    timestamp: str | None,
    body: bytes,
    *,
    now: datetime,
    tolerance: timedelta,
) -> str | None:
    """None when the delivery is genuine, else why not.

    base64(HMAC-SHA256(secret, timestamp + body)), compared in constant time; the timestamp
    must be within `tolerance` of now, so a captured delivery cannot be replayed later.
    """
    if not signature or not timestamp:
        return "missing X-Zendesk-Webhook-Signature or X-Zendesk-Webhook-Signature-Timestamp"
    sent_at = parse_time(timestamp)
    if sent_at is None:
        return "the signature timestamp is not an ISO 8601 time"
    if abs(now - sent_at) > tolerance:
        return "the signature timestamp is outside the allowed window"
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("utf-8") + body, hashlib.sha256)
    expected = base64.b64encode(digest.digest()).decode("ascii")
    if not hmac.compare_digest(expected, signature.strip()):
        return "the signature does not match"
    return None


def parse_webhook(payload: Any, body: bytes) -> WebhookEvent:
    """The ticket a delivery is about: an event webhook envelope, or carebase's trigger template."""
    if not isinstance(payload, dict):
        raise MappingError("the body must be a JSON object")
    event_type = payload.get("type")
    if isinstance(event_type, str) and event_type.startswith("zen:event-type:"):
        if not event_type.startswith("zen:event-type:ticket."):
            raise MappingError(f"{event_type} is not a ticket event: subscribe ticket events only")
        detail: dict[str, Any] = payload.get("detail") or {}
        if not isinstance(detail, dict):
            raise MappingError("detail must be an object")
        ticket_id = detail.get("id")
        subject = payload.get("subject")
        if ticket_id is None and isinstance(subject, str) and subject.startswith("zen:ticket:"):
            ticket_id = subject.removeprefix("zen:ticket:")
        event_id = payload.get("id")
        if not is_ticket_id(ticket_id) or not isinstance(event_id, str) or not event_id:
            raise MappingError("an event webhook needs detail.id (or subject) and id")
        return WebhookEvent(str(ticket_id), f"event:{event_id}"[:200], event_type[:200])
    ticket_id = payload.get("ticket_id")
    if not is_ticket_id(ticket_id):
        raise MappingError(
            "a trigger webhook needs ticket_id: use the JSON template in docs/connectors.md"
        )
    digest = hashlib.sha256(body).hexdigest()
    return WebhookEvent(str(ticket_id).strip(), f"trigger:{digest}", "trigger")


def map_ticket(
    ticket: dict[str, Any],
    users: dict[Any, dict[str, Any]],
    metrics: dict[str, Any] | None,
    helpdesk_url: str,
) -> dict[str, Any]:
    """A Zendesk ticket (with its users and metric set) as a customer_support_ticket event."""
    requester = users.get(ticket.get("requester_id")) or {}
    assignee = users.get(ticket.get("assignee_id")) or {}
    metrics = metrics or {}
    via = ticket.get("via") or {}
    source = via.get("source") or {}
    channel = str(via.get("channel") or "")
    channel_name = (source.get("to") or {}).get("address") or ticket.get("recipient")
    status = str(ticket.get("status") or "")
    score = (ticket.get("satisfaction_rating") or {}).get("score")
    created = parse_time(ticket.get("created_at"))
    solved = parse_time(metrics.get("solved_at"))
    return {
        "ticket_id": str(ticket["id"]),
        "action_at": ticket.get("updated_at"),
        "link": link(requester.get("email"), requester.get("phone")),
        "title": ticket.get("subject") or ticket.get("raw_subject"),
        "ticket_url": f"{helpdesk_url}/agent/tickets/{ticket['id']}",
        "description": ticket.get("description"),
        "timeline": {
            "created_at": iso(created),
            "closed_at": iso(solved),
            "duration": _calendar(metrics.get("full_resolution_time_in_minutes")),
            "first_reply_time": _calendar(metrics.get("reply_time_in_minutes")),
        },
        "channel": {
            "type": labels([CHANNEL.get(channel, channel)]),
            "name": labels([channel_name]),
        },
        "status": STATUS.get(status, status or None),
        "tags": labels(ticket.get("tags") or []),
        "agents": labels([assignee.get("name")]),
        "satisfaction_score": score if score in {"good", "bad"} else None,
        "custom_fields": {
            "helpdesk": KIND,
            "helpdesk_status": status or None,
            "priority": ticket.get("priority"),
            "type": ticket.get("type"),
            "via_channel": channel or None,
        },
    }


def _calendar(value: Any) -> float | None:
    if isinstance(value, dict) and isinstance(value.get("calendar"), int | float):
        return float(value["calendar"])
    return None


def _look_up_missing_users(
    client: HelpdeskClient, tickets: list[dict[str, Any]], users: dict[Any, dict[str, Any]]
) -> None:
    """Add to `users` the requesters and assignees the sideload left out, one batched call.

    Zendesk leaves deleted (`active: false`) and suspended users out of `include=users`, yet
    their tickets stay; a lookup by id still finds those it has not deleted permanently, and a
    deleted user often keeps the email the ticket came from.
    """
    wanted = {t.get(key) for t in tickets for key in ("requester_id", "assignee_id")}
    missing = sorted(i for i in wanted if isinstance(i, int) and i not in users)
    for start in range(0, len(missing), SHOW_MANY):
        ids = ",".join(str(i) for i in missing[start : start + SHOW_MANY])
        body = client.get_json("/api/v2/users/show_many.json", {"ids": ids})
        users.update((user.get("id"), user) for user in body.get("users") or [])


def _map_linked(
    ticket: dict[str, Any],
    users: dict[Any, dict[str, Any]],
    metrics: dict[str, Any] | None,
    helpdesk_url: str,
) -> dict[str, Any]:
    """map_ticket, or TicketRejected naming the requester when there is nothing to link."""
    event = map_ticket(ticket, users, metrics, helpdesk_url)
    if event["link"]:
        return event
    requester_id = ticket.get("requester_id")
    requester = users.get(requester_id)
    if requester is None:
        reason = (
            f"requester {requester_id} is not in Zendesk's users, not even looked up by id: "
            "the user may have been deleted or suspended, so there is no email or phone to link"
        )
    elif requester.get("active") is False:
        reason = f"requester {requester_id} was deleted in Zendesk and has no email or phone left"
    else:
        reason = f"requester {requester_id} has no email or phone in Zendesk to link"
    raise TicketRejected(str(ticket.get("id")), "link", reason)


def fetch(client: HelpdeskClient, ticket_id: str) -> dict[str, Any] | None:
    """One ticket, mapped; None when Zendesk no longer has it; TicketRejected when its
    requester cannot be linked."""
    try:
        body = client.get_json(
            f"/api/v2/tickets/{ticket_id}.json", {"include": "users,metric_sets"}
        )
    except OutboundError as error:
        if error.status == 404:
            return None
        raise
    ticket = body.get("ticket") or {}
    users = {user.get("id"): user for user in body.get("users") or []}
    _look_up_missing_users(client, [ticket], users)
    metrics = next(
        (m for m in body.get("metric_sets") or [] if m.get("ticket_id") == ticket.get("id")),
        None,
    )
    return _map_linked(ticket, users, metrics, client.base_url)


def backfill(
    client: HelpdeskClient, since: datetime, state: dict[str, Any] | None
) -> Iterator[Page]:
    """Pages of the cursor-based incremental ticket export, from `since` or a saved cursor."""
    cursor = (state or {}).get("cursor")
    while True:
        params: dict[str, Any] = {"include": "users,metric_sets", "exclude_deleted": "true"}
        if cursor:
            params["cursor"] = cursor
        else:
            params["start_time"] = int(since.timestamp())
        body = client.get_json("/api/v2/incremental/tickets/cursor.json", params)
        tickets = [t for t in body.get("tickets") or [] if t.get("status") != "deleted"]
        users = {user.get("id"): user for user in body.get("users") or []}
        _look_up_missing_users(client, tickets, users)
        metrics = {m.get("ticket_id"): m for m in body.get("metric_sets") or []}
        events, rejections = [], []
        for index, ticket in enumerate(tickets):
            try:
                events.append(
                    _map_linked(ticket, users, metrics.get(ticket.get("id")), client.base_url)
                )
            except TicketRejected as rejected:
                rejections.append(rejected.rejection(index))
        cursor = body.get("after_cursor") or cursor
        done = bool(body.get("end_of_stream"))
        yield Page(events, {"cursor": cursor}, done, rejections)
        if done:
            return
