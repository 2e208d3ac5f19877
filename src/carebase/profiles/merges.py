"""Undoing a merge: identity gives the links back and blocks the pair, each stored record
goes to the profile its own links now resolve to, and both profiles' attributes are
rebuilt — in the caller's one transaction."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from carebase.attributes import service as attributes
from carebase.identity import undo
from carebase.identity.links import Link, LinkNormaliser
from carebase.models import ProfileMerge
from carebase.records import ownership_repository as ownership


@dataclass(slots=True)
class Undone:
    """What an undo did."""

    merge: ProfileMerge
    survivor_id: str
    restored_id: str
    links: int
    records: dict[str, int] = field(default_factory=dict)


def undo_merge(
    session: Session,
    profile_id: str,
    merge_id: str,
    *,
    normaliser: LinkNormaliser,
    now: datetime,
    by: str | None,
) -> Undone:
    """Split a merged profile back in two; NotFound or Conflict when it cannot be."""
    target = undo.prepare_undo(session, profile_id, merge_id)
    held = target.restored_links | target.survivor_links | target.later_links
    records = []
    for source, pk, objects in ownership.link_objects(session, target.survivor_id):
        links: set[Link] = set()
        for link_object in objects:
            links.update(normaliser.normalise(link_object).links)
        records.append(undo.RecordLinks(source, pk, frozenset(links & held)))
    decided = undo.split(
        restored=target.restored_links,
        survivor=target.survivor_links,
        later=target.later_links,
        records=records,
    )
    undo.apply_undo(session, target, decided.links, now=now, by=by)
    moved: dict[str, list[int]] = defaultdict(list)
    for record in decided.records:
        moved[record.source].append(record.pk)
    for source, pks in moved.items():
        ownership.reassign(session, source, pks, target.restored_id)
    attributes.rebuild_all(session, {target.survivor_id, target.restored_id}, now)
    session.refresh(target.merge)  # the ledger row was marked by a statement, not the ORM
    return Undone(
        target.merge,
        target.survivor_id,
        target.restored_id,
        len(decided.links),
        {source: len(pks) for source, pks in moved.items()},
    )
