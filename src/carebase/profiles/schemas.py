"""Profile Read API bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from carebase.kit.pagination import Page


class LinkOut(BaseModel):
    """A normalised identifier of the profile."""

    type: str = Field(examples=["email"])
    value: str
    system_name: str | None = None


class SupportAttributesOut(BaseModel):
    """Support attributes; definitions in docs/attributes.md."""

    last_ticket_date: datetime | None
    last_satisfaction_score: str | int | float | None
    ticket_count: int
    channel_types: list[str]
    tags: list[str]
    agents: list[str]
    first_ticket_date: datetime | None
    open_ticket_count: int
    tickets_last_30_days: int
    tickets_last_90_days: int
    avg_first_reply_time: float | None = Field(description="minutes")
    avg_duration: float | None = Field(description="minutes")
    last_ticket_status: str | None
    computed_at: datetime = Field(description="When the stored attributes were last recomputed.")


class TimelineOut(BaseModel):
    """Ticket timeline (minutes)."""

    created_at: datetime
    closed_at: datetime | None
    duration: float | None
    reply_time: float | None
    first_reply_time: float | None


class ChannelOut(BaseModel):
    """Ticket channels."""

    type: list[str]
    name: list[str]


class TicketOut(BaseModel):
    """A stored ticket, in the shape it was posted."""

    ticket_id: str
    dataset_id: str
    action_at: datetime
    link: dict[str, Any]
    title: str | None
    ticket_url: str | None
    description: str | None
    timeline: TimelineOut
    channel: ChannelOut
    status: str | None
    tags: list[str]
    agents: list[str]
    satisfaction_score: str | int | float | None
    custom_fields: dict[str, Any]

    @classmethod
    def from_row(cls, row: Any) -> TicketOut:
        """Rebuild the posted shape from a stored row."""
        return cls(
            ticket_id=row.ticket_id,
            dataset_id=row.dataset_id,
            action_at=row.action_at,
            link=row.link,
            title=row.title,
            ticket_url=row.ticket_url,
            description=row.description,
            timeline=TimelineOut(
                created_at=row.created_at,
                closed_at=row.closed_at,
                duration=row.duration,
                reply_time=row.reply_time,
                first_reply_time=row.first_reply_time,
            ),
            channel=ChannelOut(type=row.channel_types, name=row.channel_names),
            status=row.status,
            tags=row.tags,
            agents=row.agents,
            satisfaction_score=row.satisfaction_score,
            custom_fields=row.custom_fields,
        )


class CustomerOut(BaseModel):
    """CRM fields from the profile's customer records. Per field, the most recently changed
    record that gives a value wins; custom_fields merge key by key the same way."""

    first_name: str | None
    last_name: str | None
    email: str | None = Field(description="As given in the record (an attribute, not a link).")
    email_sha256: str | None
    mobile: str | None
    customer_id: str | None
    gender: str | None
    date_of_birth: str | None
    country: str | None
    state: str | None
    city: str | None
    postcode: str | None
    zip: str | None
    address_1: str | None
    address_2: str | None
    customer_type: str | None
    employee_flag: bool | None
    loyalty: dict[str, Any] = Field(description="Custom fields whose name starts with loyalty.")
    custom_fields: dict[str, Any]
    record_count: int = Field(description="Customer records on this profile.")


class CategoryCount(BaseModel):
    """A category and the quantity of its products bought."""

    name: str
    quantity: int


class CommerceOut(BaseModel):
    """Purchase and return attributes; amounts per currency (upper-cased ISO 4217 code, or
    "unspecified"), rounded to 2 decimals."""

    order_count: int
    return_count: int
    total_spend: dict[str, float]
    average_order_value: dict[str, float]
    returned_value: dict[str, float]
    first_order_date: datetime | None
    last_order_date: datetime | None
    last_return_date: datetime | None
    top_categories: list[CategoryCount] = Field(description="Up to 5, most bought first.")


class SubscriptionOut(BaseModel):
    """The latest subscription status of one channel and list."""

    channel: str = Field(examples=["email", "sms"])
    list_id: str | None
    list_name: str | None
    status: str
    changed_at: datetime


class EngagementOut(BaseModel):
    """Email and SMS attributes."""

    last_email_send_at: datetime | None
    last_email_open_at: datetime | None
    last_email_click_at: datetime | None
    last_email_bounce_at: datetime | None
    last_sms_send_at: datetime | None
    last_sms_click_at: datetime | None
    emails_sent: int
    emails_opened: int
    emails_clicked: int
    emails_bounced: int
    sms_sent: int
    sms_clicked: int
    subscriptions: list[SubscriptionOut]


class ProfileOut(BaseModel):
    """A customer profile."""

    id: str
    resolved_from: str | None = Field(
        default=None, description="The id asked for, when it was merged into this profile."
    )
    created_at: datetime
    updated_at: datetime
    links: list[LinkOut]
    attributes: SupportAttributesOut
    customer: CustomerOut
    commerce: CommerceOut
    engagement: EngagementOut
    tickets: list[TicketOut] = Field(description="Most recently created first.")


class MergeOut(BaseModel):
    """One merge in a profile's history."""

    id: str = Field(description="The merge's id: what undoing it names.")
    survivor_id: str
    merged_id: str
    rule: str
    links: list[dict[str, Any]] = Field(description="The links the merging record carried.")
    ingestion_log_id: str | None
    created_at: datetime
    undone_at: datetime | None = Field(
        None, description="When the merge was undone; the two profiles are kept apart since."
    )
    undone_by: str | None = Field(None, description="The token that undid it.")


class MergeHistory(BaseModel):
    """How a profile came to be: every merge into it, oldest first."""

    profile_id: str
    merges: list[MergeOut]


class Forgotten(BaseModel):
    """A forgotten profile."""

    profile_id: str
    links_suppressed: int


class SuppressionOut(BaseModel):
    """A suppressed link: only its type and hash are kept."""

    id: str
    link_type: str
    link_hash: str
    group_id: str | None = Field(
        description="An email and its derived hashes share a group; lifting one lifts all."
    )
    reason: str
    created_at: datetime


class SuppressionPage(Page[SuppressionOut]):
    """Suppressions, oldest first; pass `next_cursor` as `cursor` for the next page."""

    suppressions: list[SuppressionOut] = Field(
        deprecated=True, description="The same entries as `items`, under their S2 name."
    )


class HistoryProduct(BaseModel):
    """One purchase or return line, with the catalogue's product when carebase has it."""

    id: str | None
    name: str | None
    image: str | None
    url: str | None
    quantity: int | None
    price_paid: float | None


class HistoryItemOut(BaseModel):
    """One entry of a profile's history."""

    type: str = Field(examples=["purchase"], description="The record type.")
    at: datetime = Field(description="action_at; for a ticket, when it was created.")
    id: str = Field(description="ticket_id, purchase_id, return_id, email_id or sms_id.")
    dataset_id: str
    summary: str = Field(examples=["Purchase 53059a — 4 items, 100.00 USD (St Kilda Outlet)"])
    record: dict[str, Any] = Field(description="The full record, as posted.")
    products: list[HistoryProduct] | None = Field(
        default=None,
        description="Purchases and returns: each line with its catalogue product, when known.",
    )


class HistoryPage(BaseModel):
    """A page of a profile's history; pass `next_cursor` as `cursor` for the next."""

    profile_id: str
    order: str = Field(examples=["newest"])
    items: list[HistoryItemOut]
    next_cursor: str | None


class UndoneMerge(BaseModel):
    """What undoing a merge did."""

    merge: MergeOut
    survivor_id: str = Field(description="The profile that keeps the bridging records.")
    restored_id: str = Field(description="The merged profile, live again.")
    links_restored: int = Field(description="Links given back to the restored profile.")
    records_restored: dict[str, int] = Field(
        description="Records given back, by kind (tickets, events, customer_records)."
    )


class SearchHitOut(BaseModel):
    """A profile profile search found."""

    profile_id: str
    name: str | None = Field(description="First and last name from the customer's records.")
    email: str | None
    mobile: str | None
    customer_id: str | None
    matched_field: str = Field(
        description="What the query matched: email, mobile, customer_id, external_id, name "
        "(first and last) or last_name."
    )
    matched_value: str


class SearchResultOut(BaseModel):
    """Profiles found, best match first."""

    items: list[SearchHitOut]
    truncated: bool = Field(description="More profiles matched than `limit`; type more.")
