"""SQL of the Team reports: per-user figures over the mention cohort, each one grouped
statement whatever the number of mentions or agents (the benchmark's year of a million
mentions reads the activity index once per figure), and the users' names."""

from __future__ import annotations

from collections.abc import Collection, Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from carebase.activity import cohort, repository
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
) -> tuple[dict[Hashable, Distribution], dict[Hashable, Distribution]]:
    """Per first responder: the distributions of response_s and of action_s over the
    mentions of the cohort they first responded to."""
    conditions = _per_user(query, Mention.first_responder_id)
    key = Mention.first_responder_id
    response = repository.distributions(
        session, Mention.response_s, Mention.response_bin, conditions, key=key
    )
    action = repository.distributions(
        session, Mention.action_s, Mention.action_bin, conditions, key=key
    )
    return response, action


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
