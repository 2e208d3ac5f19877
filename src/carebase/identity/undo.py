"""Undoing a merge: the merged profile comes back, with the links it brought and the records
those links carry, and the pair is blocked from merging again.

`split` is the pure core. Links are seeded from the ledger: the merged profile's links at the
moment of the merge go back to it; the survivor's links from before the merge stay. A link
added after the merge follows the records that carry it: only ever alongside links going
back, it goes back too; otherwise it stays. A record goes back when every link of it that
the survivor holds goes back; a record that spans both sides (the bridge) stays with the
survivor, which is the profile the blocked pair keeps it on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from carebase.db import locks
from carebase.errors import Conflict, NotFound
from carebase.identity import merges_repository, repository
from carebase.identity.links import Link
from carebase.identity.service import lock_live_profile
from carebase.models import ProfileMerge

RESTORED, SURVIVOR = "restored", "survivor"


@dataclass(frozen=True, slots=True)
class RecordLinks:
    """One stored record on the survivor: where it is (table, primary key) and its links."""

    source: str
    pk: int
    links: frozenset[Link]


@dataclass(frozen=True, slots=True)
class Split:
    """What goes back to the restored profile."""

    links: frozenset[Link]
    records: tuple[RecordLinks, ...]


def split(
    *,
    restored: set[Link],
    survivor: set[Link],
    later: set[Link],
    records: Sequence[RecordLinks],
) -> Split:
    """Decide which links and records go back (see the module's docstring)."""
    held = restored | survivor | later
    seeded = dict.fromkeys(survivor, SURVIVOR) | dict.fromkeys(restored, RESTORED)
    # Which sides each later link has been seen with, directly or through other later links
    # it travelled with; grown to a fixpoint.
    evidence: dict[Link, set[str]] = {link: set() for link in later}
    changed = True
    while changed:
        changed = False
        for record in records:
            laters = [link for link in record.links if link in evidence]
            if not laters:
                continue
            pool = {seeded[link] for link in record.links if link in seeded}
            for link in laters:
                pool |= evidence[link]
            for link in laters:
                if not pool <= evidence[link]:
                    evidence[link] |= pool
                    changed = True
    side = seeded | {
        link: RESTORED if seen == {RESTORED} else SURVIVOR for link, seen in evidence.items()
    }
    back = frozenset(link for link in held if side.get(link) == RESTORED)
    moved = tuple(
        record
        for record in records
        if {side.get(link, SURVIVOR) for link in record.links if link in held} == {RESTORED}
    )
    return Split(back, moved)


@dataclass(frozen=True, slots=True)
class UndoTarget:
    """A merge about to be undone, with both profiles locked."""

    merge: ProfileMerge
    survivor_id: str  # the live profile holding the merged one today
    restored_id: str
    restored_links: set[Link]
    survivor_links: set[Link]
    later_links: set[Link]


def prepare_undo(session: Session, profile_id: str, merge_id: str) -> UndoTarget:
    """Lock and check a merge of this profile's history for undoing; NotFound or Conflict."""
    survivor = lock_live_profile(session, profile_id)
    if survivor is None:
        raise NotFound(f"No profile with id {profile_id!r}.")
    merge = merges_repository.get_merge(session, merge_id)
    history = {survivor, *repository.merged_ids_of(session, survivor)}
    if merge is None or merge.survivor_id not in history:
        raise NotFound(f"No merge {merge_id!r} in the history of profile {profile_id!r}.")
    if merge.undone_at is not None:
        raise Conflict(f"Merge {merge_id} was already undone.", details={"merge_id": merge_id})
    if merge.merged_links is None:
        raise Conflict(
            f"Merge {merge_id} was recorded before carebase kept what undoing needs.",
            details={"merge_id": merge_id, "reason": "not_undoable"},
        )
    restored = repository.get_profile(session, merge.merged_id)
    if restored is None or restored.merged_into_id != survivor:
        raise Conflict(f"Merge {merge_id} can no longer be undone.", details={"merge_id": merge_id})
    locks.lock_profiles(session, [merge.merged_id])
    aged = merges_repository.links_with_age(session, survivor)
    restored_links = {Link.from_record(item) for item in merge.merged_links}
    current = {link for link, _ in aged}
    return UndoTarget(
        merge,
        survivor,
        merge.merged_id,
        restored_links & current,
        {link for link, at in aged if at <= merge.created_at} - restored_links,
        {link for link, at in aged if at > merge.created_at} - restored_links,
    )


def apply_undo(
    session: Session, target: UndoTarget, links: frozenset[Link], *, now: datetime, by: str | None
) -> None:
    """Give the links back, revive the restored profile (and what had merged into it before),
    block the pair and mark the ledger; records and attributes are the caller's."""
    restored, merge = target.restored_id, target.merge
    merges_repository.give_links(session, sorted(links), restored)
    earlier = merges_repository.merged_before(session, {restored}, merge.created_at)
    merges_repository.set_merged_into(session, earlier, restored)
    merges_repository.set_merged_into(session, [restored], None)
    merges_repository.add_block(session, restored, target.survivor_id, merge.id, now)
    merges_repository.mark_undone(session, merge.id, now, by)
    repository.touch_profiles(session, {restored, target.survivor_id}, now)
