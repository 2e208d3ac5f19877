"""Commerce and engagement attributes, folded event by event like the support attributes.

Definitions (also in the README):
- order_count / return_count: purchase / return events on the profile (one per id).
- total_spend: per currency (upper-cased; "unspecified" when the record gives none), the sum
  of `price_paid` over the purchase lines (a line's price_paid is what was paid for the
  line). Adjustments are reported on the record but not counted: Lexer does not say
  whether they are already reflected in price_paid.
- average_order_value: total_spend / orders, per currency.
- returned_value: per currency, the sum of the return lines' price_paid, as a positive amount.
- first_order_date / last_order_date / last_return_date: earliest / latest `action_at`.
- top_categories: the categories (product `options.category`) of the products bought,
  ranked by quantity; resolved when the profile is read, so a product loaded after the
  purchase still counts.
- last_email_send_at, last_email_open_at, last_email_click_at, last_email_bounce_at,
  last_sms_send_at, last_sms_click_at: latest `action_at` of each event type.
- subscriptions: per channel (email, sms) and list, the status of the latest subscribe event
  (latest `action_at`, then highest event key); events without a list count as list null.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

UNSPECIFIED = "unspecified"
COMMERCE_TYPES = ("purchase", "return")
ENGAGEMENT_TYPES = (
    "email_send",
    "email_open",
    "email_click",
    "email_bounce",
    "email_subscribe",
    "sms_send",
    "sms_click",
    "sms_subscribe",
)
_LAST_AT = {
    "email_send": "last_email_send_at",
    "email_open": "last_email_open_at",
    "email_click": "last_email_click_at",
    "email_bounce": "last_email_bounce_at",
    "sms_send": "last_sms_send_at",
    "sms_click": "last_sms_click_at",
}


def _currency(record: Mapping[str, Any]) -> str:
    currency = record.get("currency")
    return (
        currency.strip().upper() if isinstance(currency, str) and currency.strip() else UNSPECIFIED
    )


def _lines_total(record: Mapping[str, Any]) -> float:
    return float(sum(line.get("price_paid", 0) for line in record.get("products") or []))


def _later(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current


def _add(totals: dict[str, Any], key: str, amount: float) -> None:
    totals[key] = totals.get(key, 0) + amount


@dataclass(slots=True)
class CommerceState:
    """Everything commerce attributes are computed from."""

    order_count: int = 0
    return_count: int = 0
    first_order_date: datetime | None = None
    last_order_date: datetime | None = None
    last_return_date: datetime | None = None
    spend: dict[str, float] = field(default_factory=dict)
    orders_by_currency: dict[str, int] = field(default_factory=dict)
    returned: dict[str, float] = field(default_factory=dict)
    products: dict[str, int] = field(default_factory=dict)

    def fold(self, event: Mapping[str, Any]) -> None:
        """Account for one purchase or return event."""
        record, action_at = event["record"], event["action_at"]
        currency = _currency(record)
        if event["record_type"] == "purchase":
            self.order_count += 1
            _add(self.spend, currency, _lines_total(record))
            _add(self.orders_by_currency, currency, 1)
            if self.first_order_date is None or action_at < self.first_order_date:
                self.first_order_date = action_at
            self.last_order_date = _later(self.last_order_date, action_at)
            for line in record.get("products") or []:
                reference = line.get("product_reference")
                if isinstance(reference, dict):
                    key = f"{reference.get('id_type')}:{reference.get('id')}"
                    _add(self.products, key, int(line.get("quantity", 1)))
        else:
            self.return_count += 1
            _add(self.returned, currency, -_lines_total(record))
            self.last_return_date = _later(self.last_return_date, action_at)

    def row(self, now: datetime) -> dict[str, Any]:
        """The stored row."""
        values = {name: getattr(self, name) for name in self.__slots__}
        return values | {"computed_at": now}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CommerceState:
        """The state a stored row holds."""
        return cls(**{name: row[name] for name in cls.__slots__})


@dataclass(slots=True)
class EngagementState:
    """Everything engagement attributes are computed from."""

    last_email_send_at: datetime | None = None
    last_email_open_at: datetime | None = None
    last_email_click_at: datetime | None = None
    last_email_bounce_at: datetime | None = None
    last_sms_send_at: datetime | None = None
    last_sms_click_at: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)
    subscriptions: dict[str, Any] = field(default_factory=dict)

    def fold(self, event: Mapping[str, Any]) -> None:
        """Account for one email or SMS event."""
        record_type, record, action_at = event["record_type"], event["record"], event["action_at"]
        _add(self.counts, record_type, 1)
        column = _LAST_AT.get(record_type)
        if column is not None:
            setattr(self, column, _later(getattr(self, column), action_at))
        if record_type.endswith("_subscribe"):
            channel = record_type.split("_", 1)[0]
            listed = record.get("list") if isinstance(record.get("list"), dict) else {}
            list_id = listed.get("id")
            key = f"{channel}:{list_id or ''}"
            stamp = [action_at.isoformat(), event["event_key"]]
            known = self.subscriptions.get(key)
            if known is None or stamp > known["order"]:
                self.subscriptions[key] = {
                    "channel": channel,
                    "list_id": list_id,
                    "list_name": listed.get("name"),
                    "status": record["status"],
                    "changed_at": action_at.isoformat(),
                    "order": stamp,
                }

    def row(self, now: datetime) -> dict[str, Any]:
        """The stored row."""
        values = {name: getattr(self, name) for name in self.__slots__}
        return values | {"computed_at": now}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> EngagementState:
        """The state a stored row holds."""
        return cls(**{name: row[name] for name in cls.__slots__})


def fold_all(state: CommerceState | EngagementState, events: Iterable[Mapping[str, Any]]) -> Any:
    """`state` with every event folded in."""
    for event in events:
        state.fold(event)
    return state


def _money(amounts: Mapping[str, float]) -> dict[str, float]:
    return {currency: round(amount, 2) for currency, amount in sorted(amounts.items())}


def commerce_view(state: CommerceState, categories: list[dict[str, Any]]) -> dict[str, Any]:
    """Commerce attributes as the Profile Read API shows them."""
    average = {
        currency: total / state.orders_by_currency[currency]
        for currency, total in state.spend.items()
        if state.orders_by_currency.get(currency)
    }
    return {
        "order_count": state.order_count,
        "return_count": state.return_count,
        "total_spend": _money(state.spend),
        "average_order_value": _money(average),
        "returned_value": _money(state.returned),
        "first_order_date": state.first_order_date,
        "last_order_date": state.last_order_date,
        "last_return_date": state.last_return_date,
        "top_categories": categories,
    }


def top_categories(
    quantities: Mapping[str, int], products: list[dict[str, Any]], limit: int = 5
) -> list[dict[str, Any]]:
    """Categories ranked by the quantity bought of their products."""
    by_reference: dict[str, list[str]] = {}
    for product in products:
        options = (product["record"] or {}).get("options") or {}
        names = [name for name in options.get("category") or [] if isinstance(name, str)]
        for id_type in ("product_id", "sku", "upc"):
            if product[id_type]:
                by_reference[f"{id_type}:{product[id_type]}"] = names
    totals: dict[str, int] = {}
    for reference, quantity in quantities.items():
        for name in by_reference.get(reference, []):
            _add(totals, name, quantity)
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [{"name": name, "quantity": quantity} for name, quantity in ranked]


def product_references(quantities: Mapping[str, int]) -> dict[str, list[str]]:
    """{id_type: [ids]} of the products in a commerce state."""
    references: dict[str, list[str]] = {}
    for key in quantities:
        id_type, _, product_id = key.partition(":")
        references.setdefault(id_type, []).append(product_id)
    return references


def engagement_view(state: EngagementState) -> dict[str, Any]:
    """Engagement attributes as the Profile Read API shows them."""
    counts = state.counts
    return {
        **{column: getattr(state, column) for column in _LAST_AT.values()},
        "emails_sent": counts.get("email_send", 0),
        "emails_opened": counts.get("email_open", 0),
        "emails_clicked": counts.get("email_click", 0),
        "emails_bounced": counts.get("email_bounce", 0),
        "sms_sent": counts.get("sms_send", 0),
        "sms_clicked": counts.get("sms_click", 0),
        "subscriptions": [
            {k: v for k, v in entry.items() if k != "order"}
            for _, entry in sorted(state.subscriptions.items())
        ],
    }


CRM_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "email_sha256",
    "mobile",
    "customer_id",
    "gender",
    "date_of_birth",
    "country",
    "state",
    "city",
    "postcode",
    "zip",
    "address_1",
    "address_2",
    "customer_type",
    "employee_flag",
)


def customer_view(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """CRM attributes from a profile's customer records, least recently changed first.

    Precedence: per field, the most recently changed record that gives the field a value
    wins; a record that leaves a field out (or sends null) does not erase another record's
    value. custom_fields merge key by key the same way. `loyalty` gathers the custom fields
    whose name starts with "loyalty" (Lexer's own example: `loyalty_status`).
    """
    fields: dict[str, Any] = dict.fromkeys(CRM_FIELDS)
    custom: dict[str, Any] = {}
    count = 0
    for record in records:
        count += 1
        fields.update({name: record[name] for name in CRM_FIELDS if record.get(name) is not None})
        extra = record.get("custom_fields")
        if isinstance(extra, dict):
            custom.update({key: value for key, value in extra.items() if value is not None})
    return {
        **fields,
        "loyalty": {key: value for key, value in custom.items() if key.startswith("loyalty")},
        "custom_fields": custom,
        "record_count": count,
    }
