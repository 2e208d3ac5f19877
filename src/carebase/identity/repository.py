"""Every SQL statement of the identity domain."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session

from carebase.db import bulk
from carebase.identity.links import Link
from carebase.identity.owned import OWNED
from carebase.models import Profile, ProfileLink, ProfileMerge, Suppression
from carebase.models.base import table


def link_owners(session: Session, links: Iterable[Link]) -> dict[Link, str]:
    """The profile owning each of `links` that has an owner."""
    wanted = set(links)
    # By value alone (the unique index leads with it); type and system are matched here.
    rows = bulk.select_in(
        session,
        table(ProfileLink),
        ["link_type", "system_name", "value", "profile_id"],
        "value",
        [link.value for link in wanted],
    )
    owners: dict[Link, str] = {}
    for row in rows:
        link = Link(row["link_type"], row["value"], row["system_name"])
        if link in wanted:
            owners[link] = row["profile_id"]
    return owners


def profile_facts(session: Session, profile_ids: Iterable[str]) -> dict[str, datetime]:
    """created_at of each live profile among `profile_ids`."""
    rows = bulk.select_in(session, table(Profile), ["id", "created_at"], "id", list(profile_ids))
    return {row["id"]: row["created_at"] for row in rows}


def link_type_counts(session: Session, profile_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """How many links of each type each profile holds."""
    ids = sorted(set(profile_ids))
    counts: dict[str, dict[str, int]] = {}
    for chunk in bulk.chunks(ids):
        rows = session.execute(
            select(ProfileLink.profile_id, ProfileLink.link_type, func.count())
            .where(ProfileLink.profile_id.in_(chunk))
            .group_by(ProfileLink.profile_id, ProfileLink.link_type)
        )
        for profile_id, link_type, count in rows:
            counts.setdefault(profile_id, {})[link_type] = count
    return counts


def insert_profiles(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert new profiles."""
    if rows:
        bulk.insert_rows(session, table(Profile), rows)


def insert_links(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert new links."""
    if rows:
        bulk.insert_rows(session, table(ProfileLink), rows)


def touch_profiles(session: Session, profile_ids: Iterable[str], at: datetime) -> None:
    """Set updated_at."""
    ids = sorted(set(profile_ids))
    for chunk in bulk.chunks(ids):
        session.connection().execute(
            update(Profile).where(Profile.id.in_(chunk)).values(updated_at=at)
        )


_MOVE_LINKS = (
    update(table(ProfileLink))
    .where(table(ProfileLink).c.profile_id == bindparam("_merged"))
    .values(profile_id=bindparam("_survivor"))
)
_TOMBSTONE = (
    update(table(Profile))
    .where(
        or_(
            table(Profile).c.id == bindparam("_merged"),
            table(Profile).c.merged_into_id == bindparam("_merged"),
        )
    )
    .values(
        merged_into_id=bindparam("_survivor"),
        updated_at=bindparam("_at", type_=table(Profile).c.updated_at.type),
    )
)


def move_links(session: Session, pairs: list[tuple[str, str]]) -> None:
    """Give every link of each merged profile to its survivor."""
    params = [{"_merged": merged, "_survivor": survivor} for merged, survivor in pairs]
    session.connection().execute(_MOVE_LINKS, params)


def tombstone(session: Session, pairs: list[tuple[str, str]], at: datetime) -> None:
    """Point each merged profile, and everything that pointed at it, to its survivor."""
    params = [{"_merged": m, "_survivor": s, "_at": at} for m, s in pairs]
    session.connection().execute(_TOMBSTONE, params)


def record_merges(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append to the merge ledger."""
    if rows:
        session.connection().execute(insert(table(ProfileMerge)), rows)


# The Profile Read API's statements, built once: they run on every read.
_GET_PROFILE = select(
    Profile.id, Profile.created_at, Profile.updated_at, Profile.merged_into_id
).where(Profile.id == bindparam("profile_id"))
_LINKS_OF = (
    select(ProfileLink.link_type, ProfileLink.value, ProfileLink.system_name, ProfileLink.derived)
    .where(ProfileLink.profile_id == bindparam("profile_id"))
    .order_by(ProfileLink.link_type, ProfileLink.system_name, ProfileLink.value)
)
_FIND_OWNER = select(ProfileLink.profile_id).where(
    ProfileLink.value == bindparam("value"),
    ProfileLink.link_type == bindparam("link_type"),
    ProfileLink.system_name == bindparam("system_name"),
)


ProfileRow = Row[str, datetime, datetime, str | None]


def get_profile(session: Session, profile_id: str) -> ProfileRow | None:
    """(id, created_at, updated_at, merged_into_id) of a profile, live or tombstone."""
    return session.connection().execute(_GET_PROFILE, {"profile_id": profile_id}).one_or_none()


def links_of(session: Session, profile_id: str) -> list[Link]:
    """A profile's links (derived ones included, flagged), ordered by type and value."""
    rows = session.connection().execute(_LINKS_OF, {"profile_id": profile_id})
    return [
        Link(link_type, value, system, bool(derived)) for link_type, value, system, derived in rows
    ]


def find_owner(session: Session, link: Link) -> str | None:
    """The profile owning one link."""
    params = {"value": link.value, "link_type": link.link_type, "system_name": link.system_name}
    owner: str | None = session.connection().execute(_FIND_OWNER, params).scalar_one_or_none()
    return owner


def merges_involving(session: Session, profile_ids: Sequence[str]) -> Sequence[ProfileMerge]:
    """Ledger entries whose survivor is one of `profile_ids`, and undone merges that had
    taken one of them, oldest first."""
    return session.scalars(
        select(ProfileMerge)
        .where(
            or_(
                ProfileMerge.survivor_id.in_(profile_ids),
                ProfileMerge.merged_id.in_(profile_ids) & ProfileMerge.undone_at.is_not(None),
            )
        )
        .order_by(ProfileMerge.created_at, ProfileMerge.id)
    ).all()


def delete_profile(session: Session, profile_id: str) -> None:
    """Remove a live profile (links cascade), its tombstones and its ledger entries."""
    session.connection().execute(
        delete(ProfileMerge).where(
            or_(ProfileMerge.survivor_id == profile_id, ProfileMerge.merged_id == profile_id)
        )
    )
    session.connection().execute(delete(ProfileLink).where(ProfileLink.profile_id == profile_id))
    session.connection().execute(
        delete(Profile).where(or_(Profile.id == profile_id, Profile.merged_into_id == profile_id))
    )


def merged_ids_of(session: Session, profile_id: str) -> list[str]:
    """Tombstones pointing at a profile."""
    return list(session.scalars(select(Profile.id).where(Profile.merged_into_id == profile_id)))


def suppressed_hashes(session: Session, hashes: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (link_type, hash) pairs are on the suppression list."""
    keys = sorted(set(hashes))
    found: set[tuple[str, str]] = set()
    columns = tuple_(Suppression.link_type, Suppression.link_hash)
    for chunk in bulk.chunks(keys):
        rows = session.execute(
            select(Suppression.link_type, Suppression.link_hash).where(columns.in_(chunk))
        )
        found.update((link_type, link_hash) for link_type, link_hash in rows)
    return found


def any_suppressions(session: Session) -> bool:
    """True when the suppression list is not empty (saves a lookup per batch when it is)."""
    return session.scalar(select(Suppression.id).limit(1)) is not None


def add_suppression(session: Session, row: dict[str, Any]) -> bool:
    """Add one entry unless the same link is already suppressed; True when added."""
    exists = session.scalar(
        select(Suppression.id).where(
            Suppression.link_type == row["link_type"], Suppression.link_hash == row["link_hash"]
        )
    )
    if exists:
        return False
    session.execute(insert(Suppression), [row])
    return True


def list_suppressions(session: Session, *, limit: int, after: str | None) -> Sequence[Suppression]:
    """Suppressions, oldest first, after a cursor."""
    query = select(Suppression).order_by(Suppression.id).limit(limit)
    if after:
        query = query.where(Suppression.id > after)
    return session.scalars(query).all()


def delete_suppression(session: Session, suppression_id: str) -> bool:
    """Lift one suppression and the others of its group; True when it existed."""
    group = session.scalar(select(Suppression.group_id).where(Suppression.id == suppression_id))
    condition = Suppression.id == suppression_id
    if group is not None:
        condition = or_(condition, Suppression.group_id == group)
    result = session.connection().execute(delete(Suppression).where(condition))
    return bool(getattr(result, "rowcount", 0))


def move_owned(session: Session, pairs: list[tuple[str, str]]) -> None:
    """Apply a batch of merges to every profile-owned table: move records, drop derived rows."""
    params = [{"_merged": merged, "_survivor": survivor} for merged, survivor in pairs]
    connection = session.connection()
    for owned in OWNED:
        column = owned.table.c[owned.column]
        if owned.on_merge == "move":
            statement: Any = (
                update(owned.table)
                .where(column == bindparam("_merged"))
                .values({owned.column: bindparam("_survivor")})
            )
        else:
            statement = delete(owned.table).where(column == bindparam("_merged"))
        connection.execute(statement, params)


def delete_owned(session: Session, profile_id: str) -> None:
    """Delete a profile's rows from every profile-owned table (anonymise those kept for
    reports)."""
    connection = session.connection()
    for owned in OWNED:
        column = owned.table.c[owned.column]
        if owned.anonymise is None:
            connection.execute(delete(owned.table).where(column == profile_id))
        else:
            values = {**owned.anonymise, owned.column: None}
            connection.execute(update(owned.table).where(column == profile_id).values(values))


LINKS_OF_MANY = (
    select(
        ProfileLink.profile_id,
        ProfileLink.link_type,
        ProfileLink.value,
        ProfileLink.system_name,
        ProfileLink.derived,
        ProfileLink.created_at,
    )
    .where(ProfileLink.profile_id.in_(bindparam("ids", expanding=True)))
    .order_by(ProfileLink.profile_id, ProfileLink.link_type, ProfileLink.value)
)


def links_of_many(session: Session, profile_ids: Sequence[str]) -> dict[str, list[Link]]:
    """The links of several profiles, by profile."""
    found: dict[str, list[Link]] = {}
    for chunk in bulk.chunks(sorted(set(profile_ids))):
        for row in session.connection().execute(LINKS_OF_MANY, {"ids": list(chunk)}):
            link = Link(row.link_type, row.value, row.system_name, bool(row.derived))
            found.setdefault(row.profile_id, []).append(link)
    return found
