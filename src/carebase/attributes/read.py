"""Attributes as the Profile Read API shows them, for one profile or a page of them.

One query per family table for the whole set, plus the attributes computed when read:
ticket windows (one grouped query) and top categories (one product lookup).
"""

from __future__ import annotations

from collections.abc import Sequence
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


def sections(session: Session, profile_ids: Sequence[str], *, now: datetime) -> dict[str, Sections]:
    """{profile id: {section: {attribute: value}}} for the Profile Read API."""
    ids = sorted(set(profile_ids))
    rows: dict[str, dict[str, dict[str, Any]]] = {profile_id: {} for profile_id in ids}
    for family in FAMILIES:
        stored = repository.rows_of(session, family.model, ids) if ids else {}
        empty: dict[str, Any] | None = None
        for profile_id in ids:
            row = stored.get(profile_id)
            if row is None:
                empty = empty or family.row(family.empty_state(), now)
                row = empty
            rows[profile_id][family.name] = row
    windows = repository.ticket_windows(
        session, ids, now - timedelta(days=30), now - timedelta(days=90)
    )
    bought = {key for profile_id in ids for key in rows[profile_id]["commerce"]["products"]}
    products = lexer_records.products(session, product_references(sorted(bought))) if bought else []
    result: dict[str, Sections] = {}
    for profile_id in ids:
        family_rows = rows[profile_id]
        last_30, last_90 = windows.get(profile_id, (0, 0))
        read_time = {
            "tickets_last_30_days": last_30,
            "tickets_last_90_days": last_90,
            "top_categories": top_categories(family_rows["commerce"]["products"], products),
        }
        result[profile_id] = {
            SECTIONS.get(name, name): catalogue.section(name, row, read_time)
            for name, row in family_rows.items()
        }
        result[profile_id]["attributes"]["computed_at"] = family_rows["support"]["computed_at"]
    return result
