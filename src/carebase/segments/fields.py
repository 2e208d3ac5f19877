"""The one registry of what a segment condition can name: profile attributes (from the
attribute catalogue) and event types with their fields (from the record-type registry),
each with its type and the operators that fit it.

The definition validator, the compiler, event search, the console's builder and
`docs/segments.md` all read this module; nothing else lists fields or operators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from carebase import recordtypes
from carebase.attributes import catalogue as cat
from carebase.attributes.service import family as attribute_family

# Value types a condition can compare (the catalogue's names, so docs read the same).
STRING = cat.STRING
INTEGER = cat.INTEGER
NUMBER = cat.NUMBER
TIMESTAMP = cat.TIMESTAMP
DATE = cat.DATE
BOOLEAN = cat.BOOLEAN
STRING_OR_NUMBER = cat.STRING_OR_NUMBER
STRING_LIST = cat.STRING_LIST
MONEY = cat.MONEY

EQ, NE, IN, CONTAINS = "eq", "ne", "in", "contains"
GT, GTE, LT, LTE, BETWEEN = "gt", "gte", "lt", "lte", "between"
IS_SET, IS_NOT_SET, WITHIN_LAST_DAYS = "is_set", "is_not_set", "within_last_days"
OPERATORS = (
    EQ,
    NE,
    IN,
    CONTAINS,
    GT,
    GTE,
    LT,
    LTE,
    BETWEEN,
    IS_SET,
    IS_NOT_SET,
    WITHIN_LAST_DAYS,
)
ORDERING = (GT, GTE, LT, LTE, BETWEEN)
PRESENCE = (IS_SET, IS_NOT_SET)

OPERATORS_BY_TYPE: dict[str, tuple[str, ...]] = {
    STRING: (EQ, NE, IN, CONTAINS, *PRESENCE),
    INTEGER: (EQ, NE, IN, *ORDERING, *PRESENCE),
    NUMBER: (EQ, NE, IN, *ORDERING, *PRESENCE),
    TIMESTAMP: (*ORDERING, WITHIN_LAST_DAYS, *PRESENCE),
    DATE: (EQ, NE, *ORDERING, WITHIN_LAST_DAYS, *PRESENCE),
    BOOLEAN: (EQ, NE, *PRESENCE),
    STRING_OR_NUMBER: (EQ, NE, IN, *ORDERING, *PRESENCE),
    STRING_LIST: (CONTAINS, IN, *PRESENCE),
    MONEY: (*ORDERING, *PRESENCE),
}

# What each operator means, for the docs table and the console's help text.
OPERATOR_MEANING: dict[str, str] = {
    EQ: "equals the value (strings exactly, case-sensitive)",
    NE: "is set and differs from the value",
    IN: "equals one of the listed values; on a list field, holds at least one of them",
    CONTAINS: "a string holding the text (case-insensitive); a list holding the item",
    GT: "greater than the value",
    GTE: "greater than or equal to the value",
    LT: "less than the value",
    LTE: "less than or equal to the value",
    BETWEEN: "within `[low, high]`, both ends included",
    IS_SET: "has a value (a list: has at least one item)",
    IS_NOT_SET: "has no value (a list: is empty)",
    WITHIN_LAST_DAYS: "a time in the last N days up to now (N a whole number of days)",
}

# An event condition's count: how many matching events the profile has in the window.
COUNT_OPERATORS = (EQ, NE, GT, GTE, LT, LTE)

TICKET = "customer_support_ticket"


@dataclass(frozen=True, slots=True)
class AttributeField:
    """One profile attribute a condition can name.

    `empty` is its value on a profile with no data in its family (0 tickets, no spend):
    the compiler needs it so that e.g. `ticket_count eq 0` includes profiles with no tickets.
    `ticket_window_days` marks the read-time counts of recent tickets, compiled from tickets.
    """

    name: str
    label: str
    type: str
    operators: tuple[str, ...]
    family: str
    description: str
    choices: tuple[str, ...] = ()
    empty: Any = None
    ticket_window_days: int | None = None


@dataclass(frozen=True, slots=True)
class EventField:
    """One field of an event type: a column of the event table, or a path in its record."""

    name: str
    label: str
    type: str
    operators: tuple[str, ...]
    column: str | None = None
    path: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EventType:
    """One event type (a record type stored as timestamped events on a profile)."""

    name: str
    label: str
    summary: str
    fields: tuple[EventField, ...]
    # The field whose time places the event in a window (tickets: created_at).
    time_field: str

    def field(self, name: str) -> EventField | None:
        """The field called `name`, or None."""
        return next((each for each in self.fields if each.name == name), None)


def label_of(name: str) -> str:
    """`last_ticket_date` → `Last ticket date`."""
    text = name.replace("_", " ").replace(".", " ")
    return text[:1].upper() + text[1:]


# Attributes a condition cannot name, and what to use instead.
_NOT_QUERYABLE = {
    "top_categories": "is looked up from the product catalogue when a profile is read; "
    "segment on purchase events instead",
    "subscriptions": "is not comparable as one value; use an email_subscribe or "
    "sms_subscribe event condition on `status`",
    "loyalty": "is an object; name one of its keys as `loyalty.<key>`",
    "custom_fields": "is an object; name one of its keys as `custom_fields.<key>`",
}
# Object attributes whose keys can be named one by one (`custom_fields.tier`).
OBJECT_ATTRIBUTES = ("loyalty", "custom_fields")
# A key of an object attribute: plain, so that it is safe inside a JSON path on both engines.
_OBJECT_KEY = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_TICKET_WINDOWS = {"tickets_last_30_days": 30, "tickets_last_90_days": 90}
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _empty_value(attribute: cat.Attribute) -> Any:
    family = attribute_family(attribute.family)
    if attribute.read_time:
        return 0
    return attribute.value(family.row(family.empty_state(), _EPOCH))


@cache
def attribute_fields() -> tuple[AttributeField, ...]:
    """Every attribute a condition can name, in catalogue order."""
    fields = []
    for attribute in cat.catalogue():
        if attribute.name in _NOT_QUERYABLE:
            continue
        fields.append(
            AttributeField(
                name=attribute.name,
                label=label_of(attribute.name),
                type=attribute.type,
                operators=OPERATORS_BY_TYPE[attribute.type],
                family=attribute.family,
                description=attribute.definition,
                empty=_empty_value(attribute),
                ticket_window_days=_TICKET_WINDOWS.get(attribute.name),
            )
        )
    return tuple(fields)


def attribute_field(name: str) -> AttributeField | None:
    """The field a condition names: a catalogue attribute, or `<object>.<key>` of loyalty
    or custom_fields (a string or number); None when there is none."""
    found = next((each for each in attribute_fields() if each.name == name), None)
    if found is not None:
        return found
    head, dot, key = name.partition(".")
    if dot and head in OBJECT_ATTRIBUTES and _OBJECT_KEY.match(key):
        return AttributeField(
            name=name,
            label=f"{label_of(head)}: {key}",
            type=STRING_OR_NUMBER,
            operators=OPERATORS_BY_TYPE[STRING_OR_NUMBER],
            family="customer",
            description=f"The `{key}` key of `{head}`.",
        )
    return None


def why_not_queryable(name: str) -> str | None:
    """Why a catalogue attribute cannot be named in a condition (None: it can, or is unknown)."""
    return _NOT_QUERYABLE.get(name)


# ---- event types -------------------------------------------------------------------------


def _ticket_fields() -> tuple[EventField, ...]:
    # The twelve properties the reference makes searchable ("Event Search"), plus the id.
    def field(name: str, type_: str, column: str | None = None) -> EventField:
        return EventField(name, label_of(name), type_, OPERATORS_BY_TYPE[type_], column or name)

    return (
        field("ticket_id", STRING),
        field("title", STRING),
        field("created_at", TIMESTAMP),
        field("closed_at", TIMESTAMP),
        field("duration", NUMBER),
        field("reply_time", NUMBER),
        field("first_reply_time", NUMBER),
        field("channel_type", STRING_LIST, "channel_types"),
        field("channel_name", STRING_LIST, "channel_names"),
        field("status", STRING),
        field("tags", STRING_LIST),
        field("agents", STRING_LIST),
        field("satisfaction_score", STRING_OR_NUMBER),
    )


# Record fields not offered as event fields: links, open objects and line arrays.
_SKIPPED = frozenset({"link", "custom_fields", "products", "adjustments", "payment_types"})


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """A property's schema with a `$ref` (or a single-`allOf` `$ref`) followed."""
    reference = node.get("$ref")
    if reference is None and len(node.get("allOf") or []) == 1:
        reference = node["allOf"][0].get("$ref")
    if reference is None:
        return node
    return dict(schema["definitions"][reference.rsplit("/", 1)[-1]])


def _scalar(schema: dict[str, Any], node: dict[str, Any]) -> tuple[str, tuple[str, ...]] | None:
    """(type, choices) of a string property, or None when it is not a string."""
    resolved = _resolve(schema, node)
    if "enum" in resolved:
        return STRING, tuple(str(each) for each in resolved["enum"])
    if resolved.get("type") == "string" and resolved.get("format") != "date-time":
        return STRING, ()
    return None


def _record_fields(record_type: str) -> tuple[EventField, ...]:
    """The fields of a Lexer event type, derived from its JSON Schema: its strings, and the
    strings of its objects one level down (`store.name`, `list.id`, `clicked_link.url`)."""
    schema = recordtypes.get(record_type).schema()
    assert schema is not None, record_type
    fields = [
        EventField("action_at", "Action at", TIMESTAMP, OPERATORS_BY_TYPE[TIMESTAMP], "action_at")
    ]
    for name, node in schema["properties"].items():
        if name in _SKIPPED or name == "action_at":
            continue
        scalar = _scalar(schema, node)
        if scalar is not None:
            kind, choices = scalar
            fields.append(
                EventField(
                    name, label_of(name), kind, OPERATORS_BY_TYPE[kind], None, (name,), choices
                )
            )
            continue
        resolved = _resolve(schema, node)
        for sub, sub_node in (resolved.get("properties") or {}).items():
            sub_scalar = _scalar(schema, sub_node)
            if sub_scalar is not None:
                kind, choices = sub_scalar
                dotted = f"{name}.{sub}"
                fields.append(
                    EventField(
                        dotted,
                        label_of(dotted),
                        kind,
                        OPERATORS_BY_TYPE[kind],
                        None,
                        (name, sub),
                        choices,
                    )
                )
    return tuple(fields)


_EVENT_LABELS = {
    TICKET: "Support ticket",
    "email_send": "Email sent",
    "email_open": "Email opened",
    "email_click": "Email link clicked",
    "email_bounce": "Email bounced",
    "email_subscribe": "Email subscription change",
    "sms_send": "SMS sent",
    "sms_click": "SMS link clicked",
    "sms_subscribe": "SMS subscription change",
}


@cache
def event_types() -> tuple[EventType, ...]:
    """Every event type a condition or event search can name, in registry order: the
    record types stored as tickets or events on a profile."""
    types = []
    for name, record_type in recordtypes.REGISTRY.items():
        if record_type.kind == "ticket":
            fields, time_field = _ticket_fields(), "created_at"
        elif record_type.kind == "event":
            fields, time_field = _record_fields(name), "action_at"
        else:
            continue
        label = _EVENT_LABELS.get(name, label_of(name))
        types.append(EventType(name, label, record_type.summary, fields, time_field))
    return tuple(types)


def event_type(name: str) -> EventType | None:
    """The event type called `name`, or None."""
    return next((each for each in event_types() if each.name == name), None)


# ---- documentation -----------------------------------------------------------------------


def markdown_operators() -> str:
    """The operators-per-type and operator tables of docs/segments.md."""
    lines = ["| Type | Operators |", "|---|---|"]
    for kind, operators in OPERATORS_BY_TYPE.items():
        lines.append(f"| {kind} | " + ", ".join(f"`{op}`" for op in operators) + " |")
    lines += ["", "| Operator | Holds when the value… |", "|---|---|"]
    lines += [f"| `{op}` | {meaning} |" for op, meaning in OPERATOR_MEANING.items()]
    return "\n".join(lines) + "\n"


def markdown_events() -> str:
    """The event types table of docs/segments.md."""
    lines = ["| Event | Window on | Fields (type) |", "|---|---|---|"]
    for event in event_types():
        described = ", ".join(f"`{field.name}` ({field.type})" for field in event.fields)
        lines.append(f"| `{event.name}` | `{event.time_field}` | {described} |")
    return "\n".join(lines) + "\n"


def markdown_not_queryable() -> str:
    """The attributes a condition cannot name, and why (docs/segments.md)."""
    lines = ["| Attribute | Why not, and what instead |", "|---|---|"]
    lines += [f"| `{name}` | {why} |" for name, why in _NOT_QUERYABLE.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_operators())
    print(markdown_events())
    print(markdown_not_queryable(), end="")
