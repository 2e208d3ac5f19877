"""Keeping every family of attributes fresh: one loop over the families after each batch."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.attributes import repository
from carebase.attributes.commerce import CommerceFamily
from carebase.attributes.customer import CustomerFamily
from carebase.attributes.engagement import EngagementFamily
from carebase.attributes.family import Family
from carebase.attributes.support import SupportFamily

SUPPORT = SupportFamily()
COMMERCE = CommerceFamily()
ENGAGEMENT = EngagementFamily()
CUSTOMER = CustomerFamily()
FAMILIES: tuple[Family[Any], ...] = (SUPPORT, COMMERCE, ENGAGEMENT, CUSTOMER)


def family(name: str) -> Family[Any]:
    """The family called `name`."""
    return next(each for each in FAMILIES if each.name == name)


def update(
    session: Session,
    family: Family[Any],
    *,
    rebuild: Iterable[str],
    added: Mapping[str, Sequence[Mapping[str, Any]]],
    new_profiles: set[str],
    now: datetime,
) -> None:
    """Bring one family up to date in this transaction.

    Profiles in `rebuild` are recomputed from all their records; for the others, the records
    in `added` (new to them) are folded into their stored state, unless the family cannot
    fold, or holds no state for the profile: then they are rebuilt too.
    """
    full = set(rebuild)
    states: dict[str, Any] = {}
    incremental = sorted(set(added) - full) if family.incremental else []
    if not family.incremental:
        full.update(added)
    stored = repository.rows_of(
        session, family.model, [p for p in incremental if p not in new_profiles]
    )
    for profile_id in incremental:
        if profile_id in stored:
            states[profile_id] = family.state_from_row(stored[profile_id])
        elif profile_id in new_profiles:
            states[profile_id] = family.empty_state()
        else:
            full.add(profile_id)  # nothing stored to fold into: rebuild it
            continue
        for record in added[profile_id]:
            family.fold(states[profile_id], record)
    if full:
        states.update(family.rebuild(session, full))
    if states:
        repository.replace(
            session,
            family.model,
            {p: family.row(state, now) for p, state in states.items()},
            new_profiles=new_profiles,
        )


def refresh(
    session: Session,
    *,
    record_type: str,
    rebuild: Iterable[str],
    added: Mapping[str, Sequence[Mapping[str, Any]]],
    new_profiles: set[str],
    merged: Mapping[str, str],
    now: datetime,
) -> None:
    """Bring attributes up to date after a batch of `record_type` records was stored.

    `rebuild`: profiles whose records of that type changed or left them; `added`: records new
    to a profile, by profile. `merged` maps each profile merged away to its survivor: a
    survivor gained another profile's records of every type, so every family is rebuilt.
    """
    merged_away = set(merged)
    survivors = set(merged.values()) - merged_away
    skip = merged_away | survivors
    kept = {p: rows for p, rows in added.items() if p not in skip}
    changed = set(rebuild) - skip
    for each in FAMILIES:
        if record_type in each.record_types:
            update(
                session,
                each,
                rebuild=changed | survivors,
                added=kept,
                new_profiles=new_profiles,
                now=now,
            )
        elif survivors:
            update(session, each, rebuild=survivors, added={}, new_profiles=set(), now=now)


def rebuild_all(session: Session, profile_ids: set[str], now: datetime) -> None:
    """Recompute every family of these profiles from all their records."""
    for each in FAMILIES:
        update(session, each, rebuild=profile_ids, added={}, new_profiles=set(), now=now)
