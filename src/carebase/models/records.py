"""Stored records: support tickets (one row per conversation)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carebase.models.base import Base, UTCDateTime
from carebase.models.types import BigIntegerKey, JSONType

# The fields segment conditions and the event search filter on most, read from the window
# index alone (see migration 0015). PostgreSQL INCLUDEs the small ones only: a B-tree entry
# must stay under ~2.7 kB, and tags or channel lists may be longer; SQLite has no such limit.
_WINDOW_INCLUDED = ("profile_id", "satisfaction_score", "status")
_WINDOW_KEYED = ("tags", "channel_types")


class Ticket(Base):
    """The winning (newest `action_at`) state of one ticket in one dataset."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("dataset_id", "ticket_id"),
        Index("ix_tickets_profile_id_created_at", "profile_id", "created_at"),
        # The 120-day window of segments and event search, newest first with `pk` as the
        # tie-break; one definition (and name) per engine.
        Index(
            "ix_tickets_window", "created_at", "pk", postgresql_include=list(_WINDOW_INCLUDED)
        ).ddl_if(dialect="postgresql"),
        Index(
            "ix_tickets_window_covering", "created_at", "pk", *_WINDOW_INCLUDED, *_WINDOW_KEYED
        ).ddl_if(dialect="sqlite"),
    )

    pk: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    ticket_id: Mapped[str] = mapped_column(String(255))
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    action_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration: Mapped[float | None] = mapped_column()
    reply_time: Mapped[float | None] = mapped_column()
    first_reply_time: Mapped[float | None] = mapped_column()
    status: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(Text)
    ticket_url: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    channel_types: Mapped[list[str]] = mapped_column(JSONType)
    channel_names: Mapped[list[str]] = mapped_column(JSONType)
    tags: Mapped[list[str]] = mapped_column(JSONType)
    agents: Mapped[list[str]] = mapped_column(JSONType)
    satisfaction_score: Mapped[Any] = mapped_column(JSONType, nullable=True)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONType)
    link: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # SHA-256 of the canonical event: breaks ties between events with equal action_at.
    content_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Event(Base):
    """One Lexer event (purchase, return, email_*, sms_*), keyed by its natural key.

    `record` is the record as posted; `event_key` is its purchase_id, return_id,
    email_id or sms_id (or `sha256:<content hash>` for an email event without an id).
    """

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("dataset_id", "event_key"),
        Index("ix_events_profile_id_action_at", "profile_id", "action_at"),
        # One event type's time window (segments, event search), newest first.
        Index(
            "ix_events_window", "record_type", "action_at", "pk", postgresql_include=["profile_id"]
        ).ddl_if(dialect="postgresql"),
        Index("ix_events_window_covering", "record_type", "action_at", "pk", "profile_id").ddl_if(
            dialect="sqlite"
        ),
    )

    pk: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    record_type: Mapped[str] = mapped_column(String(40))
    event_key: Mapped[str] = mapped_column(String(320))
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    action_at: Mapped[datetime] = mapped_column(UTCDateTime())
    record: Mapped[dict[str, Any]] = mapped_column(JSONType)
    content_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CustomerRecord(Base):
    """The latest customer_record for one link in one dataset (its primary key is the link)."""

    __tablename__ = "customer_records"
    __table_args__ = (
        UniqueConstraint("dataset_id", "link_type", "system_name", "link_value"),
        Index("ix_customer_records_profile_id", "profile_id"),
    )

    pk: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    link_type: Mapped[str] = mapped_column(String(20))
    system_name: Mapped[str] = mapped_column(String(100))
    link_value: Mapped[str] = mapped_column(String(320))
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    record: Mapped[dict[str, Any]] = mapped_column(JSONType)
    content_hash: Mapped[str] = mapped_column(String(64))
    # When this link's record last changed: decides which record's fields win on a profile.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CatalogItem(Base):
    """A product or category entity, keyed by its natural key in its dataset."""

    __tablename__ = "catalog_items"
    __table_args__ = (
        UniqueConstraint("dataset_id", "item_key"),
        Index("ix_catalog_items_product_id", "product_id"),
        Index("ix_catalog_items_sku", "sku"),
        Index("ix_catalog_items_upc", "upc"),
    )

    pk: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    record_type: Mapped[str] = mapped_column(String(40))
    item_key: Mapped[str] = mapped_column(String(320))
    # A purchase line's product_reference names one of these.
    product_id: Mapped[str | None] = mapped_column(String(320))
    sku: Mapped[str | None] = mapped_column(String(320))
    upc: Mapped[str | None] = mapped_column(String(320))
    record: Mapped[dict[str, Any]] = mapped_column(JSONType)
    content_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
