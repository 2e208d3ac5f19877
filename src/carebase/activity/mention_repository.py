"""SQL of the Summary reports (summary, states_volume, states, classifications) and of
response_volume: every statement reads the mention cohort (`cohort.mention_conditions`, a
`published_at` range the covering index `ix_mentions_activity` serves) and aggregates in the
database; no statement returns one row per mention."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from carebase.activity import cohort
from carebase.activity.registry import ReportQuery
from carebase.activity.timebuckets import slot_of
from carebase.models import Classification, Mention, MentionClassification


@dataclass(frozen=True, slots=True)
class Totals:
    """Counts over the mention cohort."""

    volume: int
    responded: int
    broke_sla: int
    broke_action_sla: int


def _count_true(column: Any) -> Any:
    return func.coalesce(func.sum(case((column.is_(True), 1), else_=0)), 0)


def totals(session: Session, query: ReportQuery) -> Totals:
    """|M|, how many were responded to, and how many broke each SLA (one statement)."""
    statement = select(
        func.count(),
        func.count(Mention.response_s),
        _count_true(Mention.broke_sla),
        _count_true(Mention.broke_action_sla),
    ).where(*cohort.mention_conditions(query))
    volume, responded, broke, broke_action = session.execute(statement).one()
    return Totals(int(volume), int(responded), int(broke), int(broke_action))


def state_counts_per_slot(session: Session, query: ReportQuery) -> list[tuple[Any, str, int]]:
    """(15-minute UTC slot, current state, mentions) over the cohort."""
    slot = slot_of(Mention.published_at, query.dialect).label("slot")
    statement = (
        select(slot, Mention.state, func.count())
        .where(*cohort.mention_conditions(query))
        .group_by(slot, Mention.state)
    )
    return [(row[0], str(row[1]), int(row[2])) for row in session.execute(statement)]


def state_counts(session: Session, query: ReportQuery) -> dict[str, int]:
    """Mentions of the cohort per current state."""
    statement = (
        select(Mention.state, func.count())
        .where(*cohort.mention_conditions(query))
        .group_by(Mention.state)
    )
    return {str(state): int(n) for state, n in session.execute(statement)}


def classification_state_counts(
    session: Session, query: ReportQuery
) -> list[tuple[int, str, str, int]]:
    """(classification id, name, current state, mentions) for every classification carried
    by mentions of the cohort."""
    # An alias: the classifications filter's EXISTS reads mention_classifications too and
    # must not correlate with this join.
    tags = aliased(MentionClassification)
    counted = (
        select(
            tags.classification_id.label("classification_id"),
            Mention.state.label("state"),
            func.count().label("volume"),
        )
        .join(Mention, Mention.id == tags.mention_id)
        .where(*cohort.mention_conditions(query))
        .group_by(tags.classification_id, Mention.state)
        .subquery()
    )
    statement = select(
        counted.c.classification_id, Classification.name, counted.c.state, counted.c.volume
    ).join(Classification, Classification.id == counted.c.classification_id)
    return [
        (int(row[0]), str(row[1]), str(row[2]), int(row[3])) for row in session.execute(statement)
    ]


def response_sums_per_slot(session: Session, query: ReportQuery) -> list[tuple[Any, int, float]]:
    """(15-minute UTC slot, responded mentions, sum of their response_s) over the cohort."""
    slot = slot_of(Mention.published_at, query.dialect).label("slot")
    statement = (
        select(slot, func.count(Mention.response_s), func.sum(Mention.response_s))
        .where(*cohort.mention_conditions(query), Mention.response_s.is_not(None))
        .group_by(slot)
    )
    return [(row[0], int(row[1]), float(row[2])) for row in session.execute(statement)]
