"""Every SQL statement of the NPS reports: the form, invitations sent and answers received
(counted per score, and per 15-minute slot), filtered by the agent the survey is about or
that agent's groups at sending time."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, cast, column, exists, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from carebase.activity.cohort import group_members
from carebase.activity.registry import ReportQuery
from carebase.activity.timebuckets import slot_of
from carebase.models import Form, FormInvitation, FormResponse


def get_form(session: Session, form_id: int) -> Form | None:
    """The form, if it exists."""
    return session.get(Form, form_id)


def _any_group(group_ids: Any, groups: tuple[int, ...], dialect: str) -> ColumnElement[bool]:
    # group_ids is a JSON array of integers: JSONB containment on PostgreSQL, json_each
    # on SQLite.
    if dialect == "postgresql":
        return or_(*(group_ids.op("@>")(cast(literal(json.dumps([g])), JSONB)) for g in groups))
    elements = func.json_each(group_ids).table_valued("value")
    return exists(select(literal(1)).select_from(elements).where(column("value").in_(groups)))


def people_filter(query: ReportQuery, agent_id: Any, group_ids: Any) -> ColumnElement[bool] | None:
    """users → the agent is one of them; groups → the agent is a member of one, or one of
    the agent's groups then is among them (None: not filtered)."""
    if query.users is None and query.groups is None:
        return None
    alternatives: list[ColumnElement[bool]] = []
    if query.users:
        alternatives.append(agent_id.in_(query.users))
    if query.groups:
        alternatives.append(agent_id.in_(group_members(query.groups)))
        alternatives.append(_any_group(group_ids, query.groups, query.dialect))
    if not alternatives:  # empty lists: nobody matches
        return and_(False)  # type: ignore[arg-type]
    return or_(*alternatives)


def _sent_conditions(query: ReportQuery, start: datetime, end: datetime) -> list[Any]:
    conditions: list[Any] = [
        FormInvitation.form_id == query.form,
        FormInvitation.sent_at >= start,
        FormInvitation.sent_at <= end,
    ]
    people = people_filter(query, FormInvitation.agent_id, FormInvitation.group_ids)
    return conditions if people is None else [*conditions, people]


def _answer_conditions(query: ReportQuery, start: datetime, end: datetime) -> list[Any]:
    conditions: list[Any] = [
        FormResponse.form_id == query.form,
        FormResponse.answered_at >= start,
        FormResponse.answered_at <= end,
        FormResponse.score.is_not(None),
    ]
    people = people_filter(query, FormResponse.agent_id, FormResponse.group_ids)
    return conditions if people is None else [*conditions, people]


def sent_count(session: Session, query: ReportQuery) -> int:
    """Invitations to the form sent in the window."""
    window = query.window
    statement = select(func.count()).where(*_sent_conditions(query, window.utc_from, window.utc_to))
    return int(session.execute(statement).scalar_one())


def score_counts(session: Session, query: ReportQuery) -> dict[int, int]:
    """Answers to the form in the window, per score."""
    window = query.window
    statement = (
        select(FormResponse.score, func.count())
        .where(*_answer_conditions(query, window.utc_from, window.utc_to))
        .group_by(FormResponse.score)
    )
    return {int(score or 0): int(n) for score, n in session.execute(statement)}


def sent_per_slot(
    session: Session, query: ReportQuery, start: datetime, end: datetime
) -> list[tuple[Any, int]]:
    """(15-minute UTC slot, invitations sent) within [start, end]."""
    slot = slot_of(FormInvitation.sent_at, query.dialect)
    statement = select(slot, func.count()).where(*_sent_conditions(query, start, end))
    return [(found, int(n)) for found, n in session.execute(statement.group_by(slot))]


def scores_per_slot(
    session: Session, query: ReportQuery, start: datetime, end: datetime
) -> list[tuple[Any, int, int]]:
    """(15-minute UTC slot, score, answers) within [start, end]."""
    slot = slot_of(FormResponse.answered_at, query.dialect)
    statement = (
        select(slot, FormResponse.score, func.count())
        .where(*_answer_conditions(query, start, end))
        .group_by(slot, FormResponse.score)
    )
    return [(found, int(score), int(n)) for found, score, n in session.execute(statement)]
