"""Which rows a report reads: one definition per cohort, shared by every report type, the
dashboard and the CSV export (so that the same metric never differs between places).

- **Mentions**: published in the window (the customer's time, so a helpdesk backfill lands on
  the days the messages were written), filtered by users, groups and classifications.
- **People**: a mention belongs to a user when the user is its assignee or its first
  responder; to a group when it is assigned to the group or to one of its members.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select

from carebase.activity.registry import ReportQuery
from carebase.models import GroupMember, Mention, MentionClassification


def group_members(groups: tuple[int, ...]) -> Any:
    """SELECT of the user ids in any of the groups."""
    return select(GroupMember.user_id).where(GroupMember.group_id.in_(groups))


def people_condition(
    query: ReportQuery, *user_columns: Any, group_column: Any = None
) -> ColumnElement[bool] | None:
    """The users/groups filter over the given user-id columns (any of them may match) and an
    optional assigned-group column; None when the query has neither filter."""
    if query.users is None and query.groups is None:
        return None
    alternatives: list[ColumnElement[bool]] = []
    for column in user_columns:
        if query.users:
            alternatives.append(column.in_(query.users))
        if query.groups:
            alternatives.append(column.in_(group_members(query.groups)))
    if query.groups and group_column is not None:
        alternatives.append(group_column.in_(query.groups))
    if not alternatives:  # empty lists: nobody matches
        return and_(False)  # type: ignore[arg-type]
    return or_(*alternatives)


def classification_condition(query: ReportQuery, mention_id: Any) -> ColumnElement[bool] | None:
    """Mentions carrying one of the query's classifications (None: not filtered)."""
    if query.classifications is None:
        return None
    return exists(
        select(MentionClassification.mention_id).where(
            MentionClassification.mention_id == mention_id,
            MentionClassification.classification_id.in_(query.classifications),
        )
    )


def mention_conditions(query: ReportQuery) -> list[ColumnElement[bool]]:
    """WHERE conditions of the mention cohort: published in the window, and the filters."""
    conditions: list[ColumnElement[bool]] = [
        Mention.published_at >= query.window.utc_from,
        Mention.published_at <= query.window.utc_to,
    ]
    people = people_condition(
        query,
        Mention.assignee_id,
        Mention.first_responder_id,
        group_column=Mention.assigned_group_id,
    )
    if people is not None:
        conditions.append(people)
    tagged = classification_condition(query, Mention.id)
    if tagged is not None:
        conditions.append(tagged)
    return conditions
