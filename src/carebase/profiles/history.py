"""A profile's history: tickets, purchases, returns, email and SMS events in one stream,
each with a one-line human summary and its full record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from carebase import recordtypes
from carebase.attributes.commerce import COMMERCE_TYPES
from carebase.errors import NotFound, ValidationFailed
from carebase.identity import service as identity
from carebase.kit import pagination
from carebase.profiles.schemas import TicketOut
from carebase.records import lexer as lexer_records
from carebase.records import timeline_repository as timeline

# Every type the registry gives a history line, in registry order.
HISTORY_TYPES = recordtypes.in_history()


@dataclass(slots=True)
class HistoryItem:
    """One entry of the stream."""

    type: str
    at: datetime
    id: str
    dataset_id: str
    summary: str
    record: dict[str, Any]
    # Purchases and returns: each line with the catalogue's name, image and URL when known.
    products: list[dict[str, Any]] | None = None


def read(
    session: Session,
    profile_id: str,
    *,
    types: Sequence[str],
    newest_first: bool,
    cursor: str | None,
    limit: int,
) -> tuple[str, list[HistoryItem], str | None]:
    """(live profile id, one page of items, the next page's cursor or None)."""
    live_id = identity.live_profile_id(session, profile_id)
    if live_id is None:
        raise NotFound(f"No profile with id {profile_id!r}.")
    unknown = sorted(set(types) - set(HISTORY_TYPES))
    if unknown:
        raise ValidationFailed.on("type", "must be among " + ", ".join(HISTORY_TYPES))
    found = timeline.page(
        session,
        live_id,
        record_types=list(types or HISTORY_TYPES),
        newest_first=newest_first,
        after=_decode(cursor) if cursor else None,
        limit=limit + 1,
    )
    items = [_item(record_type, row) for _, record_type, row in found[:limit]]
    _attach_products(session, items)
    next_cursor = _encode(found[limit - 1][0]) if len(found) > limit else None
    return live_id, items, next_cursor


def _attach_products(session: Session, items: list[HistoryItem]) -> None:
    """Give each purchase and return its lines with the products they name, in one lookup."""
    commercial = [item for item in items if item.type in COMMERCE_TYPES]
    references: dict[str, list[str]] = {}
    for item in commercial:
        for line in item.record.get("products") or []:
            reference = line.get("product_reference") or {}
            id_type, product_id = reference.get("id_type"), reference.get("id")
            if isinstance(id_type, str) and isinstance(product_id, str):
                references.setdefault(id_type, []).append(product_id)
    catalogue: dict[tuple[str, str], dict[str, Any]] = {}
    if references:
        for product in lexer_records.products(session, references):
            for id_type in ("product_id", "sku", "upc"):
                if product[id_type]:
                    catalogue[(id_type, product[id_type])] = product["record"] or {}
    for item in commercial:
        item.products = []
        for line in item.record.get("products") or []:
            reference = line.get("product_reference") or {}
            key = (str(reference.get("id_type")), str(reference.get("id")))
            known = catalogue.get(key, {}) if reference else {}
            images = known.get("images") or []
            item.products.append(
                {
                    "id": reference.get("id"),
                    "name": known.get("name"),
                    "image": images[0] if images else None,
                    "url": known.get("url"),
                    "quantity": line.get("quantity"),
                    "price_paid": line.get("price_paid"),
                }
            )


def _encode(position: timeline.Position) -> str:
    return pagination.encode(position.at, position.source, position.pk)


def _decode(cursor: str) -> timeline.Position:
    return timeline.Position(*pagination.decode(cursor, datetime, str, int))


def _item(record_type: str, row: dict[str, Any]) -> HistoryItem:
    if record_type == timeline.MENTIONS:
        return _mention_item(row)
    if record_type == timeline.TICKETS:
        record = TicketOut.from_row(SimpleNamespace(**row)).model_dump()
        return HistoryItem(
            record_type,
            row["created_at"],
            row["ticket_id"],
            row["dataset_id"],
            _line(record_type, row),
            record,
        )
    return HistoryItem(
        record_type,
        row["action_at"],
        row["event_key"],
        row["dataset_id"],
        _line(record_type, row),
        row["record"],
    )


def _mention_item(row: dict[str, Any]) -> HistoryItem:
    """An inbox message, with the responses sent to it."""
    record = {
        "mention_id": row["id"],
        "source_type": row["source_type"],
        "account": row["account"],
        "author": {"username": row["author_username"], "fullname": row["author_fullname"]},
        "text": row["body"],
        "published_at": row["published_at"],
        "state": row["state"],
        "queue_id": row["queue_id"],
        "responses": [
            {
                "id": response["id"],
                "text": response["body"],
                "author_id": response["author_id"],
                "agent_name": response["agent_name"],
                "sent_at": response["sent_at"],
            }
            for response in row["responses"]
        ],
    }
    dataset_id = row["origin_key"] if row["origin"] == "api" else ""
    return HistoryItem(
        timeline.MENTIONS,
        row["published_at"],
        row["id"],
        dataset_id,
        _line(timeline.MENTIONS, row),
        record,
    )


def _line(record_type: str, row: dict[str, Any]) -> str:
    """The record type's own one-line summary of a stored row."""
    line = recordtypes.get(record_type).history_line
    assert line is not None  # HISTORY_TYPES holds only types that have one
    return line(row)
