"""The Cases report types: case_summary (cases closed in the window), case_volume (cases
open in each bucket) and case_classifications (cases active in the window)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from carebase.activity import case_repository as repository
from carebase.activity import shapes
from carebase.activity.registry import ReportQuery, report
from carebase.activity.repository import distribution
from carebase.models import Case

SECTION = "Cases"


@report("case_summary", title="Case summary", section=SECTION)
def case_summary(session: Session, query: ReportQuery) -> dict[str, Any]:
    """Cases closed in the window: how many, mean and median first-reply and resolution
    times (seconds), mean agent replies and agents per case, and the 90th percentiles."""
    conditions = repository.closed_in_window(query)
    total, replies, agents = repository.closed_totals(session, conditions)
    first = distribution(session, Case.first_reply_s, Case.first_reply_bin, conditions)
    resolution = distribution(session, Case.resolution_s, Case.resolution_bin, conditions)
    return {
        "total_cases": total,
        "first_reply_time": first.mean,
        "resolution_time": resolution.mean,
        "median_first_reply_time": first.median,
        "median_resolution_time": resolution.median,
        "agent_interactions": replies,
        "agents_involved": agents,
        "p90_first_reply_time": first.p90,
        "p90_resolution_time": resolution.p90,
    }


@report("case_volume", title="Case volume", section=SECTION)
def case_volume(session: Session, query: ReportQuery) -> dict[str, Any]:
    """Cases open at any moment of each bucket (opened before its end, not closed before
    its start)."""
    buckets = query.window.buckets()
    start, end = buckets[0].start, buckets[-1].end
    at_start = repository.open_before(session, query, start)
    opened = shapes.counts_per_bucket(
        query.window, repository.per_slot(session, query, Case.opened_at, start, end)
    )
    closed = shapes.counts_per_bucket(
        query.window, repository.per_slot(session, query, Case.closed_at, start, end)
    )
    return {"open": shapes.points(query.window, open_counts(at_start, opened, closed))}


def open_counts(at_start: int, opened: Sequence[int], closed: Sequence[int]) -> list[int]:
    """Cases open during each bucket, from those open when the first starts and the cases
    opened and closed in each: a case opened and closed inside one bucket counts in it."""
    counts: list[int] = []
    running = at_start
    for came, went in zip(opened, closed, strict=True):
        counts.append(running + came)
        running += came - went
    return counts


@report("case_classifications", title="Case classifications", section=SECTION)
def case_classifications(session: Session, query: ReportQuery) -> list[dict[str, Any]]:
    """Classifications of the cases active in the window (opened by its end, not closed
    before its start): each case once per classification, by volume."""
    return [
        {"classification_id": ident, "classification": name, "volume": volume}
        for ident, name, volume in repository.classification_volumes(session, query)
    ]
