"""Every SQL statement of profile search: prefix ranges over bytewise keys, then the found
profiles' display fields."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, false, literal, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from carebase.kit.searchkey import prefix_range
from carebase.models import CustomerAttributes, ProfileLink

# Links a person could type; derived hashes (email_sha256 computed by carebase) are not shown.
_LINK = ProfileLink.__table__.c
_CUSTOMER = CustomerAttributes.__table__.c


def _starts_with(column: ColumnElement[Any], prefix: str) -> ColumnElement[bool]:
    low, high = prefix_range(prefix)
    return and_(column >= low, column < high)


def matches(
    session: Session, *, link_prefixes: Iterable[str], name_prefix: str | None, limit: int
) -> list[tuple[str, str, str]]:
    """(profile_id, field, matched value) for links starting with any of `link_prefixes` and
    names (full, or last alone) starting with `name_prefix`: at most `limit` of each range,
    each range one index scan, in key order."""
    ranges = [
        select(_LINK.profile_id, _LINK.link_type.label("field"), _LINK.value)
        .where(_starts_with(_LINK.value, prefix), _LINK.derived == false())
        .order_by(_LINK.value)
        .limit(limit)
        for prefix in dict.fromkeys(link_prefixes)
    ]
    if name_prefix:
        for column in (_CUSTOMER.name_key, _CUSTOMER.last_name_key):
            ranges.append(
                select(_CUSTOMER.profile_id, literal(column.name).label("field"), column)
                .where(_starts_with(column, name_prefix))
                .order_by(column)
                .limit(limit)
            )
    if not ranges:
        return []
    # Each range keeps its own ORDER BY and LIMIT inside a subquery (SQLite refuses them on a
    # compound's members).
    statement = union_all(*(select(r.subquery()) for r in ranges))
    return [(row[0], row[1], row[2]) for row in session.execute(statement)]


def display_fields(session: Session, profile_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Name, email, mobile and customer id of each profile that has customer attributes."""
    rows = session.execute(
        select(
            _CUSTOMER.profile_id,
            _CUSTOMER.first_name,
            _CUSTOMER.last_name,
            _CUSTOMER.email,
            _CUSTOMER.mobile,
            _CUSTOMER.customer_id,
        ).where(_CUSTOMER.profile_id.in_(profile_ids))
    ).mappings()
    return {row["profile_id"]: dict(row) for row in rows}


def shown_links(session: Session, profile_ids: Sequence[str]) -> list[tuple[str, str, str]]:
    """(profile_id, link_type, value) of the profiles' emails and mobiles, oldest first."""
    rows = session.execute(
        select(_LINK.profile_id, _LINK.link_type, _LINK.value)
        .where(
            _LINK.profile_id.in_(profile_ids),
            _LINK.link_type.in_(("email", "mobile")),
            _LINK.derived == false(),
        )
        .order_by(_LINK.profile_id, _LINK.id)
    )
    return [(row[0], row[1], row[2]) for row in rows]


def owners_of(session: Session, value: str, link_types: Sequence[str]) -> list[str]:
    """The profiles owning `value` as any of `link_types` (in any system), at most two: a
    lookup needs to know only whether the owner is one."""
    rows = session.execute(
        select(_LINK.profile_id)
        .where(_LINK.value == value, _LINK.link_type.in_(link_types), _LINK.derived == false())
        .distinct()
        .limit(2)
    )
    return [row[0] for row in rows]
