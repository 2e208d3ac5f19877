"""read_many: a page of profiles answers exactly as one read per profile, in a fixed number
of queries whatever the page size."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from carebase.db.session import Database
from carebase.errors import NotFound
from carebase.models import Profile
from carebase.profiles import service
from tests.conftest import FakeClock
from tests.helpers import Brand, ticket
from tests.profiles.test_customer_picture import order


def _load(brand: Brand, people: int) -> None:
    for n in range(people):
        email = f"p{n}@example.com"
        brand.post("customer_record", {"link": {"email": email}, "first_name": f"P{n}"})
        purchase = order(f"o-{n}", "2024-01-10T09:00:00Z", (10.0 * n, 1, "P1"))
        purchase["link"] = {"email": email}
        brand.post("purchase", purchase)
        brand.post(
            "email_open",
            {"link": {"email": email}, "action_at": "2024-03-01T08:00:00Z", "email_id": f"e{n}"},
        )
        for day in range(1, 1 + n % 4):
            brand.post(
                "customer_support_ticket",
                ticket(
                    f"T-{n}-{day}",
                    link={"email": email},
                    timeline={"created_at": f"2026-11-{day:02d}T08:00:00Z"},
                ),
            )
    brand.post("product", {"product_id": "P1", "options": {"category": ["knits"]}})
    # p1 merges into p0: p1's id then answers with p0.
    brand.post("unify", {"records": [{"email": "p0@example.com"}, {"email": "p1@example.com"}]})


@contextmanager
def _counting(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", count)


def test_read_many_equals_single_reads(
    client: TestClient, admin_token: str, database: Database, clock: FakeClock
) -> None:
    brand = Brand(client, admin_token)
    _load(brand, 6)
    with database.unit_of_work(write=False) as session:
        ids = _all_profile_ids(session)
    asked = [*reversed(ids), "prf_nobody"]
    with database.unit_of_work(write=False) as session:
        page = service.read_many(session, asked, now=clock.now, tickets=2)
        singles = []
        for profile_id in asked:
            with suppress(NotFound):
                singles.append(service.read(session, profile_id, tickets=2, now=clock.now).out())
    assert [profile.model_dump() for profile in page] == [s.model_dump() for s in singles]
    assert len(page) == len(ids), "a merged id answers with its survivor; unknown ids are left out"
    assert any(profile.resolved_from for profile in page)
    assert any(profile.commerce.top_categories for profile in page)
    assert any(len(profile.tickets) == 2 for profile in page)


def _all_profile_ids(session: Session) -> list[str]:
    return sorted(session.execute(select(Profile.id)).scalars())


def test_read_many_runs_the_same_queries_for_any_page_size(
    client: TestClient, admin_token: str, database: Database, clock: FakeClock
) -> None:
    brand = Brand(client, admin_token)
    _load(brand, 12)
    with database.unit_of_work(write=False) as session:
        ids = _all_profile_ids(session)
    counts = []
    for size in (2, len(ids)):
        with database.unit_of_work(write=False) as session, _counting(database) as statements:
            assert service.read_many(session, ids[:size], now=clock.now, tickets=3)
        counts.append(len(statements))
    # Profiles asked and their survivors, links, tickets, one per family table, ticket
    # windows, products, and the transaction's own statements.
    assert counts[0] == counts[1] <= 12
