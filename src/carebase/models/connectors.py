"""Helpdesk connectors and the webhook deliveries they receive."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carebase.models.base import Base, UTCDateTime
from carebase.models.types import JSONType


class Connector(Base):
    """A helpdesk (Zendesk, Gorgias or Freshdesk) feeding one ticket dataset."""

    __tablename__ = "connectors"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    # https://acme.zendesk.com, https://acme.gorgias.com, https://acme.freshdesk.com
    base_url: Mapped[str] = mapped_column(String(500))
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    # Fernet ciphertext of the API credentials (JSON), key derived from CAREBASE_SECRET_KEY.
    credentials: Mapped[str] = mapped_column(Text)
    # Zendesk: the webhook signing secret, encrypted (HMAC needs it back).
    signing_secret: Mapped[str | None] = mapped_column(Text)
    # Gorgias, Freshdesk: SHA-256 of the secret carebase generated (shown once).
    webhook_secret_hash: Mapped[str | None] = mapped_column(String(64))
    # Where an interrupted backfill resumes: {"since": …, "cursor": …, …}.
    backfill_state: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    """One webhook call, stored before it is acknowledged and processed after."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("connector_id", "delivery_key"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    connector_id: Mapped[str] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    # The helpdesk's event id, or the SHA-256 of the body: a retried delivery is a duplicate.
    delivery_key: Mapped[str] = mapped_column(String(200))
    ticket_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str | None] = mapped_column(String(200))
    # pending -> done | failed (after the last attempt); done keeps the ingestion log id.
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    log_id: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
