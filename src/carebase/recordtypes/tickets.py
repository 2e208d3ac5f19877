"""The `customer_support_ticket` event format, validated as the reference documents it.

Required: `ticket_id`, `action_at`, `timeline.created_at`, and a `link` with at
least one of `email` / `mobile`. Everything else is optional and checked by type.
Fields the format does not name are kept as custom fields, never dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from carebase import jsonutil
from carebase.recordtypes.registry import Parsed, RecordType
from carebase.recordtypes.text import clip
from carebase.recordtypes.tickets_fast import FastTicket, fast_ticket
from carebase.recordtypes.timestamps import Timestamp
from carebase.recordtypes.validation import field_errors, scan_hostile

RECORD_TYPE = "customer_support_ticket"


def _wrap_scalar(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _id_text(value: Any) -> Any:
    # Helpdesks number their tickets; accept 12345 as "12345" (but not true/false).
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


Short = Annotated[str, StringConstraints(max_length=255)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Labels = Annotated[list[Label], BeforeValidator(_wrap_scalar), Field(max_length=500)]
Minutes = Annotated[float, Field(ge=0, le=10_000_000)]


class TicketLink(BaseModel):
    """Who the ticket is from: at least one of email or mobile."""

    # The validator's rules, stated in the document too (a null is as good as absent; a
    # system_name, even null, is documented as needing a customer_id).
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": ["email"], "properties": {"email": {"type": "string"}}},
                {"required": ["mobile"], "properties": {"mobile": {"type": "string"}}},
            ],
            "dependentSchemas": {
                "system_name": {
                    "required": ["customer_id"],
                    "properties": {"customer_id": {"type": "string"}},
                }
            },
        },
    )

    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    mobile: Annotated[str, StringConstraints(max_length=64)] | None = None
    customer_id: (
        Annotated[str, BeforeValidator(_id_text), StringConstraints(min_length=1, max_length=255)]
        | None
    ) = None
    system_name: Annotated[str, StringConstraints(max_length=100)] | None = None

    @model_validator(mode="after")
    def _email_or_mobile(self) -> TicketLink:
        if self.email is None and self.mobile is None:
            raise ValueError("needs at least one of email or mobile")
        if self.system_name is not None and self.customer_id is None:
            raise ValueError("system_name is only meaningful with customer_id")
        return self


class Timeline(BaseModel):
    """When the ticket was created and closed, and its reply times in minutes."""

    model_config = ConfigDict(extra="allow")

    created_at: Timestamp
    closed_at: Timestamp | None = None
    duration: Minutes | None = None
    reply_time: Minutes | None = None
    first_reply_time: Minutes | None = None


class Channel(BaseModel):
    """Channel types (email, chat, web_form, api…) and names (the address used)."""

    model_config = ConfigDict(extra="allow")

    type: Labels = Field(default_factory=list)
    name: Labels = Field(default_factory=list)


class TicketEvent(BaseModel):
    """One ticket event as posted."""

    model_config = ConfigDict(extra="allow")

    ticket_id: Annotated[
        str, BeforeValidator(_id_text), StringConstraints(min_length=1, max_length=255)
    ]
    action_at: Timestamp
    link: TicketLink
    timeline: Timeline
    title: Annotated[str, StringConstraints(max_length=2_000)] | None = None
    ticket_url: Annotated[str, StringConstraints(max_length=2_083)] | None = None
    description: Annotated[str, StringConstraints(max_length=100_000)] | None = None
    channel: Channel | None = None
    status: Annotated[str, StringConstraints(max_length=100)] | None = None
    tags: Labels = Field(default_factory=list)
    agents: Labels = Field(default_factory=list)
    satisfaction_score: Short | int | float | None = None
    custom_fields: dict[str, Any] | None = None


@cache
def batch_json_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """(request body schema, component schemas) of a batch, for the OpenAPI document."""
    schema = TypeAdapter(list[TicketEvent]).json_schema(ref_template="#/components/schemas/{model}")
    components = schema.pop("$defs", {})
    schema.update(minItems=1, maxItems=1000, title="CustomerSupportTicketBatch")
    return schema, components


def parse_ticket(raw: Any, may_contain_nul: bool = True) -> Parsed | list[dict[str, str]]:
    """A Parsed ticket (its typed columns in `columns`), or the `{field, reason}` problems.

    `may_contain_nul=False` (the caller saw no `\\u0000` in the raw JSON) skips the scan of
    typed fields; custom fields, which have no schema, are always scanned for depth.
    """
    if not isinstance(raw, dict):
        return [{"field": "(record)", "reason": "must be a JSON object"}]
    if may_contain_nul:
        hostile = scan_hostile(raw)
        if hostile is not None:
            return [hostile]
    try:
        canonical = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        # Beyond orjson (surrogates, huge integers): pydantic decides, the stdlib hashes.
        canonical, event = None, None
    else:
        event = fast_ticket(raw)
    if event is None:
        try:
            event = _from_model(TicketEvent.model_validate(raw))
        except ValidationError as error:
            return field_errors(error)
    custom = dict(event.custom_fields or {})
    custom.update(event.extra)
    custom.update({f"timeline.{k}": v for k, v in event.timeline_extra.items()})
    custom.update({f"channel.{k}": v for k, v in event.channel_extra.items()})
    if not may_contain_nul:
        hostile = scan_hostile(custom, "custom_fields")
        if hostile is not None:
            return [hostile]
    if canonical is None:
        canonical = jsonutil.dumps(raw, sort_keys=True)
    digest = hashlib.sha256(canonical).hexdigest()
    columns = {
        "action_at": event.action_at,
        "created_at": event.created_at,
        "closed_at": event.closed_at,
        "duration": event.duration,
        "reply_time": event.reply_time,
        "first_reply_time": event.first_reply_time,
        "status": event.status,
        "title": event.title,
        "ticket_url": event.ticket_url,
        "description": event.description,
        "channel_types": event.channel_types,
        "channel_names": event.channel_names,
        "tags": event.tags,
        "agents": event.agents,
        "satisfaction_score": event.satisfaction_score,
        "custom_fields": custom,
        "link": event.link,
        "content_hash": digest,
    }
    return Parsed(raw, event.ticket_id, event.action_at, [event.link], digest, columns)


def _from_model(event: TicketEvent) -> FastTicket:
    """The validated model's values, in the fast path's shape."""
    timeline, channel = event.timeline, event.channel
    return FastTicket(
        ticket_id=event.ticket_id,
        action_at=event.action_at,
        link=event.link.model_dump(exclude_none=True),
        created_at=timeline.created_at,
        closed_at=timeline.closed_at,
        duration=timeline.duration,
        reply_time=timeline.reply_time,
        first_reply_time=timeline.first_reply_time,
        timeline_extra=timeline.model_extra or {},
        channel_types=channel.type if channel else [],
        channel_names=channel.name if channel else [],
        channel_extra=(channel.model_extra or {}) if channel else {},
        title=event.title,
        ticket_url=event.ticket_url,
        description=event.description,
        status=event.status,
        tags=event.tags,
        agents=event.agents,
        satisfaction_score=event.satisfaction_score,
        custom_fields=event.custom_fields,
        extra=event.model_extra or {},
    )


def history_line(row: Mapping[str, Any]) -> str:
    """`Ticket T1: Faulty seam — open, via email, satisfaction good`."""
    head = f"Ticket {row['ticket_id']}"
    if row["title"]:
        head += f": {clip(row['title'])}"
    details = []
    if row["status"]:
        details.append(row["status"])
    if row["channel_types"]:
        details.append("via " + ", ".join(row["channel_types"]))
    if row["satisfaction_score"] is not None:
        details.append(f"satisfaction {row['satisfaction_score']}")
    return " — ".join([head, ", ".join(details)]) if details else head


def _no_schema() -> dict[str, Any] | None:
    return None


TICKET = RecordType(
    name=RECORD_TYPE,
    summary="A support ticket event; keyed by ticket_id, the newest action_at wins.",
    kind="ticket",
    parse=parse_ticket,
    openapi=batch_json_schema,
    schema=_no_schema,
    id_field="ticket_id",
    timestamp_field="action_at",
    feeds=("support",),
    history_line=history_line,
    operation_id="ingestSupportTickets",
)
