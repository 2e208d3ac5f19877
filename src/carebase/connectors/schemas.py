"""Request and response bodies of the connectors API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from carebase.kit.pagination import Page


class ConnectorCreate(BaseModel):
    """A helpdesk to connect. Credentials are encrypted at rest and never returned."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["zendesk", "gorgias", "freshdesk"]
    name: str = Field(min_length=1, max_length=200, examples=["Zendesk EU"])
    domain: str = Field(
        min_length=1,
        max_length=500,
        description="acme, acme.zendesk.com, or a full https URL.",
        examples=["acme"],
    )
    dataset_id: str = Field(description="The customer_support_ticket dataset tickets go to.")
    credentials: dict[str, str] = Field(
        description="zendesk: email, api_token · gorgias: username, api_key · freshdesk: api_key",
        examples=[{"email": "admin@acme.com", "api_token": "…"}],
    )
    signing_secret: str | None = Field(
        default=None,
        max_length=500,
        description="Zendesk only: the webhook's signing secret (Admin Center → Webhooks).",
    )


class ConnectorOut(BaseModel):
    """A connector, without its credentials."""

    id: str
    kind: str
    name: str
    base_url: str
    dataset_id: str
    webhook_path: str = Field(description="POST here from the helpdesk (prefix your host).")
    webhook_auth: dict[str, Any]
    deliveries: dict[str, int] = Field(description="Webhook deliveries by status.")
    backfill_state: dict[str, Any] | None
    created_at: datetime


class ConnectorCreated(ConnectorOut):
    """A new connector; `webhook_secret` is shown this once (Gorgias, Freshdesk)."""

    webhook_secret: str | None = None


class ConnectorList(BaseModel):
    """Connectors, oldest first."""

    connectors: list[ConnectorOut]


class WebhookAccepted(BaseModel):
    """A stored webhook delivery; the ticket is fetched and ingested after this answer."""

    delivery_id: str
    ticket_id: str
    duplicate: bool = Field(description="The same delivery was received before: nothing new.")


class DeliveryOut(BaseModel):
    """One webhook delivery and how it ended."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    ticket_id: str
    event_type: str | None
    status: str = Field(description="pending, processing, done, rejected, skipped or failed")
    attempts: int
    received_at: datetime
    processed_at: datetime | None
    log_id: str | None
    error: str | None


class DeliveryList(Page[DeliveryOut]):
    """A connector's deliveries, most recent first; pass `next_cursor` as `cursor` for more."""

    deliveries: list[DeliveryOut] = Field(
        deprecated=True, description="The same deliveries as `items`, under their S4 name."
    )
