"""SQL of the Team reports: per-user figures over the mention cohort, each one grouped
statement whatever the number of mentions or agents (the benchmark's year of a million
mentions reads the activity index once per figure), and the users' names."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from carebase.activity import cohort
from carebase.activity.registry import ReportQuery
from carebase.kit.stats import Distribution
from carebase.models import Mention, User


@dataclass(frozen=True, slots=True)
class Responded:
    """What one user's first responses in the cohort came to."""

    responded: int
    in_private: int
    broke_sla: int
    broke_action_sla: int


def _per_user(query: ReportQuery, user_column: Any) -> list[ColumnElement[bool]]:
    """The cohort's conditions, plus: the user column is set and, when the query names
    users or groups, is one of those people (so that rows are only theirs: a mention of the
    cohort assigned to a filtered agent but answered by someone else counts for neither
    row of the other person)."""
    conditions = [*cohort.mention_conditions(query), user_column.is_not(None)]
    people = cohort.people_condition(query, user_column)
    if people is not None:
        conditions.append(people)
    return conditions


def _count_true(column: Any) -> Any:
    """SUM of a boolean column's true rows (NULL and false count 0), portable."""
    return func.sum(case((column.is_(True), 1), else_=0))


def assigned_counts(session: Session, query: ReportQuery) -> dict[int, int]:
    """Mentions of the cohort per current assignee."""
    statement = (
        select(Mention.assignee_id, func.count())
        .where(*_per_user(query, Mention.assignee_id))
        .group_by(Mention.assignee_id)
    )
    return {int(user or 0): int(n) for user, n in session.execute(statement)}


def responded_counts(session: Session, query: ReportQuery) -> dict[int, Responded]:
    """Per first responder: the mentions of the cohort they first responded to, and how
    many of those were private, broke the SLA, broke the agent's SLA."""
    conditions = [*_per_user(query, Mention.first_responder_id), Mention.response_s.is_not(None)]
    statement = (
        select(
            Mention.first_responder_id,
            func.count(),
            _count_true(Mention.responded_in_private),
            _count_true(Mention.broke_sla),
            _count_true(Mention.broke_action_sla),
        )
        .where(*conditions)
        .group_by(Mention.first_responder_id)
    )
    return {
        int(user): Responded(int(n), int(private or 0), int(broke or 0), int(broke_action or 0))
        for user, n, private, broke, broke_action in session.execute(statement)
    }


def response_distributions(
    session: Session, query: ReportQuery
) -> tuple[dict[int, Distribution], dict[int, Distribution]]:
    """Per first responder: the distributions of response_s and of action_s over the
    mentions of the cohort they first responded to."""
    conditions = _per_user(query, Mention.first_responder_id)
    key = Mention.first_responder_id
    return (
        _distributions(session, Mention.response_s, key, conditions),
        _distributions(session, Mention.action_s, key, conditions),
    )


def _distributions(
    session: Session, value: Any, key: Any, conditions: list[ColumnElement[bool]]
) -> dict[int, Distribution]:
    """Count, mean, min, max, median and p90 of `value` per `key`, in one statement that
    reads only the activity index (it holds the cohort's columns, the user ids and the
    durations): each user's values numbered in order, and only the rows at the ranks the
    quantiles interpolate between come back. (repository.distributions reads the bins'
    values from the table, once per user and bin: 40 s for 200 agents over a year.)"""
    by_key = {"partition_by": key}
    inner = (
        select(
            key.label("user_id"),
            value.label("value"),
            func.row_number().over(partition_by=key, order_by=value).label("rank"),
            func.count().over(**by_key).label("n"),
            func.sum(value).over(**by_key).label("total"),
            func.min(value).over(**by_key).label("low"),
            func.max(value).over(**by_key).label("high"),
        )
        .where(*conditions, value.is_not(None))
        .subquery()
    )
    wanted = []
    for tenths in _QUANTILE_TENTHS:
        # 1-based ranks of the two values quantile q interpolates between (stats.rank).
        below = (inner.c.n - 1) * tenths // 10 + 1
        wanted += [inner.c.rank == below, inner.c.rank == below + 1]
    rows = session.execute(
        select(
            inner.c.user_id,
            inner.c.n,
            inner.c.total,
            inner.c.low,
            inner.c.high,
            inner.c.rank,
            inner.c.value,
        ).where(or_(*wanted))
    )
    ranked: dict[int, dict[int, float]] = {}
    totals: dict[int, tuple[int, float, float, float]] = {}
    for user, n, total, low, high, rank, measured in rows:
        totals[int(user)] = (int(n), float(total), float(low), float(high))
        ranked.setdefault(int(user), {})[int(rank)] = float(measured)
    found: dict[int, Distribution] = {}
    for user, (n, total, low, high) in totals.items():
        median, p90 = (_interpolate(ranked[user], n, tenths) for tenths in _QUANTILE_TENTHS)
        found[user] = Distribution(n, total / n, low, high, median, p90)
    return found


# The median and the 90th percentile, in tenths (integer arithmetic in SQL and here).
_QUANTILE_TENTHS = (5, 9)


def _interpolate(values: dict[int, float], n: int, tenths: int) -> float:
    """Quantile tenths/10 of n values from the values at its 1-based ranks (linear
    interpolation between the two nearest, as kit/stats.py's quantile)."""
    below = (n - 1) * tenths // 10 + 1
    fraction = ((n - 1) * tenths % 10) / 10
    low = values[below]
    if fraction == 0.0:
        return low
    return low + (values[below + 1] - low) * fraction


def state_counts(session: Session, query: ReportQuery) -> dict[int, dict[str, int]]:
    """Mentions of the cohort per current assignee and current state."""
    statement = (
        select(Mention.assignee_id, Mention.state, func.count())
        .where(*_per_user(query, Mention.assignee_id))
        .group_by(Mention.assignee_id, Mention.state)
    )
    found: dict[int, dict[str, int]] = {}
    for user, state, n in session.execute(statement):
        found.setdefault(int(user or 0), {})[str(state)] = int(n)
    return found


def names(session: Session, user_ids: Collection[int]) -> dict[int, tuple[str, str]]:
    """(first name, last name) of each of the users."""
    if not user_ids:
        return {}
    statement = select(User.id, User.first_name, User.last_name).where(
        User.id.in_(sorted(user_ids))
    )
    return {int(user): (first, last) for user, first, last in session.execute(statement)}
