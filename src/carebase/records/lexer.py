"""Storing Lexer records by their natural keys; a re-sent record updates or changes nothing.

- Events (purchase, return, email_*, sms_*) are keyed by (dataset, purchase_id / return_id /
  email_id / sms_id), by the newest-wins rule tickets share (`records.rules`).
- Customer records are keyed by (dataset, link): the last one received for a link is its
  record (Lexer: "the primary key for customer records").
- Products and categories are keyed by (dataset, product id / name); the last one wins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase import recordtypes
from carebase.db import locks
from carebase.identity.links import Link
from carebase.models import CatalogItem, CustomerRecord, Event
from carebase.records import lexer_repository as repository
from carebase.records import rules
from carebase.records.rules import StoreResult
from carebase.recordtypes import Parsed


def store_events(
    session: Session,
    dataset_id: str,
    record_type: str,
    records: Sequence[Parsed],
    profile_ids: Sequence[str],
    *,
    now: datetime,
) -> StoreResult:
    """Upsert events in batch order; `profile_ids[i]` is where `records[i]` belongs."""
    keys = [record.key for record in records]
    # The caller holds each key's lock; the profiles holding stored versions are locked too.
    stored = locks.read_with_profiles_locked(
        session,
        lambda: repository.existing(session, Event, "event_key", keys, dataset_id),
        lambda rows: (row["profile_id"] for row in rows.values()),
    )
    decision = rules.newest_wins(
        stored,
        [
            (record.key, record.action_at, record.content_hash, profile_id)
            for record, profile_id in zip(records, profile_ids, strict=True)
        ],
    )
    winners: dict[Any, dict[str, Any]] = {}
    for key, position in decision.winners.items():
        record = records[position]
        row: dict[str, Any] = {
            "profile_id": profile_ids[position],
            "action_at": record.action_at,
            "record": record.record,
            "content_hash": record.content_hash,
            "received_at": now,
        }
        winners[key] = row
        if key not in stored:
            decision.result.added.setdefault(row["profile_id"], []).append(
                {"record_type": record_type, "event_key": key} | row
            )
    _write(
        session,
        Event,
        winners,
        stored,
        lambda key: {"dataset_id": dataset_id, "record_type": record_type, "event_key": key},
    )
    return decision.result


def store_customer_records(
    session: Session,
    dataset_id: str,
    records: Sequence[tuple[Parsed, Link]],
    profile_ids: Sequence[str],
    *,
    now: datetime,
) -> StoreResult:
    """Upsert customer records keyed by their (normalised) link: the outcome of each, and in
    `rebuild` every profile whose customer records changed (gained one, or lost one to
    another profile)."""
    values = sorted({link.value for _, link in records})
    found = locks.read_with_profiles_locked(
        session,
        lambda: repository.existing_customer_records(session, dataset_id, values),
        lambda rows: (row["profile_id"] for row in rows),
    )
    stored = {(row["link_type"], row["system_name"], row["link_value"]): row for row in found}
    keys = [(link.link_type, link.system_name, link.value) for _, link in records]
    decision = rules.last_content_wins(
        stored, [(key, record.content_hash) for key, (record, _) in zip(keys, records, strict=True)]
    )
    winners: dict[tuple[str, str, str], dict[str, Any]] = {
        key: {
            "profile_id": profile_ids[position],
            "record": records[position][0].record,
            "content_hash": records[position][0].content_hash,
            "updated_at": now,
        }
        for key, position in decision.winners.items()
    }
    _write(
        session,
        CustomerRecord,
        winners,
        stored,
        lambda key: {
            "dataset_id": dataset_id,
            "link_type": key[0],
            "system_name": key[1],
            "link_value": key[2],
        },
    )
    result = StoreResult(outcomes=decision.result.outcomes)
    for key, row in winners.items():
        result.rebuild.add(str(row["profile_id"]))
        if key in stored:
            result.rebuild.add(str(stored[key]["profile_id"]))
    return result


def store_catalog(
    session: Session,
    dataset_id: str,
    record_type: str,
    records: Sequence[Parsed],
    *,
    now: datetime,
) -> list[str]:
    """Upsert products or categories by their natural key; the outcome of each."""
    keys = [record.key for record in records]
    stored = repository.existing(session, CatalogItem, "item_key", keys, dataset_id)
    decision = rules.last_content_wins(
        stored, [(record.key, record.content_hash) for record in records]
    )
    winners: dict[Any, dict[str, Any]] = {}
    for key, position in decision.winners.items():
        body = records[position].record
        winners[key] = {
            **{
                id_type: body.get(id_type) if isinstance(body.get(id_type), str) else None
                for id_type in ("product_id", "sku", "upc")
            },
            "record": body,
            "content_hash": records[position].content_hash,
            "updated_at": now,
        }
    _write(
        session,
        CatalogItem,
        winners,
        stored,
        lambda key: {"dataset_id": dataset_id, "record_type": record_type, "item_key": key},
    )
    return decision.result.outcomes


def _write(
    session: Session,
    model: repository.Model,
    winners: Mapping[Any, dict[str, Any]],
    stored: Mapping[Any, dict[str, Any]],
    identity_of: Callable[[Any], dict[str, Any]],
) -> None:
    """Overwrite the winners already stored; insert the others with their identifying columns."""
    updates = [row | {"_pk": stored[key]["pk"]} for key, row in winners.items() if key in stored]
    inserts = [row | identity_of(key) for key, row in winners.items() if key not in stored]
    repository.insert(session, model, inserts)
    repository.overwrite(session, model, updates)


def events_of(
    session: Session, profile_ids: Iterable[str], record_types: Sequence[str]
) -> list[dict[str, Any]]:
    """Every event of these types on the profiles."""
    return repository.events_of(session, profile_ids, record_types)


def customer_records(session: Session, profile_id: str) -> list[dict[str, Any]]:
    """A profile's customer records, least recently changed first."""
    return repository.customer_records(session, profile_id)


def products(session: Session, references: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Catalogue products matching product references ({id_type: [ids]})."""
    return repository.products_by_reference(session, references)


def dataset_totals(session: Session, record_type: str, dataset_id: str) -> tuple[int, int]:
    """(records, distinct profiles) in a dataset of a Lexer type."""
    kind = recordtypes.get(record_type).kind
    model: repository.Model = Event
    if kind == "customer":
        model = CustomerRecord
    elif kind == "entity":
        model = CatalogItem
    return repository.dataset_totals(session, model, dataset_id)
