"""The three helpdesks behind one interface."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from carebase.connectors import freshdesk, gorgias, zendesk
from carebase.connectors.types import Page, WebhookEvent
from carebase.http.outbound import HelpdeskClient, Pacing


@dataclass(frozen=True, slots=True)
class Kind:
    """What carebase needs from one helpdesk module."""

    name: str
    credential_fields: tuple[str, ...]
    # Zendesk signs its webhooks with a secret it generates; the others are unsigned and
    # authenticate with a secret carebase generates.
    signed: bool
    base_url: Callable[[str], str]
    auth: Callable[[dict[str, str]], tuple[str, str]]
    pacing: Pacing
    backfill_pacing: Pacing
    parse_webhook: Callable[[Any, bytes], WebhookEvent]
    fetch: Callable[[HelpdeskClient, str], dict[str, Any] | None]
    backfill: Callable[[HelpdeskClient, datetime, dict[str, Any] | None], Iterator[Page]]


KINDS: dict[str, Kind] = {
    "zendesk": Kind(
        "zendesk",
        ("email", "api_token"),
        True,
        zendesk.base_url,
        zendesk.credentials_auth,
        zendesk.PACING,
        zendesk.EXPORT_PACING,
        zendesk.parse_webhook,
        zendesk.fetch,
        zendesk.backfill,
    ),
    "gorgias": Kind(
        "gorgias",
        ("username", "api_key"),
        False,
        gorgias.base_url,
        gorgias.credentials_auth,
        gorgias.PACING,
        gorgias.PACING,
        gorgias.parse_webhook,
        gorgias.fetch,
        gorgias.backfill,
    ),
    "freshdesk": Kind(
        "freshdesk",
        ("api_key",),
        False,
        freshdesk.base_url,
        freshdesk.credentials_auth,
        freshdesk.PACING,
        freshdesk.PACING,
        freshdesk.parse_webhook,
        freshdesk.fetch,
        freshdesk.backfill,
    ),
}
