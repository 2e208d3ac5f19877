"""Every SQL statement of merge blocks and undoing merges (the ledger's other half)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from carebase.db import bulk
from carebase.identity.links import Link
from carebase.identity.repository import LINKS_OF_MANY
from carebase.models import MergeBlock, Profile, ProfileLink, ProfileMerge
from carebase.models.base import table


def blocks_among(session: Session, profile_ids: Iterable[str]) -> list[tuple[str, str, str]]:
    """(profile, other, merge id) of every merge block touching one of `profile_ids`."""
    ids = sorted(set(profile_ids))
    found: set[tuple[str, str, str]] = set()
    blocks = table(MergeBlock)
    for chunk in bulk.chunks(ids):
        rows = session.connection().execute(
            select(blocks.c.profile_id, blocks.c.other_id, blocks.c.merge_id).where(
                or_(blocks.c.profile_id.in_(chunk), blocks.c.other_id.in_(chunk))
            )
        )
        found.update((a, b, m) for a, b, m in rows)
    return sorted(found)


def add_block(session: Session, one: str, other: str, merge_id: str, at: datetime) -> None:
    """Keep two profiles apart (one row per pair, lower id first)."""
    low, high = sorted((one, other))
    exists = session.scalar(
        select(MergeBlock.id).where(MergeBlock.profile_id == low, MergeBlock.other_id == high)
    )
    if exists is None:
        session.connection().execute(
            insert(table(MergeBlock)),
            [{"profile_id": low, "other_id": high, "merge_id": merge_id, "created_at": at}],
        )


def move_blocks(session: Session, pairs: list[tuple[str, str]], at: datetime) -> None:
    """Blocks follow a merged profile to its survivor (a pair that became one is dropped)."""
    survivor_of = dict(pairs)
    blocks = table(MergeBlock)
    rows = blocks_among(session, survivor_of)
    if not rows:
        return
    connection = session.connection()
    connection.execute(
        delete(blocks).where(
            or_(blocks.c.profile_id.in_(survivor_of), blocks.c.other_id.in_(survivor_of))
        )
    )
    kept: dict[tuple[str, str], str] = {}
    for one, other, merge_id in rows:
        low, high = sorted((survivor_of.get(one, one), survivor_of.get(other, other)))
        if low != high:
            kept.setdefault((low, high), merge_id)
    for (low, high), merge_id in kept.items():
        exists = session.scalar(
            select(MergeBlock.id).where(MergeBlock.profile_id == low, MergeBlock.other_id == high)
        )
        if exists is None:
            connection.execute(
                insert(blocks),
                [{"profile_id": low, "other_id": high, "merge_id": merge_id, "created_at": at}],
            )


def get_merge(session: Session, merge_id: str) -> ProfileMerge | None:
    """One ledger entry."""
    return session.get(ProfileMerge, merge_id)


def merged_before(session: Session, survivor_ids: set[str], at: datetime) -> list[str]:
    """Ids merged (directly or through others) into `survivor_ids` up to `at`, not undone."""
    found: list[str] = []
    frontier = set(survivor_ids)
    while frontier:
        rows = session.scalars(
            select(ProfileMerge.merged_id).where(
                ProfileMerge.survivor_id.in_(sorted(frontier)),
                ProfileMerge.created_at <= at,
                ProfileMerge.undone_at.is_(None),
            )
        ).all()
        frontier = set(rows) - set(found) - survivor_ids
        found.extend(sorted(frontier))
    return found


def set_merged_into(session: Session, profile_ids: Sequence[str], target: str | None) -> None:
    """Point profiles at a survivor (None: make them live again)."""
    for chunk in bulk.chunks(sorted(set(profile_ids))):
        session.connection().execute(
            update(Profile).where(Profile.id.in_(chunk)).values(merged_into_id=target)
        )


def give_links(session: Session, links: Sequence[Link], profile_id: str) -> None:
    """Move these links to a profile."""
    connection = session.connection()
    for link in links:
        connection.execute(
            update(ProfileLink)
            .where(
                ProfileLink.value == link.value,
                ProfileLink.link_type == link.link_type,
                ProfileLink.system_name == link.system_name,
            )
            .values(profile_id=profile_id)
        )


def mark_undone(session: Session, merge_id: str, at: datetime, by: str | None) -> None:
    """Record an undo in the ledger."""
    session.connection().execute(
        update(ProfileMerge).where(ProfileMerge.id == merge_id).values(undone_at=at, undone_by=by)
    )


def links_with_age(session: Session, profile_id: str) -> list[tuple[Link, datetime]]:
    """A profile's links with when each was added."""
    rows = session.connection().execute(LINKS_OF_MANY, {"ids": [profile_id]})
    return [
        (Link(r.link_type, r.value, r.system_name, bool(r.derived)), r.created_at) for r in rows
    ]
