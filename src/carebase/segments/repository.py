"""Every SQL statement of saved segments: definitions, versions and membership."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Row,
    Select,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from carebase.db import locks
from carebase.models import Orchestration, Segment, SegmentMember, SegmentVersion
from carebase.models.base import table

SEGMENTS = table(Segment)
VERSIONS = table(SegmentVersion)
MEMBERS = table(SegmentMember)


def insert_segment(session: Session, row: dict[str, Any]) -> None:
    """Add a segment."""
    session.execute(insert(SEGMENTS), [row])


def get_segment(session: Session, segment_id: str) -> Row[Any] | None:
    """One segment's row."""
    return session.execute(select(SEGMENTS).where(SEGMENTS.c.id == segment_id)).first()


def lock_segment(session: Session, segment_id: str, *, shared: bool = False) -> bool:
    """Lock a segment's row until the transaction ends (shared: it may not be deleted
    meanwhile; exclusive: no orchestration may start using it meanwhile); whether it exists.
    PostgreSQL only: SQLite's single writer already serialises the two."""
    statement = select(SEGMENTS.c.id).where(SEGMENTS.c.id == segment_id)
    return session.execute(statement.with_for_update(read=shared)).first() is not None


def orchestrations_using(session: Session, segment_id: str) -> list[str]:
    """The ids of the orchestrations whose source is this segment."""
    statement = select(Orchestration.id).where(
        Orchestration.source_type == "segment", Orchestration.source_id == segment_id
    )
    return sorted(str(found) for found in session.execute(statement).scalars())


def id_of_name(session: Session, name: str) -> str | None:
    """The id of the segment called `name`, if any."""
    found = session.execute(select(SEGMENTS.c.id).where(SEGMENTS.c.name == name)).scalar()
    return None if found is None else str(found)


def list_segments(session: Session) -> list[Row[Any]]:
    """Every segment, by name."""
    return list(session.execute(select(SEGMENTS).order_by(SEGMENTS.c.name, SEGMENTS.c.id)).all())


def references(session: Session) -> dict[str, list[str]]:
    """{segment id: ids of the segments its definition refers to} for every segment."""
    rows = session.execute(select(SEGMENTS.c.id, SEGMENTS.c.referenced_ids)).all()
    return {str(row.id): list(row.referenced_ids or []) for row in rows}


def update_segment(session: Session, segment_id: str, values: dict[str, Any]) -> bool:
    """Change a segment's columns; whether it exists."""
    result = session.execute(update(SEGMENTS).where(SEGMENTS.c.id == segment_id).values(values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def delete_segment(session: Session, segment_id: str) -> bool:
    """Delete a segment with its versions and members; whether it existed."""
    # The segment's row first: it waits for a refresh switching a version on it to commit,
    # so the statements after it see (and delete) that version's rows too.
    result = session.execute(delete(SEGMENTS).where(SEGMENTS.c.id == segment_id))
    session.execute(delete(VERSIONS).where(VERSIONS.c.segment_id == segment_id))
    session.execute(delete(MEMBERS).where(MEMBERS.c.segment_id == segment_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


# -- membership ---------------------------------------------------------------------------


def current_members(segment_id: str) -> Select[Any]:
    """SELECT profile_id of the members of a segment's current version (none before its
    first refresh). Aliased, so that it nests in any statement, this table's own included."""
    members, segments = MEMBERS.alias(), SEGMENTS.alias()
    return (
        select(members.c.profile_id)
        .join(
            segments,
            and_(
                segments.c.id == members.c.segment_id,
                segments.c.current_version == members.c.version,
            ),
        )
        .where(members.c.segment_id == segment_id)
    )


def sizes(session: Session, segment_ids: Iterable[str] | None = None) -> dict[str, int]:
    """{segment id: members of its current version}, counted from the rows (so a forgotten
    or merged-away profile is never counted); segments with no version are left out."""
    query = (
        select(MEMBERS.c.segment_id, func.count())
        .join(
            SEGMENTS,
            and_(
                SEGMENTS.c.id == MEMBERS.c.segment_id,
                SEGMENTS.c.current_version == MEMBERS.c.version,
            ),
        )
        .group_by(MEMBERS.c.segment_id)
    )
    if segment_ids is not None:
        query = query.where(MEMBERS.c.segment_id.in_(list(segment_ids)))
    return {str(segment_id): int(count) for segment_id, count in session.execute(query).all()}


def version_exists(session: Session, segment_id: str, version: int) -> bool:
    """Whether a version's member rows are still kept (the current or the previous one)."""
    query = select(
        exists().where(
            SEGMENTS.c.id == segment_id,
            SEGMENTS.c.current_version.is_not(None),
            SEGMENTS.c.current_version - 1 <= version,
            version <= SEGMENTS.c.current_version,
        )
    )
    return bool(session.execute(query).scalar())


def member_ids(
    session: Session, segment_id: str, version: int, *, after: str | None, limit: int
) -> list[str]:
    """Up to `limit` profile ids of one version, in id order, after `after`."""
    query = (
        select(MEMBERS.c.profile_id)
        .where(MEMBERS.c.segment_id == segment_id, MEMBERS.c.version == version)
        .order_by(MEMBERS.c.profile_id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(MEMBERS.c.profile_id > after)
    return [str(profile_id) for profile_id in session.execute(query).scalars()]


def segments_of_profile(session: Session, profile_id: str) -> list[Row[Any]]:
    """The segments whose current version holds the profile, by name."""
    query = (
        select(SEGMENTS)
        .join(
            MEMBERS,
            and_(
                MEMBERS.c.segment_id == SEGMENTS.c.id,
                MEMBERS.c.version == SEGMENTS.c.current_version,
            ),
        )
        .where(MEMBERS.c.profile_id == profile_id)
        .order_by(SEGMENTS.c.name, SEGMENTS.c.id)
    )
    return list(session.execute(query).all())


def versions_page(
    session: Session, segment_id: str, *, before: int | None, limit: int
) -> list[Row[Any]]:
    """A segment's versions, newest first, before version `before`."""
    query = (
        select(VERSIONS)
        .where(VERSIONS.c.segment_id == segment_id)
        .order_by(VERSIONS.c.version.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(VERSIONS.c.version < before)
    return list(session.execute(query).all())


# -- refreshing ---------------------------------------------------------------------------


def lock_refresh(session: Session, segment_id: str) -> None:
    """Hold the segment's refresh lock until this transaction ends: two refreshes of one
    segment (a lapsed lease's worker and its successor) compute one version after the other.
    A lock row of its own, not the segment's row, so edits and requests never wait on it."""
    locks.lock_keys(session, [f"segment-refresh:{segment_id}"])


def insert_version_members(
    session: Session, segment_id: str, version: int, members: Select[Any]
) -> int:
    """INSERT … SELECT the profile ids `members` selects as a version; how many."""
    chosen = members.subquery("chosen")
    source = select(literal(segment_id), literal(version), chosen.c.profile_id)
    result = session.execute(
        insert(MEMBERS).from_select(["segment_id", "version", "profile_id"], source)
    )
    count = result.rowcount  # type: ignore[attr-defined]
    if count is None or count < 0:  # a driver that does not report it
        count = count_version(session, segment_id, version)
    return int(count)


def count_version(session: Session, segment_id: str, version: int) -> int:
    """Members of one version."""
    query = select(func.count()).where(
        MEMBERS.c.segment_id == segment_id, MEMBERS.c.version == version
    )
    return int(session.execute(query).scalar_one())


def entered_and_left(
    session: Session, segment_id: str, version: int, previous: int
) -> tuple[int, int]:
    """(members of `version` that `previous` lacks, members of `previous` that `version`
    lacks), in one grouped pass over both versions' rows. Not an anti-join: right after a
    refresh inserts them the planner has no statistics for these rows, and PostgreSQL then
    picks a nested loop that compares every member with every other one."""
    versions = (
        select(
            MEMBERS.c.profile_id,
            func.min(MEMBERS.c.version).label("first"),
            func.max(MEMBERS.c.version).label("last"),
        )
        .where(MEMBERS.c.segment_id == segment_id, MEMBERS.c.version.in_([previous, version]))
        .group_by(MEMBERS.c.profile_id)
        .subquery()
    )
    query = select(
        func.coalesce(func.sum(case((versions.c.first == version, 1), else_=0)), 0),
        func.coalesce(func.sum(case((versions.c.last == previous, 1), else_=0)), 0),
    )
    entered, left = session.execute(query).one()
    return int(entered), int(left)


def insert_version(session: Session, row: dict[str, Any]) -> None:
    """Record one refresh's figures."""
    session.execute(insert(VERSIONS), [row])


def switch_version(
    session: Session, segment_id: str, values: dict[str, Any]
) -> tuple[bool, datetime | None]:
    """Make a computed version current (with `values`): whether the segment still exists,
    and its refresh_requested_at after the switch."""
    found = session.execute(
        update(SEGMENTS)
        .where(SEGMENTS.c.id == segment_id)
        .values(values)
        .returning(SEGMENTS.c.refresh_requested_at)
    ).first()
    if found is None:
        return False, None
    return True, found.refresh_requested_at


def prune_members(session: Session, segment_id: str, keep_from: int) -> None:
    """Delete the member rows of versions older than `keep_from`."""
    session.execute(
        delete(MEMBERS).where(MEMBERS.c.segment_id == segment_id, MEMBERS.c.version < keep_from)
    )
