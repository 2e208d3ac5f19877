"""Computed profile attributes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from carebase.models.base import Base, UTCDateTime
from carebase.models.types import JSONType, SearchKey


class SupportAttributes(Base):
    """Support attributes of one profile, recomputed in the transaction that changes its tickets."""

    __tablename__ = "support_attributes"

    profile_id: Mapped[str] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    ticket_count: Mapped[int] = mapped_column(Integer)
    open_ticket_count: Mapped[int] = mapped_column(Integer)
    first_ticket_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_ticket_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_ticket_status: Mapped[str | None] = mapped_column(String(100))
    last_satisfaction_score: Mapped[Any] = mapped_column(JSONType, nullable=True)
    avg_first_reply_time: Mapped[float | None] = mapped_column()
    avg_duration: Mapped[float | None] = mapped_column()
    channel_types: Mapped[list[str]] = mapped_column(JSONType)
    tags: Mapped[list[str]] = mapped_column(JSONType)
    agents: Mapped[list[str]] = mapped_column(JSONType)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Folding state: lets a new ticket update the attributes without reading the others.
    first_reply_time_sum: Mapped[float] = mapped_column()
    first_reply_time_n: Mapped[int] = mapped_column(Integer)
    duration_sum: Mapped[float] = mapped_column()
    duration_n: Mapped[int] = mapped_column(Integer)
    last_ticket_action_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_ticket_id: Mapped[str | None] = mapped_column(String(255))
    last_satisfaction_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_satisfaction_ticket_id: Mapped[str | None] = mapped_column(String(255))


class CommerceAttributes(Base):
    """Purchase and return attributes of one profile, folded from its events."""

    __tablename__ = "commerce_attributes"

    profile_id: Mapped[str] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    order_count: Mapped[int] = mapped_column(Integer)
    return_count: Mapped[int] = mapped_column(Integer)
    first_order_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_order_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_return_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # {currency: amount}; currency "unspecified" when a record gives none.
    spend: Mapped[dict[str, float]] = mapped_column(JSONType)
    orders_by_currency: Mapped[dict[str, int]] = mapped_column(JSONType)
    returned: Mapped[dict[str, float]] = mapped_column(JSONType)
    # {"<id_type>:<id>": quantity}: resolved to categories when read, so a product that
    # arrives after the purchase still counts.
    products: Mapped[dict[str, int]] = mapped_column(JSONType)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EngagementAttributes(Base):
    """Email and SMS attributes of one profile, folded from its events."""

    __tablename__ = "engagement_attributes"

    profile_id: Mapped[str] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    last_email_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_email_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_email_click_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_email_bounce_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_sms_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_sms_click_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # {record_type: count} of email_* and sms_* events.
    counts: Mapped[dict[str, int]] = mapped_column(JSONType)
    # {"email:<list id>": {channel, list_id, list_name, status, changed_at}}.
    subscriptions: Mapped[dict[str, Any]] = mapped_column(JSONType)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CustomerAttributes(Base):
    """CRM fields of one profile, merged from its customer records when they change.

    Per field, the most recently changed record that gives a value wins (see
    `attributes/customer.py`); stored as columns so segments and SQL can filter on them.
    """

    __tablename__ = "customer_attributes"

    profile_id: Mapped[str] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    first_name: Mapped[str | None] = mapped_column(Text)
    last_name: Mapped[str | None] = mapped_column(Text)
    # Search keys (`kit/searchkey.py`) of "first last" and of the last name alone: a name
    # typed into profile search is a prefix range on one of them.
    name_key: Mapped[str | None] = mapped_column(SearchKey, index=True)
    last_name_key: Mapped[str | None] = mapped_column(SearchKey, index=True)
    email: Mapped[str | None] = mapped_column(Text)
    email_sha256: Mapped[str | None] = mapped_column(Text)
    mobile: Mapped[str | None] = mapped_column(Text)
    customer_id: Mapped[str | None] = mapped_column(Text)
    gender: Mapped[str | None] = mapped_column(Text)
    date_of_birth: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(Text)
    zip: Mapped[str | None] = mapped_column(Text)
    address_1: Mapped[str | None] = mapped_column(Text)
    address_2: Mapped[str | None] = mapped_column(Text)
    customer_type: Mapped[str | None] = mapped_column(Text)
    employee_flag: Mapped[bool | None] = mapped_column(Boolean)
    # The custom fields whose name starts with "loyalty", kept apart for filtering.
    loyalty: Mapped[dict[str, Any]] = mapped_column(JSONType)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONType)
    record_count: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
