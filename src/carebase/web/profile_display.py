"""How the console shows a profile to a person: its name, its links, every catalogue attribute
in words (times in the viewer's zone, durations in minutes/hours/days, money with its
currency, lists and objects as short lines), open tickets, and history items.

Pure functions of data the services return; the templates only lay them out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from carebase.attributes import catalogue
from carebase.attributes.catalogue import (
    BOOLEAN,
    DATE,
    INTEGER,
    MONEY,
    NUMBER,
    OBJECT,
    OBJECT_LIST,
    STRING_LIST,
    TIMESTAMP,
    Attribute,
)
from carebase.attributes.support import CLOSED_STATUSES
from carebase.identity.links import Link
from carebase.profiles.history import HISTORY_TYPES
from carebase.web import format as fmt

EM_DASH = "\u2014"

# The Profile Read API's section of each attribute family.
FAMILY_SECTIONS = {"support": "attributes", "commerce": "commerce", "engagement": "engagement"}
FAMILY_TITLES = {
    "support": "Support",
    "commerce": "Commerce",
    "engagement": "Email and SMS",
    "customer": "Customer",
}
# Attributes held in minutes (catalogue definitions say so): shown as durations.
MINUTES = frozenset({"avg_first_reply_time", "avg_duration"})

LINK_LABELS = {
    "email": "Email",
    "mobile": "Mobile",
    "customer_id": "Customer id",
    "external_id": "External id",
    "email_sha256": "Email (SHA-256)",
    "email_md5": "Email (MD5)",
}

# History filter: each record type's label, grouped by what it is about.
TYPE_LABELS = {
    "customer_support_ticket": "Tickets",
    "purchase": "Purchases",
    "return": "Returns",
    "email_send": "Emails sent",
    "email_open": "Email opens",
    "email_click": "Email clicks",
    "email_bounce": "Email bounces",
    "email_subscribe": "Email subscriptions",
    "sms_send": "SMS sent",
    "sms_click": "SMS clicks",
    "sms_subscribe": "SMS subscriptions",
    "mention": "Inbox messages",
}
TYPE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Support and commerce", ("customer_support_ticket", "purchase", "return")),
    ("Email", ("email_send", "email_open", "email_click", "email_bounce", "email_subscribe")),
    ("SMS", ("sms_send", "sms_click", "sms_subscribe")),
    ("Inbox", ("mention",)),
)
# One word for each item's kind in the stream (beside its icon).
TYPE_KIND = {
    "customer_support_ticket": "Ticket",
    "purchase": "Purchase",
    "return": "Return",
    "mention": "Message",
}
assert set(TYPE_LABELS) == set(HISTORY_TYPES), "a history type has no label"


# Labels people read more easily than the attribute's name made into words.
LABELS = {
    "open_ticket_count": "Open tickets",
    "ticket_count": "Tickets",
    "tickets_last_30_days": "Tickets, last 30 days",
    "tickets_last_90_days": "Tickets, last 90 days",
    "order_count": "Orders",
    "return_count": "Returns",
    "last_satisfaction_score": "Last satisfaction",
    "last_email_send_at": "Last email sent",
    "last_email_open_at": "Last email opened",
    "last_email_click_at": "Last email clicked",
    "last_email_bounce_at": "Last email bounced",
    "last_sms_send_at": "Last SMS sent",
    "last_sms_click_at": "Last SMS clicked",
    "record_count": "Customer records",
}


def human_name(name: str) -> str:
    """`last_ticket_date` → `Last ticket date`; `sms_sent` → `SMS sent`."""
    if name in LABELS:
        return LABELS[name]
    words = name.replace("_", " ").split()
    fixed = {"sms": "SMS", "id": "id", "sha256": "SHA-256", "avg": "Average"}
    out = [fixed.get(word, word) for word in words]
    text = " ".join(out)
    return text[:1].upper() + text[1:]


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def money(amounts: Mapping[str, float] | None, viewer: fmt.Viewer) -> str:
    """`1,234.50 AUD · 20.00 USD`; an em dash when there is none."""
    if not amounts:
        return EM_DASH
    return " · ".join(
        f"{fmt.number(amount, viewer, 2)} {currency if currency != 'unspecified' else ''}".strip()
        for currency, amount in amounts.items()
    )


def _scalar(value: Any, viewer: fmt.Viewer) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int):
        return fmt.number(value, viewer)
    if isinstance(value, float):
        return fmt.number(value, viewer, 0 if value.is_integer() else 2)
    if isinstance(value, (list, tuple)):
        return ", ".join(_scalar(item, viewer) for item in value) or EM_DASH
    if isinstance(value, dict):
        return "; ".join(f"{human_name(str(k))}: {_scalar(v, viewer)}" for k, v in value.items())
    return str(value)


def show(attribute: Attribute, value: Any, viewer: fmt.Viewer, now: datetime) -> Markup:
    """One attribute's value as HTML for people; `—` (with words for screen readers) when
    carebase does not know it."""
    if value is None or value == [] or value == {}:
        return Markup(
            '<span class="unknown">{}<span class="visually-hidden"> not known</span></span>'
        ).format(EM_DASH)
    kind = attribute.type
    if kind == TIMESTAMP:
        return fmt.time_element(_time(value), viewer, now)
    if attribute.name in MINUTES and isinstance(value, (int, float)):
        return escape(fmt.duration(float(value) * 60))
    if kind == MONEY:
        return escape(money(value, viewer))
    if kind == INTEGER:
        return escape(fmt.number(int(value), viewer))
    if kind == NUMBER:
        return escape(fmt.number(float(value), viewer, 2))
    if kind == BOOLEAN:
        return escape("Yes" if value else "No")
    if kind == DATE:
        return escape(str(value))
    if kind == STRING_LIST:
        return _chips(str(item) for item in value)
    if kind == OBJECT_LIST:
        return _object_list(attribute.name, value, viewer, now)
    if kind == OBJECT:
        return Markup("<br>").join(
            escape(f"{human_name(str(key))}: {_scalar(item, viewer)}")
            for key, item in value.items()
        )
    return escape(_scalar(value, viewer))


def _chips(items: Iterable[str]) -> Markup:
    return Markup('<ul class="chips">{}</ul>').format(
        Markup("").join(Markup("<li>{}</li>").format(item) for item in items)
    )


def _object_list(name: str, value: Sequence[Any], viewer: fmt.Viewer, now: datetime) -> Markup:
    lines: list[Markup] = []
    for entry in value:
        if not isinstance(entry, Mapping):
            lines.append(escape(str(entry)))
        elif name == "top_categories":
            lines.append(
                Markup("{} ({} bought)").format(
                    entry.get("name"), fmt.number(entry.get("quantity") or 0, viewer)
                )
            )
        elif name == "subscriptions":
            channel = "SMS" if entry.get("channel") == "sms" else "Email"
            listed = entry.get("list_name") or entry.get("list_id") or "all messages"
            lines.append(
                Markup("{} · {}: {} {}").format(
                    channel,
                    listed,
                    entry.get("status"),
                    fmt.time_element(_time(entry.get("changed_at")), viewer, now),
                )
            )
        else:
            lines.append(escape(_scalar(dict(entry), viewer)))
    return Markup('<ul class="plain">{}</ul>').format(
        Markup("").join(Markup("<li>{}</li>").format(line) for line in lines)
    )


@dataclass(frozen=True, slots=True)
class ShownAttribute:
    """One attribute as the Attributes tab lists it."""

    name: str
    label: str
    value: Markup
    definition: str
    known: bool


@dataclass(frozen=True, slots=True)
class Family:
    """One family of attributes, titled."""

    name: str
    title: str
    attributes: list[ShownAttribute]


def sections_of(view: Any) -> dict[str, Mapping[str, Any]]:
    """A profile view's attribute values by family name."""
    return {
        "support": view.attributes,
        "commerce": view.commerce,
        "engagement": view.engagement,
        "customer": view.customer,
    }


def families(view: Any, viewer: fmt.Viewer, now: datetime) -> list[Family]:
    """Every catalogue attribute of a profile, family by family, in catalogue order."""
    values = sections_of(view)
    out: dict[str, Family] = {}
    for attribute in catalogue.catalogue():
        value = values[attribute.family].get(attribute.name)
        family = out.setdefault(
            attribute.family, Family(attribute.family, FAMILY_TITLES[attribute.family], [])
        )
        family.attributes.append(
            ShownAttribute(
                attribute.name,
                human_name(attribute.name),
                show(attribute, value, viewer, now),
                _plain(attribute.definition),
                value not in (None, [], {}),
            )
        )
    return list(out.values())


def _plain(definition: str) -> str:
    """A definition without its Markdown backticks."""
    return definition.replace("`", "")


_BY_NAME = {attribute.name: attribute for attribute in catalogue.catalogue()}


def pick(
    view: Any, names: Sequence[str], viewer: fmt.Viewer, now: datetime
) -> list[ShownAttribute]:
    """Chosen attributes (for the Summary), in the order given."""
    values: dict[str, Any] = {}
    for section in sections_of(view).values():
        values.update(section)
    shown = []
    for name in names:
        attribute = _BY_NAME[name]
        value = values.get(name)
        shown.append(
            ShownAttribute(
                name,
                human_name(name),
                show(attribute, value, viewer, now),
                _plain(attribute.definition),
                value not in (None, [], {}),
            )
        )
    return shown


def display_name(customer: Mapping[str, Any], links: Sequence[Link], profile_id: str) -> str:
    """What to call the customer: their name, else an email or mobile, else the id."""
    name = " ".join(
        part for part in (customer.get("first_name"), customer.get("last_name")) if part
    ).strip()
    if name:
        return name
    for wanted in ("email", "mobile", "customer_id", "external_id"):
        for link in links:
            if link.link_type == wanted:
                return link.value
    return customer.get("email") or profile_id


@dataclass(frozen=True, slots=True)
class ShownLink:
    """A link as the header lists it."""

    label: str
    value: str
    system: str | None
    href: str | None


def shown_links(links: Sequence[Link]) -> list[ShownLink]:
    """The profile's links, emails and mobiles first, each with a mailto:/tel: where useful."""
    order = {name: index for index, name in enumerate(LINK_LABELS)}
    out = []
    for link in sorted(links, key=lambda item: (order.get(item.link_type, 99), item.value)):
        href = None
        if link.link_type == "email":
            href = f"mailto:{link.value}"
        elif link.link_type == "mobile":
            href = f"tel:{link.value}"
        out.append(
            ShownLink(
                LINK_LABELS.get(link.link_type, human_name(link.link_type)),
                link.value,
                link.system_name or None,
                href,
            )
        )
    return out


def is_open(status: str | None, closed_at: datetime | None) -> bool:
    """Whether a ticket is open, as `open_ticket_count` counts it."""
    if closed_at is not None:
        return False
    return (status or "").strip().lower() not in CLOSED_STATUSES


def status_kind(status: str | None, closed_at: datetime | None = None) -> str:
    """A ticket status's one colour everywhere: open, pending, or closed."""
    word = (status or "").strip().lower()
    if not is_open(status, closed_at):
        return "closed"
    if word in {"pending", "on-hold", "on_hold", "hold", "waiting"}:
        return "pending"
    return "open"


def history_types(requested: Sequence[str]) -> list[str]:
    """The record types the History filter keeps: those asked for that exist, in registry
    order; all of them when none (or none valid) is asked for."""
    wanted = [name for name in HISTORY_TYPES if name in set(requested)]
    return wanted or list(HISTORY_TYPES)


def kind_word(record_type: str) -> str:
    """`Ticket`, `Purchase`, `Return`, `Email`, `SMS`."""
    if record_type in TYPE_KIND:
        return TYPE_KIND[record_type]
    return "SMS" if record_type.startswith("sms_") else "Email"
