"""A definition → one SQL SELECT of the `profile_id`s in the segment, on both engines.

Every node compiles to a *term*: a set of distinct live profile ids, either the members
(positive) or the profiles to leave out of all live profiles (negative). Negative terms are
what keeps `not`, `ticket_count eq 0` and `count lt 2` right: a profile with no row in an
attribute table, or no matching event, is counted, without scanning every profile for it.

- `and` drives from its most selective-looking positive child (an event condition, then a
  segment, then an attribute) and tests the others per driver row: attributes as a primary
  key probe (`EXISTS`), other sets as `IN (…)`; negative children are `EXCEPT`ed.
- `or` is a `UNION`; `at_least` a `UNION ALL` grouped by profile with `HAVING count(*) >= min`.
- `not` flips a term; De Morgan keeps all-negative `and`/`or` negative.
- An event condition is `SELECT profile_id FROM tickets|events WHERE <window> AND <where>
  GROUP BY profile_id HAVING <count>` (a plain `DISTINCT` for "at least one").
Everything is relative to an explicit `now`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Select
from sqlalchemy.sql.elements import ColumnElement

from carebase.attributes import catalogue as cat
from carebase.attributes.service import family as attribute_family
from carebase.models import Event, Profile, Ticket
from carebase.models.base import table
from carebase.segments import fields as f
from carebase.segments.definition import (
    AttributeCondition,
    EventCondition,
    EventFieldCondition,
    EventFieldGroup,
    EventFieldNot,
    Group,
    Node,
    Not,
    SegmentReference,
    WhereNode,
)
from carebase.segments.predicates import Predicate, Value, compare, not_true, predicate

SegmentMembers = Callable[[str], Select[Any]]
Probe = Callable[[ColumnElement[Any]], Predicate]

PROFILES = table(Profile)
TICKETS = table(Ticket)
EVENTS = table(Event)

# Driver preference inside `and`: the kinds of set usually smallest first.
_RANK_EVENT, _RANK_SEGMENT, _RANK_ATTRIBUTE, _RANK_GROUP = range(4)


@dataclass(frozen=True, slots=True)
class _Term:
    """A compiled node: distinct live profile ids, the members or (negative) the excluded.

    `probe(outer)` tests the node's meaning for one profile id of an enclosing query, when
    that is cheaper than materialising `ids` (a primary-key lookup)."""

    positive: bool
    ids: Select[Any]
    probe: Probe | None = None
    rank: int = _RANK_GROUP


def live_profiles() -> Select[Any]:
    """Every live (not merged-away) profile's id, as `profile_id`."""
    return sa.select(PROFILES.c.id.label("profile_id")).where(PROFILES.c.merged_into_id.is_(None))


def member_select(node: Node, *, now: datetime, segment_members: SegmentMembers) -> Select[Any]:
    """The distinct live `profile_id`s the definition selects at `now`."""
    return _positive(_Compiler(now, segment_members).term(node))


def count_select(node: Node, *, now: datetime, segment_members: SegmentMembers) -> Select[Any]:
    """One row, one column `count`: how many profiles the definition selects at `now`.

    A negative definition counts as all live profiles minus the excluded ones, which spares
    materialising the complement."""
    term = _Compiler(now, segment_members).term(node)
    if term.positive:
        return sa.select(sa.func.count().label("count")).select_from(term.ids.subquery())
    live = sa.select(sa.func.count()).select_from(live_profiles().subquery()).scalar_subquery()
    excluded = sa.select(sa.func.count()).select_from(term.ids.subquery()).scalar_subquery()
    return sa.select((live - excluded).label("count"))


def _wrap(statement: Any) -> Select[Any]:
    """A compound (or any) select as a plain `SELECT profile_id FROM (…)`: SQLite cannot nest
    compound selects directly, and `IN (…)` reads a plain select on both engines."""
    inner = statement.subquery()
    return sa.select(inner.c.profile_id)


def _positive(term: _Term) -> Select[Any]:
    if term.positive:
        return term.ids
    return _wrap(sa.except_(live_profiles(), term.ids))


def _flip(term: _Term) -> _Term:
    probe = term.probe
    flipped = None if probe is None else (lambda outer: sa.not_(probe(outer)))
    return _Term(not term.positive, term.ids, flipped, term.rank)


class _Compiler:
    def __init__(self, now: datetime, segment_members: SegmentMembers) -> None:
        self.now = now
        self.segment_members = segment_members

    def term(self, node: Node) -> _Term:
        if isinstance(node, Group):
            return self._group(node)
        if isinstance(node, Not):
            return _flip(self.term(node.child))
        if isinstance(node, AttributeCondition):
            return self._attribute(node)
        if isinstance(node, EventCondition):
            return self._event(node)
        return self._segment(node)

    # ---- groups ----------------------------------------------------------------------

    def _group(self, node: Group) -> _Term:
        terms = [self.term(child) for child in node.children]
        if node.op == "and" or (node.op == "at_least" and node.min == len(terms)):
            return _all_of(terms)
        if node.op == "or" or node.min == 1:
            return _any_of(terms)
        union = sa.union_all(*(_positive(term) for term in terms)).subquery()
        counted = (
            sa.select(union.c.profile_id)
            .group_by(union.c.profile_id)
            .having(sa.func.count() >= node.min)
        )
        return _Term(True, counted)

    # ---- leaves ----------------------------------------------------------------------

    def _segment(self, node: SegmentReference) -> _Term:
        members = self.segment_members(node.segment_id).subquery()
        member_id = next(iter(members.c))
        ids = (
            sa.select(PROFILES.c.id.label("profile_id"))
            .select_from(members.join(PROFILES, PROFILES.c.id == member_id))
            .where(PROFILES.c.merged_into_id.is_(None))
            .distinct()
        )
        return _Term(True, ids, rank=_RANK_SEGMENT)

    def _attribute(self, node: AttributeCondition) -> _Term:
        field = f.attribute_field(node.field)
        assert field is not None, node.field  # the definition was validated
        if field.ticket_window_days is not None:
            return self._counted(
                TICKETS,
                _window(TICKETS.c.created_at, field.ticket_window_days, self.now),
                lambda count: compare(count, f.INTEGER, node.op, node.value, now=self.now),
                matches_zero=matches_empty(field, node.op, node.value),
            )
        model_table, value = _attribute_value(field)
        test = predicate(value, node.op, node.value, now=self.now)
        key = model_table.c.profile_id
        if matches_empty(field, node.op, node.value):
            # Profiles without a row match: the term is "all but those whose row fails".
            failing = not_true(test)
            ids = sa.select(key.label("profile_id")).where(failing)
            return _Term(
                False,
                ids,
                lambda outer: ~sa.exists(sa.select(sa.literal(1)).where(key == outer, failing)),
                _RANK_ATTRIBUTE,
            )
        ids = sa.select(key.label("profile_id")).where(test)
        return _Term(
            True,
            ids,
            lambda outer: sa.exists(sa.select(sa.literal(1)).where(key == outer, test)),
            _RANK_ATTRIBUTE,
        )

    def _event(self, node: EventCondition) -> _Term:
        event = f.event_type(node.event)
        assert event is not None  # validated
        assert node.window_days is not None  # filled in when parsed
        source = TICKETS if event.name == f.TICKET else EVENTS
        conditions = [_window(source.c[event.time_field], node.window_days, self.now)]
        if source is EVENTS:
            conditions.insert(0, EVENTS.c.record_type == event.name)
        if node.where is not None:
            conditions.append(where_predicate(node.where, event, now=self.now))
        count = node.count
        return self._counted(
            source,
            sa.and_(*conditions),
            lambda total: compare(total, f.INTEGER, count.op, count.value, now=self.now),
            matches_zero=_count_matches(count.op, count.value, 0),
            at_least_one=(count.op, count.value) in (("gte", 1), ("gt", 0)),
        )

    def _counted(
        self,
        source: sa.Table,
        condition: Predicate,
        holds: Callable[[ColumnElement[Any]], Predicate],
        *,
        matches_zero: bool,
        at_least_one: bool = False,
    ) -> _Term:
        """Profiles whose number of `source` rows meeting `condition` `holds`; profiles with
        none match when zero `holds`, as a negative term of those whose count fails."""
        key = source.c.profile_id
        selected = sa.select(key.label("profile_id")).where(condition)
        if at_least_one:
            return _Term(True, selected.distinct(), rank=_RANK_EVENT)
        grouped = selected.group_by(key)
        if matches_zero:
            return _Term(False, grouped.having(not_true(holds(sa.func.count()))))
        return _Term(True, grouped.having(holds(sa.func.count())), rank=_RANK_EVENT)


def _all_of(terms: list[_Term]) -> _Term:
    positives = sorted((term for term in terms if term.positive), key=lambda term: term.rank)
    if not positives:
        # not a and not b = not (a or b)
        return _Term(False, _wrap(sa.union(*(term.ids for term in terms))))
    driver = positives[0]
    inner = driver.ids.subquery()
    outer = inner.c.profile_id
    statement = sa.select(outer)
    excluded = []
    for term in terms:
        if term is driver:
            continue
        if term.probe is not None:
            statement = statement.where(term.probe(outer))
        elif term.positive:
            statement = statement.where(outer.in_(term.ids))
        else:
            excluded.append(term.ids)
    if excluded:
        statement = _wrap(sa.except_(statement, *excluded))
    return _Term(True, statement)


def _any_of(terms: list[_Term]) -> _Term:
    if all(not term.positive for term in terms):
        # not a or not b = not (a and b)
        return _flip(_all_of([replace(term, positive=True, probe=None) for term in terms]))
    return _Term(True, _wrap(sa.union(*(_positive(term) for term in terms))))


def _window(column: ColumnElement[Any], days: int, now: datetime) -> Predicate:
    """The last `days` days up to `now`, both ends included."""
    return sa.and_(column >= now - timedelta(days=days), column <= now)


def where_predicate(node: WhereNode, event: f.EventType, *, now: datetime) -> Predicate:
    """An event-field tree as a condition on one row of the event's table."""
    if isinstance(node, EventFieldGroup):
        # SQLite tests a row's conditions in the order written: cheap column comparisons
        # first, so the costly list searches run on the few rows that pass them (at 5M
        # tickets a `tags` test written first made the count 1.7 times slower).
        children = sorted(node.children, key=lambda child: _cost(child, event))
        parts = [where_predicate(child, event, now=now) for child in children]
        return sa.and_(*parts) if node.op == "and" else sa.or_(*parts)
    if isinstance(node, EventFieldNot):
        return not_true(where_predicate(node.child, event, now=now))
    assert isinstance(node, EventFieldCondition)
    field = event.field(node.field)
    assert field is not None, node.field  # validated
    return predicate(event_value(event, field), node.op, node.value, now=now)


def _cost(node: WhereNode, event: f.EventType) -> int:
    """How costly a condition is to test on one row: a column, a list or JSON path, a tree."""
    if not isinstance(node, EventFieldCondition):
        return 3
    field = event.field(node.field)
    if field is None or field.column is None:
        return 2
    return 1 if field.type == f.STRING_LIST else 0


def event_value(event: f.EventType, field: f.EventField) -> Value:
    """Where an event field's value lives."""
    source = TICKETS if event.name == f.TICKET else EVENTS
    if field.column is not None:
        return Value(source.c[field.column], field.type)
    return Value(EVENTS.c.record, field.type, field.path)


def _attribute_value(field: f.AttributeField) -> tuple[sa.Table, Value]:
    """The table holding an attribute and where its value lives in it."""
    head, dot, key = field.name.partition(".")
    if dot:
        customer = table(attribute_family("customer").model)
        return customer, Value(customer.c[head], field.type, (key,))
    attribute = next(each for each in cat.catalogue() if each.name == field.name)
    model_table = table(attribute_family(attribute.family).model)
    assert attribute.column is not None, field.name  # read-time ones are compiled apart
    column = model_table.c[attribute.column]
    divisor = model_table.c.orders_by_currency if field.name == "average_order_value" else None
    default = attribute.default if attribute.path else None
    return model_table, Value(column, field.type, attribute.path, default, divisor)


def _blank(value: Any) -> bool:
    return value is None or value == [] or value == {}


def matches_empty(field: f.AttributeField, op: str, operand: Any) -> bool:
    """Whether a profile with no data in the attribute's family meets `op operand`."""
    empty = field.empty
    if op == f.IS_SET:
        return not _blank(empty)
    if op == f.IS_NOT_SET:
        return _blank(empty)
    if field.type == f.MONEY:
        # A sum without that currency is 0 in it; an average has no value.
        if field.name == "average_order_value":
            return False
        amount = 0.0
        if op == f.BETWEEN:
            return bool(operand[0]["amount"] <= amount <= operand[1]["amount"])
        return _count_matches(op, operand["amount"], amount)
    if _blank(empty) or not isinstance(empty, int | float):
        return False
    if op == f.IN:
        return empty in operand
    if op == f.BETWEEN:
        return bool(operand[0] <= empty <= operand[1])
    return _count_matches(op, operand, empty)


def _count_matches(op: str, operand: float, value: float) -> bool:
    checks = {
        f.EQ: value == operand,
        f.NE: value != operand,
        f.GT: value > operand,
        f.GTE: value >= operand,
        f.LT: value < operand,
        f.LTE: value <= operand,
    }
    return checks.get(op, False)
