"""The identity domain's face: resolution (in `identity.resolution`), live profiles and their
links, locking a profile, forgetting and the suppression list.

Other domains keep rows per profile (tickets, attributes…): `identity.owned` lists those
tables, so a forget deletes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.db import locks
from carebase.db.session import checkpoint_after_commit
from carebase.errors import NotFound
from carebase.identity import repository
from carebase.identity.links import EMAIL, EMAIL_MD5, EMAIL_SHA256, Link, derived_hashes
from carebase.identity.resolution import (
    RULE_SHARED_LINK,
    RULE_UNIFY,
    Guards,
    Merge,
    Resolution,
    resolve,
)
from carebase.ids import new_id

__all__ = [
    "RULE_SHARED_LINK",
    "RULE_UNIFY",
    "Guards",
    "Merge",
    "Resolution",
    "forget_profile",
    "live_profile_id",
    "lock_live_profile",
    "owner_of",
    "owners_of",
    "resolve",
    "suppress_links",
    "suppressed_links",
]
from carebase.models import ProfileMerge, Suppression

_EMAIL_FORMS = frozenset({EMAIL, EMAIL_SHA256, EMAIL_MD5})


def live_profile_id(session: Session, profile_id: str) -> str | None:
    """The live profile an id names: itself, or the survivor it was merged into."""
    profile = repository.get_profile(session, profile_id)
    if profile is None:
        return None
    if profile.merged_into_id is None:
        return str(profile.id)
    survivor = repository.get_profile(session, profile.merged_into_id)
    if survivor is None or survivor.merged_into_id is not None:
        return None
    return str(survivor.id)


def get_live_profile(session: Session, profile_id: str) -> Any:
    """(id, created_at, updated_at, merged_into_id) of a live profile (id already resolved)."""
    profile = repository.get_profile(session, profile_id)
    assert profile is not None
    assert profile.merged_into_id is None
    return profile


def profile_links(session: Session, profile_id: str) -> list[Link]:
    """A live profile's links as given (the hashes carebase derived are left out)."""
    return [link for link in repository.links_of(session, profile_id) if not link.derived]


def owners_of(session: Session, links: set[Link]) -> dict[Link, str]:
    """The live profile owning each of `links` that is owned."""
    return repository.link_owners(session, links)


def owner_of(session: Session, link: Link) -> str | None:
    """The live profile owning `link`."""
    return repository.find_owner(session, link)


def merge_history(session: Session, profile_id: str) -> Sequence[ProfileMerge]:
    """Every merge that built this profile, oldest first, including merges into merged ones."""
    ids = [profile_id, *repository.merged_ids_of(session, profile_id)]
    return repository.merges_involving(session, ids)


def lock_live_profile(session: Session, profile_id: str) -> str | None:
    """Lock the live profile an id names and its links (links first, as ingestion takes
    them), following merges that land while waiting; its id, or None when it is gone."""
    live = live_profile_id(session, profile_id)
    while live is not None:
        locks.lock_keys(session, (link.lock_key() for link in repository.links_of(session, live)))
        if locks.holds(session, locks.profile_key(live)):
            return live
        locks.lock_profiles(session, [live])
        live = live_profile_id(session, live)
    return None


def forget_profile(session: Session, profile_id: str, *, now: datetime, reason: str) -> int:
    """Delete a live profile everywhere and suppress its links; the number of links suppressed.
    The caller holds the profile's lock and its links' (`lock_live_profile`)."""
    links = repository.links_of(session, profile_id)
    repository.delete_owned(session, profile_id)
    suppressed = suppress_links(session, links, now=now, reason=reason)
    repository.delete_profile(session, profile_id)
    # Whoever commits (request, job, CLI) then flushes the deleted values out of the WAL.
    checkpoint_after_commit(session)
    return suppressed


def suppress_links(session: Session, links: Sequence[Link], *, now: datetime, reason: str) -> int:
    """Put links on the suppression list (hashed); how many were not on it already."""
    # An email and the hashes derived from it are suppressed, and lifted, together.
    groups: dict[str, str] = {}
    for link in links:
        if link.link_type == EMAIL:
            group = new_id("sgr")
            groups[link.value] = group
            groups.update({derived.value: group for derived in derived_hashes(link.value)})
    suppressed = 0
    for link in links:
        added = repository.add_suppression(
            session,
            {
                "id": new_id("sup"),
                "link_type": link.link_type,
                "link_hash": link.suppression_hash(),
                "group_id": groups.get(link.value) if link.link_type in _EMAIL_FORMS else None,
                "reason": reason,
                "created_at": now,
            },
        )
        suppressed += int(added)
    return suppressed


def suppressed_links(session: Session, links: Sequence[Link]) -> set[Link]:
    """Which of `links` are on the suppression list."""
    if not links or not repository.any_suppressions(session):
        return set()
    hashes = {(link.link_type, link.suppression_hash()): link for link in links}
    found = repository.suppressed_hashes(session, hashes)
    return {hashes[key] for key in found}


def suppression_page(
    session: Session, *, limit: int, after: str | None
) -> tuple[Sequence[Suppression], str | None]:
    """A page of suppressions, oldest first, and the cursor of the next."""
    rows = repository.list_suppressions(session, limit=limit + 1, after=after)
    cursor = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], cursor


def lift_suppression(session: Session, suppression_id: str) -> None:
    """Delete a suppression, or NotFound."""
    if not repository.delete_suppression(session, suppression_id):
        raise NotFound(f"No suppression with id {suppression_id!r}.")
