"""Every SQL statement of the profiles read side.

Reading a page of profiles needs, per table, one query for the whole page. identity/ and
records/ answer one profile at a time today, so these set-based reads of their tables live
here until those domains offer them (then they move there, behind their services).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, false, func, select
from sqlalchemy.orm import Session

from carebase.db import bulk
from carebase.identity.links import Link
from carebase.models import Profile, ProfileLink, Ticket
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
