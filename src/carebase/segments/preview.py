"""Counting a definition without saving it (the builder's live count)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from carebase.db.plans import plan_for_values
from carebase.segments.compiler import SegmentMembers, count_select, live_profiles
from carebase.segments.definition import definition_json, parse_definition


@dataclass(frozen=True, slots=True)
class Preview:
    """How many live profiles a definition selects now, out of how many, and the definition
    as it would be stored (canonical, with its version)."""

    count: int
    total_profiles: int
    definition: dict[str, Any]


def total_profiles(session: Session) -> int:
    """How many live profiles there are."""
    statement = sa.select(sa.func.count()).select_from(live_profiles().subquery())
    return int(session.execute(statement).scalar_one())


def preview(
    session: Session,
    data: object,
    *,
    now: datetime,
    window_limit_days: int,
    segment_members: SegmentMembers,
) -> Preview:
    """Validate `data` (ValidationFailed naming each problem's path) and count it at `now`."""
    node = parse_definition(data, window_limit_days=window_limit_days)
    plan_for_values(session)
    statement = count_select(node, now=now, segment_members=segment_members)
    count = int(session.execute(statement).scalar_one())
    return Preview(count, total_profiles(session), definition_json(node))
