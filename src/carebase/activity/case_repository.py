"""Every SQL statement of the Cases reports: the case filters, the closed cases' counts and
means, open-case counts as a start count plus openings and closings per 15-minute slot, and
the classifications of the cases active in a window."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from carebase.activity.cohort import classification_condition, people_condition
from carebase.activity.registry import ReportQuery
from carebase.activity.timebuckets import slot_of
from carebase.models import Case, Classification, Mention, MentionClassification, Response


def case_filters(query: ReportQuery) -> list[ColumnElement[bool]]:
    """The users/groups filter (a sent public response in the case by one of the people)
    and the classifications filter (a mention of the case carrying one)."""
    conditions: list[ColumnElement[bool]] = []
    people = people_condition(query, Response.author_id)
    if people is not None:
        conditions.append(
            exists(
                select(Response.id).where(
                    Response.case_id == Case.id,
                    Response.private.is_(False),
                    Response.status == "sent",
                    people,
                )
            )
        )
    # Its own alias: a report that joins mentions itself (case_classifications) would
    # otherwise correlate this subquery's FROM away.
    member = aliased(Mention)
    tagged = classification_condition(query, member.id)
    if tagged is not None:
        conditions.append(
            exists(select(member.id).where(member.case_id == Case.id, tagged).correlate(Case))
        )
    return conditions


def closed_in_window(query: ReportQuery) -> list[ColumnElement[bool]]:
    """Cases closed in the window (inclusive), with the filters."""
    return [
        Case.status == "closed",
        Case.closed_at >= query.window.utc_from,
        Case.closed_at <= query.window.utc_to,
        *case_filters(query),
    ]


def closed_totals(
    session: Session, conditions: Sequence[ColumnElement[bool]]
) -> tuple[int, float | None, float | None]:
    """(cases, mean agent replies, mean agents involved) over the cases meeting `conditions`."""
    row = session.execute(
        select(func.count(), func.avg(Case.agent_replies), func.avg(Case.agents_involved)).where(
            *conditions
        )
    ).one()
    count, replies, agents = row
    return (
        int(count),
        None if replies is None else float(replies),
        None if agents is None else float(agents),
    )


def open_before(session: Session, query: ReportQuery, at: datetime) -> int:
    """Cases opened before `at` and not closed before it."""
    open_then = or_(Case.closed_at.is_(None), Case.closed_at >= at)
    statement = select(func.count()).where(Case.opened_at < at, open_then, *case_filters(query))
    return int(session.execute(statement).scalar_one())


def per_slot(
    session: Session, query: ReportQuery, column: Any, start: datetime, end: datetime
) -> list[tuple[Any, int]]:
    """(15-minute UTC slot, cases) of a case timestamp column within [start, end)."""
    slot = slot_of(column, query.dialect)
    statement = (
        select(slot, func.count())
        .where(column >= start, column < end, *case_filters(query))
        .group_by(slot)
    )
    return [(found, int(n)) for found, n in session.execute(statement)]


def classification_volumes(session: Session, query: ReportQuery) -> list[tuple[int, str, int]]:
    """(classification id, name, cases) over the cases active in the window, each case
    counted once per classification; by cases desc, then id."""
    active = and_(
        Case.opened_at <= query.window.utc_to,
        or_(Case.closed_at.is_(None), Case.closed_at >= query.window.utc_from),
    )
    volume = func.count(func.distinct(Case.id))
    statement = (
        select(Classification.id, Classification.name, volume)
        .select_from(Case)
        .join(Mention, Mention.case_id == Case.id)
        .join(MentionClassification, MentionClassification.mention_id == Mention.id)
        .join(Classification, Classification.id == MentionClassification.classification_id)
        .where(active, *case_filters(query))
        .group_by(Classification.id, Classification.name)
        .order_by(volume.desc(), Classification.id)
    )
    return [(int(i), str(name), int(n)) for i, name, n in session.execute(statement)]
