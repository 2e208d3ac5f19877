"""Every SQL statement on Lexer records: events, customer records, catalogue items."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from carebase.db import bulk
from carebase.models import CatalogItem, CustomerRecord, Event
from carebase.models.base import table

_WRITABLE = {
    Event: ("profile_id", "action_at", "record", "content_hash", "received_at"),
    CustomerRecord: ("profile_id", "record", "content_hash", "updated_at"),
    CatalogItem: ("product_id", "sku", "upc", "record", "content_hash", "updated_at"),
}
_UPDATES = {
    model: update(table(model))
    .where(table(model).c.pk == bindparam("_pk"))
    .values({c: bindparam(c, type_=table(model).c[c].type) for c in columns})
    for model, columns in _WRITABLE.items()
}
Model = type[Event] | type[CustomerRecord] | type[CatalogItem]


def existing(
    session: Session, model: Model, key: str, values: Sequence[Any], dataset_id: str
) -> dict[Any, dict[str, Any]]:
    """{pk, key, content_hash, profile_id/action_at where present} of stored rows, by key."""
    columns = ["pk", key, "content_hash"]
    columns += [c for c in ("profile_id", "action_at") if c in model.__table__.c]
    rows = bulk.select_in(
        session, table(model), columns, key, values, where={"dataset_id": dataset_id}
    )
    return {row[key]: row for row in rows}


def existing_customer_records(
    session: Session, dataset_id: str, values: Sequence[str]
) -> list[dict[str, Any]]:
    """Stored customer records whose link value is one of `values` (any link type)."""
    return bulk.select_in(
        session,
        table(CustomerRecord),
        ["pk", "link_type", "system_name", "link_value", "content_hash", "profile_id"],
        "link_value",
        values,
        where={"dataset_id": dataset_id},
    )


def insert(session: Session, model: Model, rows: list[dict[str, Any]]) -> None:
    """Insert new rows (complete)."""
    if rows:
        bulk.insert_rows(session, table(model), rows)


def overwrite(session: Session, model: Model, rows: list[dict[str, Any]]) -> None:
    """Overwrite stored rows; each carries its `_pk`."""
    if rows:
        session.connection().execute(_UPDATES[model], rows)


def events_of(
    session: Session, profile_ids: Iterable[str], record_types: Sequence[str]
) -> list[dict[str, Any]]:
    """Every event of these types on `profile_ids`, for recomputing attributes."""
    return bulk.select_in(
        session,
        table(Event),
        ["profile_id", "record_type", "event_key", "action_at", "record"],
        "profile_id",
        list(profile_ids),
        where={"record_type": tuple(record_types)},
    )


_CUSTOMER_RECORDS = (
    select(CustomerRecord.record, CustomerRecord.updated_at, CustomerRecord.pk)
    .where(CustomerRecord.profile_id == bindparam("profile_id"))
    .order_by(CustomerRecord.updated_at, CustomerRecord.pk)
)


def customer_records(session: Session, profile_id: str) -> list[dict[str, Any]]:
    """A profile's customer records, least recently changed first."""
    rows = session.connection().execute(_CUSTOMER_RECORDS, {"profile_id": profile_id}).all()
    return [row.record for row in rows]


def products_by_reference(
    session: Session, references: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """Products whose product_id, sku or upc (the keys of `references`) is among the values."""
    conditions = [
        getattr(CatalogItem, id_type).in_(values)
        for id_type, values in references.items()
        if values and id_type in {"product_id", "sku", "upc"}
    ]
    if not conditions:
        return []
    query = select(CatalogItem.product_id, CatalogItem.sku, CatalogItem.upc, CatalogItem.record)
    query = query.where(CatalogItem.record_type == "product", or_(*conditions))
    return [dict(row._mapping) for row in session.execute(query)]


def dataset_totals(session: Session, model: Model, dataset_id: str) -> tuple[int, int]:
    """(rows, distinct profiles) of one dataset in one table."""
    if model is CatalogItem:
        count = select(func.count()).where(CatalogItem.dataset_id == dataset_id)
        return int(session.execute(count).scalar_one()), 0
    assert model is Event or model is CustomerRecord
    query = select(func.count(), func.count(func.distinct(model.profile_id)))
    row = session.execute(query.where(model.dataset_id == dataset_id)).one()
    return int(row[0]), int(row[1])
