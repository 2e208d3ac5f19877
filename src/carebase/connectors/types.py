"""Values the helpdesk modules hand to the connector service."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """What a webhook delivery is about."""

    ticket_id: str
    # Two deliveries with the same key are one (a helpdesk retrying).
    delivery_key: str
    event_type: str | None


@dataclass(slots=True)
class Page:
    """One page of a backfill: mapped ticket events, and the state to resume after it."""

    events: list[dict[str, Any]]
    state: dict[str, Any]
    done: bool
    # Tickets the helpdesk module could not map, as ingestion reports rejections.
    rejections: list[dict[str, Any]] = field(default_factory=list)
