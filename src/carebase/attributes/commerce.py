"""Commerce attributes, folded from purchase and return events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase import recordtypes
from carebase.attributes.family import Family
from carebase.models import CommerceAttributes
from carebase.records import lexer as lexer_records

UNSPECIFIED = "unspecified"
COMMERCE_TYPES = recordtypes.types_feeding("commerce")


def _currency(record: Mapping[str, Any]) -> str:
    currency = record.get("currency")
    return (
        currency.strip().upper() if isinstance(currency, str) and currency.strip() else UNSPECIFIED
    )


def _lines_total(record: Mapping[str, Any]) -> float:
    return float(sum(line.get("price_paid", 0) for line in record.get("products") or []))


def later(current: datetime | None, candidate: datetime) -> datetime:
    """The later of a known time (or None) and a candidate."""
    return candidate if current is None or candidate > current else current


def add(totals: dict[str, Any], key: str, amount: float) -> None:
    """Add `amount` to `totals[key]`, starting from 0."""
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
            add(self.spend, currency, _lines_total(record))
            add(self.orders_by_currency, currency, 1)
            if self.first_order_date is None or action_at < self.first_order_date:
                self.first_order_date = action_at
            self.last_order_date = later(self.last_order_date, action_at)
            for line in record.get("products") or []:
                reference = line.get("product_reference")
                if isinstance(reference, dict):
                    key = f"{reference.get('id_type')}:{reference.get('id')}"
                    add(self.products, key, int(line.get("quantity", 1)))
        else:
            self.return_count += 1
            add(self.returned, currency, -_lines_total(record))
            self.last_return_date = later(self.last_return_date, action_at)

    def row(self, now: datetime) -> dict[str, Any]:
        """The stored row."""
        values = {name: getattr(self, name) for name in self.__slots__}
        return values | {"computed_at": now}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CommerceState:
        """The state a stored row holds."""
        return cls(**{name: row[name] for name in cls.__slots__})


class CommerceFamily(Family[CommerceState]):
    """Orders, returns and spend per currency."""

    name = "commerce"
    record_types = COMMERCE_TYPES
    model = CommerceAttributes

    def empty_state(self) -> CommerceState:
        """No purchases, no returns."""
        return CommerceState()

    def state_from_row(self, row: Mapping[str, Any]) -> CommerceState:
        """The state a stored row holds."""
        return CommerceState.from_row(row)

    def fold(self, state: CommerceState, record: Mapping[str, Any]) -> None:
        """Fold one purchase or return event."""
        state.fold(record)

    def row(self, state: CommerceState, now: datetime) -> dict[str, Any]:
        """The stored row."""
        return state.row(now)

    def records_of(self, session: Session, profile_ids: set[str]) -> Iterable[Mapping[str, Any]]:
        """Every purchase and return of the profiles (folding is order-independent)."""
        return lexer_records.events_of(session, profile_ids, self.record_types)


def money(amounts: Mapping[str, float]) -> dict[str, float]:
    """Amounts per currency rounded to cents, by currency code."""
    return {currency: round(amount, 2) for currency, amount in sorted(amounts.items())}


def average_order_value(row: Mapping[str, Any]) -> dict[str, float]:
    """Spend per order, per currency, from a stored row."""
    orders = row["orders_by_currency"]
    return money(
        {
            currency: total / orders[currency]
            for currency, total in row["spend"].items()
            if orders.get(currency)
        }
    )


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
            add(totals, name, quantity)
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [{"name": name, "quantity": quantity} for name, quantity in ranked]


def product_references(quantities: Iterable[str]) -> dict[str, list[str]]:
    """{id_type: [ids]} of the "<id_type>:<id>" keys of commerce states."""
    references: dict[str, list[str]] = {}
    for key in quantities:
        id_type, _, product_id = key.partition(":")
        references.setdefault(id_type, []).append(product_id)
    return references
