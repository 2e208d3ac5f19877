"""Attributes as the Profile Read API shows them, for one profile or a page of them.

For a page: one query per family table for the whole set, plus the attributes computed
when read: ticket windows (one grouped query) and top categories (one product lookup).
For one profile the read side fetches the stored rows and windows in one joined statement
(`profiles.repository.whole_profile`) and hands them to `assemble`, which both share.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from carebase.attributes import catalogue, repository
from carebase.attributes.commerce import product_references, top_categories
from carebase.attributes.service import FAMILIES
from carebase.records import lexer as lexer_records

# The Profile Read API's key for each family's section.
SECTIONS = {"support": "attributes", "customer": "customer", "commerce": "commerce"}
Sections = dict[str, dict[str, Any]]
# A profile's stored row of each family (by family name), None where it has none.
StoredRows = Mapping[str, Mapping[str, Any] | None]
NEAR, FAR = timedelta(days=30), timedelta(days=90)


def windows(now: datetime) -> tuple[datetime, datetime]:
    """The starts of the 30- and 90-day ticket windows at `now`."""
    return now - NEAR, now - FAR


def by_family(stored_by_table: Mapping[str, Mapping[str, Any] | None]) -> dict[str, Any]:
    """Stored rows keyed by table name, re-keyed by family name."""
    return {family.name: stored_by_table[family.model.__tablename__] for family in FAMILIES}


def sections(session: Session, profile_ids: Sequence[str], *, now: datetime) -> dict[str, Sections]:
    """{profile id: {section: {attribute: value}}} for the Profile Read API."""
    ids = sorted(set(profile_ids))
    stored = {
        family.name: repository.rows_of(session, family.model, ids) if ids else {}
        for family in FAMILIES
    }
    rows = {
        profile_id: {family.name: stored[family.name].get(profile_id) for family in FAMILIES}
        for profile_id in ids
    }
    counts = repository.ticket_windows(session, ids, *windows(now))
    products = products_bought(session, rows.values())
    return {
        profile_id: assemble(rows[profile_id], counts.get(profile_id, (0, 0)), products, now)
        for profile_id in ids
    }


def products_bought(session: Session, rows: Iterable[StoredRows]) -> list[dict[str, Any]]:
    """The catalogue products the commerce rows among `rows` bought (no query when none)."""
    bought = sorted(
        {key for each in rows if (commerce := each["commerce"]) for key in commerce["products"]}
    )
    return lexer_records.products(session, product_references(bought)) if bought else []


def assemble(
    rows: StoredRows, counts: tuple[int, int], products: list[dict[str, Any]], now: datetime
) -> Sections:
    """One profile's sections from its stored rows, its (30-day, 90-day) ticket counts and
    the products it bought (from `products_bought`)."""
    family_rows = {
        family.name: rows[family.name] or family.row(family.empty_state(), now)
        for family in FAMILIES
    }
    read_time = {
        "tickets_last_30_days": counts[0],
        "tickets_last_90_days": counts[1],
        "top_categories": top_categories(family_rows["commerce"]["products"], products),
    }
    result = {
        SECTIONS.get(name, name): catalogue.section(name, row, read_time)
        for name, row in family_rows.items()
    }
    result["attributes"]["computed_at"] = family_rows["support"]["computed_at"]
    return result
