"""Saved segments: create, edit, delete, refresh on demand, and read their members.

The API and the console call these; they never commit (the request, job or CLI does).
Membership is materialised by `segments.refresh`; a segment's `size` is counted from the
member rows of its current version, so a forgotten (or merged-away) profile is never
counted, whenever it left.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Row, Select
from sqlalchemy.orm import Session

from carebase.db import locks
from carebase.db.session import Database
from carebase.errors import Conflict, NotFound, SourceInUse, ValidationFailed
from carebase.identity import service as identity
from carebase.ids import new_id
from carebase.kit import pagination
from carebase.models import utcnow
from carebase.recordtypes.validation import field_errors
from carebase.segments import definition as definitions
from carebase.segments import members, repository
from carebase.segments import preview as previews
from carebase.segments.refresh import queue_refresh
from carebase.segments.schemas import (
    MemberOut,
    MemberPage,
    PreviewOut,
    ProfileSegmentOut,
    ProfileSegments,
    SegmentIn,
    SegmentOut,
    VersionOut,
    VersionPage,
)
from carebase.settings import get_settings

# Saves take this lock: two edits checked at once could each miss the other's reference
# and close a cycle, or save a reference to a segment being deleted.
_DEFINITIONS_LOCK = "segments:definitions"


def current_members(segment_id: str) -> Select[Any]:
    """The compiler's `SegmentMembers`: SELECT profile_id of a saved segment's current members."""
    return repository.current_members(segment_id)


def _window(window_limit_days: int | None) -> int:
    return get_settings().event_window_days if window_limit_days is None else window_limit_days


def _segment_in(data: SegmentIn | Mapping[str, Any]) -> SegmentIn:
    if isinstance(data, SegmentIn):
        return data
    try:
        return SegmentIn.model_validate(data)
    except ValidationError as invalid:
        raise ValidationFailed(details=field_errors(invalid)) from invalid


def _out(row: Row[Any], size: int | None) -> SegmentOut:
    return SegmentOut(
        id=row.id,
        name=row.name,
        description=row.description,
        definition=row.definition,
        definition_version=row.definition_version,
        revision=row.revision,
        references=list(row.referenced_ids or []),
        status=row.status,
        size=size if row.current_version is not None else None,
        current_version=row.current_version,
        computed_at=row.computed_at,
        last_error=row.last_error,
        last_error_at=row.last_error_at,
        refresh_every_hours=row.refresh_every_hours,
        next_refresh_at=row.next_refresh_at,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
    )


def _row(session: Session, segment_id: str) -> Row[Any]:
    row = repository.get_segment(session, segment_id)
    if row is None:
        raise NotFound(f"No segment with id {segment_id!r}.")
    return row


def list_segments(session: Session) -> list[SegmentOut]:
    """Every segment, by name, with its size now."""
    sizes = repository.sizes(session)
    return [_out(row, sizes.get(row.id, 0)) for row in repository.list_segments(session)]


def get_segment(session: Session, segment_id: str) -> SegmentOut:
    """One segment, or NotFound."""
    row = _row(session, segment_id)
    return _out(row, repository.sizes(session, [segment_id]).get(segment_id, 0))


def _check_name(session: Session, name: str, segment_id: str | None) -> str:
    name = name.strip()
    if not name:
        raise ValidationFailed.on("name", "must not be blank")
    holder = repository.id_of_name(session, name)
    if holder is not None and holder != segment_id:
        raise Conflict(f"A segment called {name!r} exists already ({holder}).")
    return name


def _parse(
    session: Session, raw: dict[str, Any], segment_id: str | None, window_limit_days: int
) -> tuple[dict[str, Any], list[str]]:
    """The canonical definition and the segments it uses; ValidationFailed naming the node
    for a reference to no segment, or one that closes a cycle."""
    node = definitions.parse_definition(raw, window_limit_days=window_limit_days)
    canonical = definitions.definition_json(node)
    used = sorted(definitions.referenced_segments(node))
    if not used:
        return canonical, used
    graph = repository.references(session)
    paths = _reference_paths(canonical, "definition")
    for referenced in used:
        where = paths.get(referenced, "definition")
        if referenced not in graph:
            raise ValidationFailed.on(where, f"no segment has id {referenced!r}")
        if segment_id is None:
            continue  # a new segment: nothing saved refers to it yet
        if referenced == segment_id:
            raise ValidationFailed.on(where, "a segment cannot include itself")
        cycle = _path_to(graph, referenced, segment_id)
        if cycle is not None:
            chain = " → ".join([segment_id, *cycle])
            raise ValidationFailed.on(where, f"makes a cycle of segments: {chain}")
    return canonical, used


def _reference_paths(node: Any, path: str) -> dict[str, str]:
    """{segment id: path of the first `segment` node naming it} in a definition's JSON."""
    found: dict[str, str] = {}
    if isinstance(node, dict):
        if node.get("type") == "segment" and isinstance(node.get("segment_id"), str):
            found.setdefault(node["segment_id"], f"{path}.segment_id")
        for key, value in node.items():
            for segment_id, where in _reference_paths(value, f"{path}.{key}").items():
                found.setdefault(segment_id, where)
    elif isinstance(node, list):
        for position, value in enumerate(node):
            for segment_id, where in _reference_paths(value, f"{path}[{position}]").items():
                found.setdefault(segment_id, where)
    return found


def _path_to(graph: Mapping[str, Sequence[str]], start: str, goal: str) -> list[str] | None:
    """The chain of references from `start` to `goal` (both included), if there is one."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        current, chain = stack.pop()
        if current == goal:
            return chain
        if current in seen:
            continue
        seen.add(current)
        stack.extend((following, [*chain, following]) for following in graph.get(current, ()))
    return None


def create_segment(
    session: Session,
    data: SegmentIn | Mapping[str, Any],
    *,
    now: datetime,
    created_by: str | None,
    window_limit_days: int | None = None,
) -> SegmentOut:
    """Save a segment and queue its first refresh now; 422 naming the field or node for a
    bad definition, 409 when the name is taken."""
    segment = _segment_in(data)
    locks.lock_keys(session, [_DEFINITIONS_LOCK])
    name = _check_name(session, segment.name, None)
    canonical, used = _parse(session, segment.definition, None, _window(window_limit_days))
    segment_id = new_id("seg")
    repository.insert_segment(
        session,
        {
            "id": segment_id,
            "name": name,
            "description": segment.description,
            "definition": canonical,
            "definition_version": definitions.DEFINITION_VERSION,
            "referenced_ids": used,
            "revision": 1,
            "status": "pending",
            "current_version": None,
            "computed_at": None,
            "last_error": None,
            "last_error_at": None,
            "refresh_every_hours": segment.refresh_every_hours,
            "next_refresh_at": now,
            "refresh_requested_at": now,
            "created_at": now,
            "created_by": created_by,
            "updated_at": now,
        },
    )
    queue_refresh(session, segment_id, now=now, run_at=now)
    return get_segment(session, segment_id)


def update_segment(
    session: Session,
    segment_id: str,
    data: SegmentIn | Mapping[str, Any],
    *,
    now: datetime,
    window_limit_days: int | None = None,
) -> SegmentOut:
    """Replace a segment's name, description, definition and schedule. A changed definition
    is refreshed now (the current version stays readable meanwhile); a changed schedule
    moves the next refresh."""
    segment = _segment_in(data)
    locks.lock_keys(session, [_DEFINITIONS_LOCK])
    row = _row(session, segment_id)
    name = _check_name(session, segment.name, segment_id)
    canonical, used = _parse(session, segment.definition, segment_id, _window(window_limit_days))
    values: dict[str, Any] = {
        "name": name,
        "description": segment.description,
        "definition": canonical,
        "definition_version": definitions.DEFINITION_VERSION,
        "referenced_ids": used,
        "revision": row.revision + 1,
        "refresh_every_hours": segment.refresh_every_hours,
        "updated_at": now,
    }
    run_at: datetime | None = None
    if canonical != row.definition:
        values.update(status="pending", refresh_requested_at=now, next_refresh_at=now)
        run_at = now
    elif segment.refresh_every_hours != row.refresh_every_hours:
        base = row.computed_at or now
        run_at = max(base + timedelta(hours=segment.refresh_every_hours), now)
        values["next_refresh_at"] = run_at
    repository.update_segment(session, segment_id, values)
    if run_at is not None:
        queue_refresh(session, segment_id, now=now, run_at=run_at)
    return get_segment(session, segment_id)


def delete_segment(session: Session, segment_id: str) -> None:
    """Delete a segment with its versions and members; 409 while others use it."""
    locks.lock_keys(session, [_DEFINITIONS_LOCK])
    # Locked first: an orchestration saved meanwhile waits (and finds it gone) or is seen.
    repository.lock_segment(session, segment_id)
    _row(session, segment_id)
    senders = repository.orchestrations_using(session, segment_id)
    if senders:
        raise SourceInUse(
            f"Segment {segment_id} is sent by {', '.join(senders)}; change or delete those first.",
            details={"used_by": senders},
        )
    graph = repository.references(session)
    users = sorted(user for user, used in graph.items() if segment_id in used)
    if users:
        raise Conflict(
            f"Segment {segment_id} is used by {', '.join(users)}; change or delete those first.",
            details={"used_by": users},
        )
    repository.delete_segment(session, segment_id)


def request_refresh(session: Session, segment_id: str, *, now: datetime) -> str:
    """Queue a refresh of the segment now (a running one is followed by another once it
    ends); the id of the job that will run it."""
    _row(session, segment_id)
    repository.update_segment(session, segment_id, {"refresh_requested_at": now})
    return queue_refresh(session, segment_id, now=now, run_at=now)


def preview(
    session: Session,
    data: object,
    *,
    now: datetime,
    window_limit_days: int | None = None,
) -> PreviewOut:
    """Count the profiles a definition selects now, without saving it."""
    limit = _window(window_limit_days)
    if isinstance(data, dict):
        _parse(session, data, None, limit)  # references to no segment: a 422 naming them
    counted = previews.preview(
        session, data, now=now, window_limit_days=limit, segment_members=current_members
    )
    return PreviewOut(
        count=counted.count, total_profiles=counted.total_profiles, definition=counted.definition
    )


def list_members(
    session: Session,
    segment_id: str,
    *,
    attributes: Sequence[str] | None,
    cursor: str | None,
    limit: int,
    now: datetime | None = None,
) -> MemberPage:
    """A page of the current version's members (by profile id) with the attributes asked
    for. The cursor keeps to the version of the first page while it is kept; once two
    refreshes have passed, 409 (start again)."""
    row = _row(session, segment_id)
    names = members.attribute_names(attributes)
    version: int | None
    if cursor:
        version, after = pagination.decode(cursor, int, str)
        if not repository.version_exists(session, segment_id, version):
            raise Conflict(
                "The segment was refreshed twice since the first page; start again from it."
            )
    else:
        version, after = row.current_version, None
    if version is None:
        return MemberPage(items=[], next_cursor=None, version=None, computed_at=None)
    pinned = version
    found = repository.member_ids(session, segment_id, pinned, after=after, limit=limit + 1)
    ids, next_cursor = pagination.split(found, limit, lambda last: pagination.encode(pinned, last))
    values = members.attribute_values(session, ids, names, now=now or utcnow())
    return MemberPage(
        items=[MemberOut(profile_id=each, attributes=values[each]) for each in ids],
        next_cursor=next_cursor,
        version=pinned,
        computed_at=row.computed_at if pinned == row.current_version else None,
    )


def members_csv(
    database: Database,
    segment_id: str,
    *,
    attributes: Sequence[str] | None,
    now: datetime | None = None,
) -> Iterator[str]:
    """CSV text chunks: `profile_id` and the attributes asked for, one row per member of the
    current version. Checks the segment and the attributes first (NotFound, 422), then
    streams from one consistent snapshot."""
    names = members.attribute_names(attributes)
    with database.unit_of_work(write=False) as session:
        _row(session, segment_id)
    return members.stream_csv(database, segment_id, names, now=now or utcnow())


def size_history(
    session: Session, segment_id: str, *, cursor: str | None = None, limit: int = 100
) -> VersionPage:
    """The segment's versions, newest first: size, entered and left at each refresh."""
    _row(session, segment_id)
    before = pagination.decode(cursor, int)[0] if cursor else None
    rows = repository.versions_page(session, segment_id, before=before, limit=limit + 1)
    rows, next_cursor = pagination.split(rows, limit, lambda row: pagination.encode(row.version))
    items = [
        VersionOut(
            version=row.version,
            revision=row.revision,
            computed_at=row.computed_at,
            size=row.size,
            entered=row.entered,
            left=row.left,
            duration_ms=row.duration_ms,
        )
        for row in rows
    ]
    return VersionPage(items=items, next_cursor=next_cursor)


def segments_of_profile(session: Session, profile_id: str) -> ProfileSegments:
    """The segments a profile is in now (a merged id answers for its survivor)."""
    live_id = identity.live_profile_id(session, profile_id)
    if live_id is None:
        raise NotFound(f"No profile with id {profile_id!r}.")
    items = [
        ProfileSegmentOut(
            id=row.id,
            name=row.name,
            description=row.description,
            status=row.status,
            current_version=row.current_version,
            computed_at=row.computed_at,
        )
        for row in repository.segments_of_profile(session, live_id)
    ]
    return ProfileSegments(profile_id=live_id, items=items)
