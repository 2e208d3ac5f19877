"""Per family: folding records one batch at a time equals rebuilding from all records, on
seeded random data posted through the ingestion API (new records, changed ones, merges);
and the materialised CRM precedence equals the read-time fold it replaced."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from carebase.attributes import service as attributes
from carebase.attributes.customer import CRM_FIELDS
from carebase.attributes.family import Family
from carebase.db.session import Database
from carebase.models import Profile, utcnow
from carebase.models.base import table
from carebase.records import lexer as lexer_records
from tests.conftest import FakeClock
from tests.helpers import Brand

PEOPLE = 12
Batch = tuple[str, list[dict[str, Any]]]


def _link(rng: random.Random, person: int) -> dict[str, Any]:
    # Some people are also known by a mobile or a customer id, so unify can merge them.
    choice = rng.random()
    if choice < 0.6:
        return {"email": f"p{person}@example.com"}
    if choice < 0.8:
        return {"mobile": f"+6140000{person:04d}"}
    return {"customer_id": f"C-{person}", "system_name": "shop"}


def _at(rng: random.Random) -> str:
    return f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z"


def _unify(rng: random.Random) -> Batch:
    person = rng.randrange(PEOPLE)
    return "unify", [{"records": [{"email": f"p{person}@example.com"}, _link(rng, person)]}]


def commerce_batches(rng: random.Random) -> Iterator[Batch]:
    """Purchases and returns, some re-sent changed (a newer action_at)."""
    sent: list[tuple[str, dict[str, Any]]] = []
    for number in range(10):
        records: dict[str, list[dict[str, Any]]] = {"purchase": [], "return": []}
        for index in range(15):
            kind = rng.choice(["purchase", "purchase", "return"])
            sign = 1 if kind == "purchase" else -1  # returns carry negative amounts
            record = {
                "link": _link(rng, rng.randrange(PEOPLE)),
                "action_at": _at(rng),
                f"{kind}_id": f"{kind[0]}-{number}-{index}",
                "type": "ecommerce",
                "currency": rng.choice(["AUD", "usd", None, " "]),
                "products": [
                    {
                        "price_paid": sign * round(rng.uniform(0, 200), 2),
                        "quantity": sign * rng.randint(1, 3),
                        "product_reference": {"id": f"P{rng.randrange(6)}", "id_type": "sku"},
                    }
                    for _ in range(rng.randint(1, 3))
                ],
            }
            records[kind].append({k: v for k, v in record.items() if v is not None})
            sent.append((kind, record))
        for kind, record in rng.sample(sent, k=min(4, len(sent))):
            changed = dict(record, action_at="2025-06-01T00:00:00Z")
            changed["products"] = [
                dict(record["products"][0], quantity=record["products"][0]["quantity"] * 2)
            ]
            records[kind].append({k: v for k, v in changed.items() if v is not None})
        yield from ((kind, rows) for kind, rows in records.items() if rows)
        if number % 3 == 2:
            yield _unify(rng)


ENGAGEMENT = ["email_send", "email_open", "email_click", "email_bounce", "email_subscribe"]
SMS = ["sms_send", "sms_click", "sms_subscribe"]


def engagement_batches(rng: random.Random) -> Iterator[Batch]:
    """Email and SMS events, subscriptions to a few lists, some events re-sent changed."""
    for number in range(10):
        for record_type in rng.sample(ENGAGEMENT + SMS, k=4):
            key = "sms_id" if record_type.startswith("sms") else "email_id"
            rows = []
            for index in range(8):
                person = rng.randrange(PEOPLE)
                link = (
                    {"mobile": f"+6140000{person:04d}"}
                    if record_type.startswith("sms")
                    else {"email": f"p{person}@example.com"}
                )
                # Re-using ids across batches makes some events updates.
                row: dict[str, Any] = {
                    "link": link,
                    "action_at": _at(rng),
                    key: f"{record_type}-{rng.randrange(30)}" if index % 2 else f"{number}-{index}",
                }
                if record_type.endswith("subscribe"):
                    row["status"] = rng.choice(["subscribed", "unsubscribed"])
                    listed = rng.choice([None, "L1", "L2"])
                    if listed:
                        row["list"] = {"id": listed, "name": f"List {listed}"}
                rows.append(row)
            yield record_type, rows
        if number % 3 == 2:
            yield _unify(rng)


def customer_batches(rng: random.Random) -> Iterator[Batch]:
    """Customer records on several links per person, re-sent with changes, nulls and gaps."""
    for _ in range(12):
        rows = []
        for _ in range(6):
            row: dict[str, Any] = {"link": _link(rng, rng.randrange(PEOPLE))}
            for name in rng.sample(["first_name", "city", "gender", "customer_type"], k=2):
                row[name] = f"{name}-{rng.randrange(3)}"  # the schema refuses null
            if rng.random() < 0.5:
                row["employee_flag"] = rng.choice([True, False])
            if rng.random() < 0.6:
                row["custom_fields"] = {
                    rng.choice(["loyalty_tier", "vip", "note"]): rng.choice([1, "x", None, True])
                }
            rows.append(row)
        yield "customer_record", rows
        if rng.random() < 0.4:
            yield _unify(rng)


def _rows(database: Database, family: Family[Any]) -> dict[str, dict[str, Any]]:
    with database.unit_of_work(write=False) as session:
        rows = session.connection().execute(select(table(family.model))).mappings()
        # Through the family's state: the same value whatever the engine's types.
        return {
            row["profile_id"]: family.row(family.state_from_row(row), utcnow())
            | {"computed_at": None}
            for row in rows
        }


def _live_profiles(database: Database) -> set[str]:
    with database.unit_of_work(write=False) as session:
        query = select(Profile.id).where(Profile.merged_into_id.is_(None))
        return set(session.execute(query).scalars())


GENERATORS: dict[str, Callable[[random.Random], Iterator[Batch]]] = {
    "commerce": commerce_batches,
    "engagement": engagement_batches,
    "customer": customer_batches,
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_folding_batch_by_batch_equals_a_rebuild(
    name: str, client: TestClient, admin_token: str, database: Database, clock: FakeClock
) -> None:
    family = attributes.family(name)
    rng = random.Random(f"{name}-7")
    brand = Brand(client, admin_token)
    for record_type, records in GENERATORS[name](rng):
        body = brand.post(record_type, *records)
        assert body["rejected"] == 0, body["rejections"]
        if rng.random() < 0.7:  # some batches share an instant, as concurrent ones may
            clock.advance(seconds=rng.randint(1, 90))
    folded = _rows(database, family)
    live = _live_profiles(database)
    with database.unit_of_work(write=False) as session:
        fed = {record["profile_id"] for record in family.records_of(session, live)}
    assert fed, "the data feeds the family"
    assert fed <= folded.keys() <= live, "a row for every profile with records, none stale"
    with database.unit_of_work() as session:
        attributes.update(
            session, family, rebuild=folded, added={}, new_profiles=set(), now=utcnow()
        )
    assert _rows(database, family) == folded


def _read_time_fold(records: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The CRM precedence as the Profile Read API folded it before it was materialised
    (profiles/lexer_attributes.py::customer_view), kept here as the oracle."""
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


def test_materialised_crm_precedence_equals_the_read_time_fold(
    client: TestClient, admin_token: str, database: Database, clock: FakeClock
) -> None:
    rng = random.Random(11)
    brand = Brand(client, admin_token)
    for record_type, records in customer_batches(rng):
        brand.post(record_type, *records)
        clock.advance(seconds=rng.choice([0, 5, 60]))
    live = _live_profiles(database)
    compared = 0
    for profile_id in sorted(live):
        with database.unit_of_work(write=False) as session:
            records = lexer_records.customer_records(session, profile_id)
        if not records:
            continue
        shown = brand.client.get(
            f"/v1/profiles/{profile_id}", headers={"Authorization": f"Bearer {brand.token}"}
        ).json()["customer"]
        assert shown == _read_time_fold(records), profile_id
        compared += 1
    assert compared >= 5
