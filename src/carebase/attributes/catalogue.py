"""Every attribute of a profile: its name, family, type, definition, and where it is stored.

The catalogue builds the Profile Read API's attribute sections and `docs/attributes.md`,
and tells the segment builder and the `customer_360` view which column (and JSON path)
holds each attribute. Print the documentation table with
`python -m carebase.attributes.catalogue`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from carebase.attributes.commerce import average_order_value, money
from carebase.attributes.customer import CRM_FIELDS
from carebase.attributes.engagement import subscriptions
from carebase.attributes.service import FAMILIES

# The types an attribute can have.
STRING, INTEGER, NUMBER, TIMESTAMP, BOOLEAN, DATE = (
    "string",
    "integer",
    "number",
    "timestamp",
    "boolean",
    "date",
)
STRING_OR_NUMBER, STRING_LIST, MONEY, OBJECT, OBJECT_LIST = (
    "string or number",
    "string list",
    "money per currency",
    "object",
    "object list",
)


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute of a profile."""

    name: str
    family: str
    type: str
    definition: str
    # The family table's column that holds it, and the key inside that column when it is
    # JSON; None for attributes computed when the profile is read.
    column: str | None
    path: tuple[str, ...] = ()
    default: Any = None
    # How the API shows it when that is more than the stored value (rounding, reshaping).
    derive: Callable[[Mapping[str, Any]], Any] | None = None

    @property
    def read_time(self) -> bool:
        """Computed when the profile is read (from other stored data), never stored."""
        return self.column is None

    def value(self, row: Mapping[str, Any]) -> Any:
        """The attribute's value in a family's stored row."""
        if self.derive is not None:
            return self.derive(row)
        assert self.column is not None
        value = row[self.column]
        for key in self.path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            return self.default
        # Bulk reads on SQLite hand booleans back as 0 / 1.
        return bool(value) if self.type == BOOLEAN else value


def _stored(name: str, family: str, type_: str, definition: str) -> Attribute:
    return Attribute(name, family, type_, definition, column=name)


def _support() -> list[Attribute]:
    s = "support"
    return [
        _stored(
            "last_ticket_date",
            s,
            TIMESTAMP,
            "When the latest ticket was created (`timeline.created_at`).",
        ),
        _stored(
            "last_satisfaction_score",
            s,
            STRING_OR_NUMBER,
            "The satisfaction score of the ticket with the latest `action_at` (then highest "
            "`ticket_id`) among tickets that have one; null when none has.",
        ),
        _stored("ticket_count", s, INTEGER, "The profile's tickets (one per conversation)."),
        _stored(
            "channel_types", s, STRING_LIST, "Every distinct channel type of the tickets, sorted."
        ),
        _stored("tags", s, STRING_LIST, "Every distinct tag of the tickets, sorted."),
        _stored("agents", s, STRING_LIST, "Every distinct agent of the tickets, sorted."),
        _stored(
            "first_ticket_date",
            s,
            TIMESTAMP,
            "When the earliest ticket was created (`timeline.created_at`).",
        ),
        _stored(
            "open_ticket_count",
            s,
            INTEGER,
            "Tickets with no `closed_at` whose status is not closed, solved or resolved "
            "(case-insensitive); a ticket with neither status nor `closed_at` is open.",
        ),
        Attribute(
            "tickets_last_30_days",
            s,
            INTEGER,
            "Tickets created in the 30 days before the read (computed when read).",
            column=None,
        ),
        Attribute(
            "tickets_last_90_days",
            s,
            INTEGER,
            "Tickets created in the 90 days before the read (computed when read).",
            column=None,
        ),
        _stored(
            "avg_first_reply_time",
            s,
            NUMBER,
            "Mean `first_reply_time` in minutes over tickets that have one (3 decimals).",
        ),
        _stored(
            "avg_duration",
            s,
            NUMBER,
            "Mean duration in minutes over tickets with a `duration` or, failing that, both "
            "`created_at` and `closed_at` (3 decimals); null when none has.",
        ),
        _stored(
            "last_ticket_status",
            s,
            STRING,
            "The status of the last ticket (latest `created_at`, then `action_at`, then "
            "`ticket_id`); null if it has none.",
        ),
    ]


def _money_of(column: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda row: money(row[column])


def _commerce() -> list[Attribute]:
    c = "commerce"
    return [
        _stored("order_count", c, INTEGER, "Purchase events on the profile (one per id)."),
        _stored("return_count", c, INTEGER, "Return events on the profile (one per id)."),
        Attribute(
            "total_spend",
            c,
            MONEY,
            "Per currency, the sum of the purchase lines' `price_paid` (adjustments are not "
            "counted), rounded to 2 decimals.",
            column="spend",
            derive=_money_of("spend"),
        ),
        Attribute(
            "average_order_value",
            c,
            MONEY,
            "Per currency, total_spend divided by the orders in that currency.",
            column="spend",
            derive=average_order_value,
        ),
        Attribute(
            "returned_value",
            c,
            MONEY,
            "Per currency, the sum of the return lines' `price_paid`, as a positive amount.",
            column="returned",
            derive=_money_of("returned"),
        ),
        _stored("first_order_date", c, TIMESTAMP, "The earliest purchase's `action_at`."),
        _stored("last_order_date", c, TIMESTAMP, "The latest purchase's `action_at`."),
        _stored("last_return_date", c, TIMESTAMP, "The latest return's `action_at`."),
        Attribute(
            "top_categories",
            c,
            OBJECT_LIST,
            "Up to 5 categories (products' `options.category`) ranked by quantity bought, "
            "`{name, quantity}`; looked up when read, so products loaded later still count.",
            column=None,
        ),
    ]


_LAST = {
    "last_email_send_at": "email sent",
    "last_email_open_at": "email opened",
    "last_email_click_at": "email link clicked",
    "last_email_bounce_at": "email bounced",
    "last_sms_send_at": "SMS sent",
    "last_sms_click_at": "SMS link clicked",
}
_COUNTS = {
    "emails_sent": ("email_send", "Emails sent"),
    "emails_opened": ("email_open", "Email opens"),
    "emails_clicked": ("email_click", "Email clicks"),
    "emails_bounced": ("email_bounce", "Email bounces"),
    "sms_sent": ("sms_send", "SMS messages sent"),
    "sms_clicked": ("sms_click", "SMS clicks"),
}


def _engagement() -> list[Attribute]:
    e = "engagement"
    return [
        *(
            _stored(name, e, TIMESTAMP, f"The `action_at` of the latest {what} event.")
            for name, what in _LAST.items()
        ),
        *(
            Attribute(
                name,
                e,
                INTEGER,
                f"{what}: the profile's `{record_type}` events.",
                column="counts",
                path=(record_type,),
                default=0,
            )
            for name, (record_type, what) in _COUNTS.items()
        ),
        Attribute(
            "subscriptions",
            e,
            OBJECT_LIST,
            "Per channel (email, sms) and list, the status of the latest subscribe event "
            "(latest `action_at`, then event key): `{channel, list_id, list_name, status, "
            "changed_at}`.",
            column="subscriptions",
            derive=lambda row: subscriptions(row["subscriptions"]),
        ),
    ]


_CRM_TYPES = {"employee_flag": BOOLEAN, "date_of_birth": DATE}
_CRM_WORDS = {
    "email": "email address (an attribute, not a link)",
    "email_sha256": "SHA-256 of the email address",
    "mobile": "mobile number (an attribute, not a link)",
    "customer_id": "customer id (an attribute, not a link)",
    "date_of_birth": "date of birth (YYYY-MM-DD)",
    "address_1": "first address line",
    "address_2": "second address line",
    "employee_flag": "flag: true if the customer is an employee of the business",
}
_PRECEDENCE = "from the most recently changed customer record that gives one"


def _customer() -> list[Attribute]:
    c = "customer"
    return [
        *(
            _stored(
                name,
                c,
                _CRM_TYPES.get(name, STRING),
                f"The customer's {_CRM_WORDS.get(name, name.replace('_', ' '))}, {_PRECEDENCE}.",
            )
            for name in CRM_FIELDS
        ),
        _stored(
            "loyalty",
            c,
            OBJECT,
            "The custom fields whose name starts with `loyalty` (e.g. `loyalty_status`).",
        ),
        _stored(
            "custom_fields",
            c,
            OBJECT,
            f"Custom fields merged key by key, each value {_PRECEDENCE}.",
        ),
        _stored("record_count", c, INTEGER, "Customer records on this profile."),
    ]


_CATALOGUE: tuple[Attribute, ...] = (*_support(), *_commerce(), *_engagement(), *_customer())


def catalogue() -> tuple[Attribute, ...]:
    """Every attribute, family by family."""
    return _CATALOGUE


def of_family(family: str) -> tuple[Attribute, ...]:
    """The attributes of one family, in catalogue order."""
    return tuple(attribute for attribute in _CATALOGUE if attribute.family == family)


def section(
    family: str, row: Mapping[str, Any], read_time: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """One family's attributes from its stored row, plus the values computed at read."""
    computed = read_time or {}
    return {
        attribute.name: computed[attribute.name] if attribute.read_time else attribute.value(row)
        for attribute in of_family(family)
    }


def markdown_table() -> str:
    """The catalogue as the Markdown table in docs/attributes.md."""
    tables = {family.name: family.model.__tablename__ for family in FAMILIES}
    lines = ["| Attribute | Family | Type | Stored in | Definition |", "|---|---|---|---|---|"]
    for attribute in _CATALOGUE:
        stored = "computed when read"
        if attribute.column is not None:
            where = ".".join((tables[attribute.family], attribute.column, *attribute.path))
            stored = f"`{where}`"
        lines.append(
            f"| `{attribute.name}` | {attribute.family} | {attribute.type} | {stored} "
            f"| {attribute.definition} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
