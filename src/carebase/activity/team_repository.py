"""SQL of the Team reports: per-user figures over the mention cohort, one statement per
figure whatever the number of mentions or agents (each reads the covering activity index
over the window, never the table), and the users' names."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal_column, select
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
    conditions = [*cohort.mention_conditions(query), _scanned(user_column).is_not(None)]
    people = cohort.people_condition(query, user_column)
    if people is not None:
        conditions.append(people)
    return conditions


def _scanned(user_column: Any) -> Any:
    """The user column as `column + 0`, to group and test on: SQLite then scans the
    covering activity index over the window instead of walking a user-id index and reading
    every row from the table (10x slower on a year of mentions)."""
    # Inline, not a bound parameter: PostgreSQL matches the GROUP BY expression to the
    # selected one by its text.
    return user_column + literal_column("0")


def _count_true(column: Any) -> Any:
    """SUM of a boolean column's true rows (NULL and false count 0), portable."""
    return func.sum(case((column.is_(True), 1), else_=0))


def assigned_counts(session: Session, query: ReportQuery) -> dict[int, int]:
    """Mentions of the cohort per current assignee."""
    statement = (
        select(_scanned(Mention.assignee_id), func.count())
        .where(*_per_user(query, Mention.assignee_id))
        .group_by(_scanned(Mention.assignee_id))
    )
    return {int(user or 0): int(n) for user, n in session.execute(statement)}


def responded_counts(session: Session, query: ReportQuery) -> dict[int, Responded]:
    """Per first responder: the mentions of the cohort they first responded to, and how
    many of those were private, broke the SLA, broke the agent's SLA."""
    conditions = [*_per_user(query, Mention.first_responder_id), Mention.response_s.is_not(None)]
    statement = (
        select(
            _scanned(Mention.first_responder_id),
            func.count(),
            _count_true(Mention.responded_in_private),
            _count_true(Mention.broke_sla),
            _count_true(Mention.broke_action_sla),
        )
        .where(*conditions)
        .group_by(_scanned(Mention.first_responder_id))
    )
    return {
        int(user): Responded(int(n), int(private or 0), int(broke or 0), int(broke_action or 0))
        for user, n, private, broke, broke_action in session.execute(statement)
    }


def response_distributions(
    session: Session, query: ReportQuery
) -> tuple[dict[int, Distribution], dict[int, Distribution]]:
    """Per first responder: the distributions of response_s and of action_s over the
    mentions of the cohort they first responded to.

    One statement that reads only the activity index (it holds the cohort's columns, the
    user ids and both durations) and returns each answered mention's two durations; the
    statistics are exact ones over each user's values. (repository.distributions reads the
    quantile bins' values from the table once per user and bin, and a windowed numbering
    sorts the cohort twice per figure: both took far longer for 200 agents over a year.)
    """
    responder = _scanned(Mention.first_responder_id)
    conditions = [*cohort.mention_conditions(query), Mention.response_s.is_not(None)]
    people = cohort.people_condition(query, Mention.first_responder_id)
    if people is not None:
        conditions.append(people)
    statement = select(responder, Mention.response_s, Mention.action_s).where(*conditions)
    responses: dict[int, list[float]] = {}
    actions: dict[int, list[float]] = {}
    for user, response, action in session.execute(statement):
        if user is None:  # a response by no user (an automation): nobody's row
            continue
        responses.setdefault(int(user), []).append(response)
        if action is not None:
            actions.setdefault(int(user), []).append(action)
    return _of(responses), _of(actions)


def _of(per_user: dict[int, list[float]]) -> dict[int, Distribution]:
    """Each user's distribution (the values sorted once first: Distribution.of sorts again
    per quantile, which is linear on sorted values)."""
    found = {}
    for user, values in per_user.items():
        values.sort()
        found[user] = Distribution.of(values)
    return found


def state_counts(session: Session, query: ReportQuery) -> dict[int, dict[str, int]]:
    """Mentions of the cohort per current assignee and current state."""
    statement = (
        select(_scanned(Mention.assignee_id), Mention.state, func.count())
        .where(*_per_user(query, Mention.assignee_id))
        .group_by(_scanned(Mention.assignee_id), Mention.state)
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
