"""Every SQL statement of the profiles read side.

Reading a page of profiles needs, per table, one query for the whole page. identity/ and
records/ answer one profile at a time today, so these set-based reads of their tables live
here until those domains offer them (then they move there, behind their services).

Reading one profile is the API's hot path: one joined statement fetches the profile, all
its attribute families and its ticket-window counts, so it spans identity, attributes and
records tables. It lives here, on the read side, because no one of those domains owns the
whole answer; each per-statement cost (SQLAlchemy's execute, the driver, a B-tree descent)
was most of a read when each table had its own statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, Table, bindparam, false, func, select
from sqlalchemy.orm import Session

from carebase.db import bulk
from carebase.identity.links import Link
from carebase.models import (
    CommerceAttributes,
    CustomerAttributes,
    EngagementAttributes,
    Profile,
    ProfileLink,
    SupportAttributes,
    Ticket,
)
from carebase.models.base import table

_PROFILES = select(
    Profile.id, Profile.created_at, Profile.updated_at, Profile.merged_into_id
).where(Profile.id.in_(bindparam("ids", expanding=True)))
_LINKS = (
    select(
        ProfileLink.profile_id, ProfileLink.link_type, ProfileLink.value, ProfileLink.system_name
    )
    .where(ProfileLink.profile_id.in_(bindparam("ids", expanding=True)))
    .where(ProfileLink.derived == false())
    .order_by(
        ProfileLink.profile_id, ProfileLink.link_type, ProfileLink.system_name, ProfileLink.value
    )
)
_RANKED = select(
    *table(Ticket).columns,
    func.row_number()
    .over(partition_by=Ticket.profile_id, order_by=(Ticket.created_at.desc(), Ticket.pk.desc()))
    .label("_rank"),
).where(Ticket.profile_id.in_(bindparam("ids", expanding=True)))
_RANKED_SUBQUERY = _RANKED.subquery()
_RECENT = (
    select(*(_RANKED_SUBQUERY.c[column.name] for column in table(Ticket).columns))
    .where(_RANKED_SUBQUERY.c._rank <= bindparam("limit"))
    .order_by(
        _RANKED_SUBQUERY.c.profile_id,
        _RANKED_SUBQUERY.c.created_at.desc(),
        _RANKED_SUBQUERY.c.pk.desc(),
    )
)


def profiles_by_id(session: Session, profile_ids: Sequence[str]) -> dict[str, Any]:
    """(id, created_at, updated_at, merged_into_id) of the profiles that exist, by id."""
    found: dict[str, Any] = {}
    for chunk in bulk.chunks(sorted(set(profile_ids))):
        for row in session.connection().execute(_PROFILES, {"ids": list(chunk)}):
            found[row.id] = row
    return found


def shown_links(session: Session, profile_ids: Sequence[str]) -> dict[str, list[Link]]:
    """Each profile's links as given (not the hashes carebase derived), by type and value."""
    found: dict[str, list[Link]] = {}
    for chunk in bulk.chunks(sorted(set(profile_ids))):
        for profile_id, link_type, value, system in session.connection().execute(
            _LINKS, {"ids": list(chunk)}
        ):
            found.setdefault(profile_id, []).append(Link(link_type, value, system))
    return found


def recent_tickets(
    session: Session, profile_ids: Sequence[str], limit: int
) -> dict[str, list[Row[Any]]]:
    """Each profile's `limit` most recently created tickets, newest first."""
    found: dict[str, list[Row[Any]]] = {}
    for chunk in bulk.chunks(sorted(set(profile_ids))):
        params = {"ids": list(chunk), "limit": limit}
        for row in session.connection().execute(_RECENT, params):
            found.setdefault(row.profile_id, []).append(row)
    return found


_PROFILE_TABLE, _LINK_TABLE, _TICKET_TABLE = table(Profile), table(ProfileLink), table(Ticket)
# Every attribute family's table, joined to the profile by profile_id (its primary key).
FAMILY_TABLES: tuple[Table, ...] = tuple(
    table(model)
    for model in (SupportAttributes, CommerceAttributes, EngagementAttributes, CustomerAttributes)
)


def _window(since: str) -> Any:
    # Correlated to the profile the outer statement found: a range count on the
    # (profile_id, created_at) index, no rows fetched.
    created = _TICKET_TABLE.c.created_at
    return (
        select(func.count())
        .where(
            _TICKET_TABLE.c.profile_id == _PROFILE_TABLE.c.id,
            bindparam(since, type_=created.type) <= created,
        )
        .scalar_subquery()
    )


def _whole_profile(by_link: bool) -> Select[Any]:
    source: Any = _PROFILE_TABLE
    if by_link:
        source = _LINK_TABLE.join(_PROFILE_TABLE, _PROFILE_TABLE.c.id == _LINK_TABLE.c.profile_id)
    for family in FAMILY_TABLES:
        source = source.outerjoin(family, family.c.profile_id == _PROFILE_TABLE.c.id)
    columns = [
        _PROFILE_TABLE.c.id,
        _PROFILE_TABLE.c.created_at,
        _PROFILE_TABLE.c.updated_at,
        _PROFILE_TABLE.c.merged_into_id,
        _window("near"),
        _window("far"),
        *(column for family in FAMILY_TABLES for column in family.columns),
    ]
    statement = select(*columns).select_from(source)
    if by_link:
        return statement.where(
            _LINK_TABLE.c.value == bindparam("value"),
            _LINK_TABLE.c.link_type == bindparam("link_type"),
            _LINK_TABLE.c.system_name == bindparam("system_name"),
        )
    return statement.where(_PROFILE_TABLE.c.id == bindparam("profile_id"))


# Prebuilt: SQLAlchemy caches the compiled form of a statement object it sees again.
_BY_LINK = _whole_profile(by_link=True)
_BY_ID = _whole_profile(by_link=False)
# Where each family's columns start in a row of either statement.
_FAMILY_SLICES: list[tuple[str, list[str], int, int]] = []
_position = 6
for _family in FAMILY_TABLES:
    _names = [column.name for column in _family.columns]
    _FAMILY_SLICES.append((_family.name, _names, _position, _names.index("profile_id")))
    _position += len(_names)
_SHOWN_LINKS = (
    select(ProfileLink.link_type, ProfileLink.value, ProfileLink.system_name)
    .where(ProfileLink.profile_id == bindparam("profile_id"))
    .where(ProfileLink.derived == false())
    .order_by(ProfileLink.link_type, ProfileLink.system_name, ProfileLink.value)
)


@dataclass(slots=True)
class WholeProfile:
    """A profile row with its stored attribute rows and its ticket-window counts."""

    id: str
    created_at: datetime
    updated_at: datetime
    merged_into_id: str | None
    # Tickets created since `near`, and since `far` (the earlier moment).
    windows: tuple[int, int]
    # Each family table's stored row (by table name), None when the profile has none.
    families: dict[str, dict[str, Any] | None]


def _whole(found: Row[Any] | None) -> WholeProfile | None:
    if found is None:
        return None
    row: tuple[Any, ...] = tuple(found)
    families: dict[str, dict[str, Any] | None] = {}
    for name, columns, start, key in _FAMILY_SLICES:
        values = row[start : start + len(columns)]
        # A LEFT JOIN that found nothing gives NULL in the primary key, never otherwise.
        families[name] = dict(zip(columns, values, strict=True)) if values[key] else None
    return WholeProfile(row[0], row[1], row[2], row[3], (int(row[4]), int(row[5])), families)


def whole_profile_by_link(
    session: Session, link: Link, near: datetime, far: datetime
) -> WholeProfile | None:
    """The profile owning `link`, with its attributes and ticket windows, in one statement."""
    params = {
        "value": link.value,
        "link_type": link.link_type,
        "system_name": link.system_name,
        "near": near,
        "far": far,
    }
    return _whole(session.connection().execute(_BY_LINK, params).one_or_none())


def whole_profile(
    session: Session, profile_id: str, near: datetime, far: datetime
) -> WholeProfile | None:
    """A profile (live or tombstone) by id, with its attributes and ticket windows."""
    params = {"profile_id": profile_id, "near": near, "far": far}
    return _whole(session.connection().execute(_BY_ID, params).one_or_none())


def shown_links_of(session: Session, profile_id: str) -> list[Link]:
    """One profile's links as given (not the hashes carebase derived), by type and value."""
    rows = session.connection().execute(_SHOWN_LINKS, {"profile_id": profile_id})
    return [Link(link_type, value, system) for link_type, value, system in rows]
