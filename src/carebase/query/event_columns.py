"""The columns of the event views: ticket_events from the `tickets` table, one view per other
event family from the record-type registry (`carebase.recordtypes`), each field of the
types' published schemas a column."""

from __future__ import annotations

from typing import Any

from carebase import recordtypes
from carebase.models import Ticket
from carebase.models.base import table
from carebase.query.columns import BOOLEAN, INTEGER, JSON, NUMBER, TEXT, TIMESTAMP, Column, same

# ---- events -------------------------------------------------------------------------------

# Ticket columns that are bookkeeping, not the ticket.
_TICKET_INTERNAL = frozenset({"pk", "content_hash", "received_at", "link"})
_TICKET_WORDS = {
    "ticket_id": "The ticket's id in its helpdesk.",
    "dataset_id": "The dataset it arrived in.",
    "profile_id": "The profile it belongs to.",
    "action_at": "When this version of the ticket happened (`action_at`).",
    "created_at": "When the ticket was created (`timeline.created_at`).",
    "closed_at": "When the ticket was closed (`timeline.closed_at`).",
    "duration": "Minutes from creation to close (`timeline.duration`).",
    "reply_time": "Reply time in minutes (`timeline.reply_time`).",
    "first_reply_time": "First reply time in minutes (`timeline.first_reply_time`).",
    "satisfaction_score": "The satisfaction score, as text or a number.",
    "channel_types": "The channel types (`channel.type`), a JSON array.",
    "channel_names": "The channel names (`channel.name`), a JSON array.",
}


def _sql_type(column: Any) -> str:
    name = type(column.type).__name__.lower()
    if "date" in name or "time" in name:
        return TIMESTAMP
    if "json" in name or ("variant" in name and "json" in repr(column.type).lower()):
        return JSON
    if "int" in name:
        return INTEGER
    if "float" in name or "double" in name or "numeric" in name:
        return NUMBER
    return TEXT


def ticket_event_columns() -> tuple[Column, ...]:
    """Every column of the `tickets` table but bookkeeping: the twelve searchable
    properties (title, created/closed at, duration, reply and first reply time, channel
    types and names, status, tags, agents, satisfaction score) and the rest."""
    columns = []
    for column in table(Ticket).columns:
        if column.name in _TICKET_INTERNAL:
            continue
        kind = _sql_type(column)
        words = _TICKET_WORDS.get(column.name, f"The ticket's `{column.name}`.")
        if column.name == "satisfaction_score":
            columns.append(
                Column(
                    column.name,
                    TEXT,
                    words,
                    "json_extract(t.satisfaction_score, '$')",
                    "(t.satisfaction_score #>> '{}')",
                )
            )
            continue
        columns.append(same(column.name, kind, words, f"t.{column.name}"))
    return tuple(columns)


# Field names that are SQL keywords get a plain word.
_RENAMED = {"from": "sender", "to": "recipient"}
_JSON_SCHEMA_TYPES = {"string": TEXT, "integer": INTEGER, "number": NUMBER, "boolean": BOOLEAN}


def _field_type(schema: dict[str, Any], definition: dict[str, Any]) -> str:
    if "allOf" in definition and len(definition["allOf"]) == 1:
        definition = definition["allOf"][0]
    ref = definition.get("$ref")
    if isinstance(ref, str):
        definition = schema.get("definitions", {}).get(ref.rsplit("/", 1)[-1], {})
    if "enum" in definition:
        return TEXT
    kind = definition.get("type")
    if isinstance(kind, str) and kind in _JSON_SCHEMA_TYPES and "format" not in definition:
        return _JSON_SCHEMA_TYPES[kind]
    if kind == "string":
        return TEXT
    return JSON


def event_view_names() -> dict[str, tuple[str, ...]]:
    """{view name: record types}: each event record type's family (the first word of its
    name); a family of one type is named after it (`purchases`), others `<word>_events`."""
    families: dict[str, list[str]] = {}
    for name, record_type in recordtypes.REGISTRY.items():
        if record_type.kind == "event":
            families.setdefault(name.split("_", 1)[0], []).append(name)
    return {
        (f"{types[0]}s" if len(types) == 1 else f"{word}_events"): tuple(types)
        for word, types in families.items()
    }


def event_columns(types: tuple[str, ...]) -> tuple[Column, ...]:
    """The event's own columns, then every top-level field of the types' schemas."""
    columns = [
        same("event_type", TEXT, "The record type.", "v.record_type"),
        same("event_key", TEXT, "Its natural key (the id field).", "v.event_key"),
        same("profile_id", TEXT, "The profile it belongs to.", "v.profile_id"),
        same("dataset_id", TEXT, "The dataset it arrived in.", "v.dataset_id"),
        same("action_at", TIMESTAMP, "When it happened (`action_at`).", "v.action_at"),
    ]
    seen = {"link", "action_at"}
    for record_type in types:
        schema = recordtypes.get(record_type).schema() or {}
        for field, definition in schema.get("properties", {}).items():
            if field in seen:
                continue
            seen.add(field)
            kind = _field_type(schema, definition)
            words = definition.get("title") or field
            if definition.get("description"):
                words = f"{words}: {definition['description']}"
            sqlite = (
                f"v.record ->> '$.\"{field}\"'" if kind != JSON else f"v.record -> '$.\"{field}\"'"
            )
            operator = "->>" if kind != JSON else "->"
            postgresql = f"(v.record {operator} '{field}')"
            if kind in (INTEGER, NUMBER):
                postgresql = f"{postgresql}::numeric"
            elif kind == BOOLEAN:
                postgresql = f"{postgresql}::boolean"
            columns.append(
                Column(_RENAMED.get(field, field), kind, words[:300], sqlite, postgresql)
            )
    return tuple(columns)
