"""What the three helpdesk mappings share: timestamps, and timeline minutes from messages.

Timeline from a conversation (Gorgias, Freshdesk; also documented in docs/connectors.md):
- only customer messages and public replies by human agents count: private notes, internal
  notes and automated messages (rules, macros sent by automations) are left out;
- first_reply_time: minutes from the first customer message to the first public agent reply
  after it;
- reply_time: the mean, over each run of customer messages answered by an agent, of the minutes
  from the run's first message to the agent's reply;
- duration: minutes from the ticket's creation to its resolution (null while unresolved).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from carebase.recordtypes.lexer import parse_timestamp


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a conversation, reduced to what the timeline needs."""

    at: datetime
    from_customer: bool
    # A reply a human agent sent the customer (not a note, not an automation).
    public_agent_reply: bool


def parse_time(value: Any) -> datetime | None:
    """A helpdesk's ISO 8601 time, read by ingestion's own rule (no offset means UTC), or None."""
    return parse_timestamp(value) if isinstance(value, str) and value else None


def iso(value: datetime | None) -> str | None:
    """`2024-11-06T10:15:00Z`."""
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def minutes(start: datetime | None, end: datetime | None) -> float | None:
    """Minutes from start to end, never negative; None when either is unknown."""
    if start is None or end is None:
        return None
    return round(max((end - start).total_seconds(), 0.0) / 60, 2)


def conversation_timeline(
    messages: Iterable[Message], created_at: datetime | None, resolved_at: datetime | None
) -> dict[str, float | None]:
    """first_reply_time, reply_time and duration (minutes) of one conversation."""
    first_customer: datetime | None = None
    first_reply: float | None = None
    waiting_since: datetime | None = None
    gaps: list[float] = []
    for message in sorted(messages, key=lambda item: item.at):
        if message.from_customer:
            first_customer = first_customer or message.at
            waiting_since = waiting_since or message.at
        elif message.public_agent_reply and waiting_since is not None:
            gap = minutes(waiting_since, message.at)
            assert gap is not None
            gaps.append(gap)
            if first_reply is None:
                first_reply = minutes(first_customer, message.at)
            waiting_since = None
    return {
        "first_reply_time": first_reply,
        "reply_time": round(sum(gaps) / len(gaps), 2) if gaps else None,
        "duration": minutes(created_at, resolved_at),
    }


def labels(values: Iterable[Any]) -> list[str]:
    """Non-empty strings, deduplicated, in order (tags, agent names, channel names)."""
    seen: dict[str, None] = {}
    for value in values:
        if isinstance(value, str | int) and str(value).strip():
            seen.setdefault(str(value).strip()[:255], None)
    return list(seen)


def link(email: Any, phone: Any) -> dict[str, str]:
    """The ticket's link: the requester's email and phone, whichever are known."""
    found: dict[str, str] = {}
    if isinstance(email, str) and email.strip():
        found["email"] = email.strip()
    if isinstance(phone, str) and phone.strip():
        found["mobile"] = phone.strip()
    return found


def helpdesk_url(domain: str, suffix: str) -> str:
    """`acme`, `acme.<suffix>` or a full URL → `https://acme.<suffix>`."""
    domain = domain.strip().rstrip("/")
    if domain.startswith(("https://", "http://")):
        return domain
    return f"https://{domain if '.' in domain else f'{domain}.{suffix}'}"


def is_ticket_id(value: Any) -> bool:
    """A helpdesk ticket id: a positive integer, or its digits as text."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())


class MappingError(ValueError):
    """A helpdesk payload or ticket that cannot be turned into a ticket event."""


class TicketRejected(MappingError):
    """A ticket the helpdesk returned that carebase cannot store, with the reason for the admin
    (e.g. its requester is gone, so there is no email or phone to link it to)."""

    def __init__(self, ticket_id: str, field: str, reason: str) -> None:
        super().__init__(f"ticket {ticket_id}: {field}: {reason}")
        self.ticket_id, self.field, self.reason = ticket_id, field, reason

    def rejection(self, index: int) -> dict[str, Any]:
        """The rejection as ingestion reports one (index in its page, ticket_id, errors)."""
        return {
            "index": index,
            "ticket_id": self.ticket_id,
            "record_id": self.ticket_id,
            "errors": [{"field": self.field, "reason": self.reason}],
        }
