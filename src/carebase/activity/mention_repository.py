"""SQL of the Summary reports (summary, states_volume, states, classifications) and of
response_volume: every statement reads the mention cohort (`cohort.mention_conditions`, a
`published_at` range the covering index `ix_mentions_activity` serves) and aggregates in the
database; no statement returns one row per mention."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, String, and_, case, cast, func, literal_column, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from carebase.activity import cohort
from carebase.activity.registry import ReportQuery
from carebase.activity.repository import distribution
from carebase.activity.timebuckets import slot_of
from carebase.kit import stats
from carebase.kit.stats import Distribution
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


def grouping_slot(query: ReportQuery) -> Any:
    """The coarsest UTC slot the window's buckets can be folded from: whole UTC hours when
    every bucket starts on one (the usual case: zones a whole number of hours from UTC),
    else 15-minute slots (`slot_of`). Fewer groups: fewer rows to sort and to fold.
    SQLite gives text `YYYY-MM-DD HH` for hours (read by `slot_instant`)."""
    if any(bucket.start.minute for bucket in query.window.buckets()):
        return slot_of(Mention.published_at, query.dialect)
    if query.dialect == "sqlite":
        return func.substr(Mention.published_at, 1, 13)
    return func.date_bin(
        literal_column("interval '1 hour'"),
        Mention.published_at,
        literal_column("timestamptz '2000-01-01 00:00:00+00'"),
    )


def state_counts_per_slot(session: Session, query: ReportQuery) -> list[tuple[Any, str, int]]:
    """(15-minute UTC slot, current state, mentions) over the cohort."""
    slot = grouping_slot(query).label("slot")
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
        .where(*_from_classifications(query))
        .group_by(tags.classification_id, Mention.state)
        .subquery()
    )
    statement = select(
        counted.c.classification_id, Classification.name, counted.c.state, counted.c.volume
    ).join(Classification, Classification.id == counted.c.classification_id)
    return [
        (int(row[0]), str(row[1]), str(row[2]), int(row[3])) for row in session.execute(statement)
    ]


def _from_classifications(query: ReportQuery) -> list[Any]:
    """The cohort's conditions for a join that should start from mention_classifications.
    SQLite would otherwise start from the published_at range and read every mention's
    table row for its id (a secondary index holds no `id`); its unary `+` keeps the range
    off the index (the same comparison) so the join reads the classified mentions only."""
    if query.dialect != "sqlite":
        return cohort.mention_conditions(query)
    kept = UnaryExpression(
        Mention.__table__.c.published_at,
        operator=operators.custom_op("+"),
        type_=Mention.published_at.type,
    )
    window = query.window
    filters = cohort.mention_conditions(query)[2:]
    return [kept >= window.utc_from, kept <= window.utc_to, *filters]


def response_sums_per_slot(session: Session, query: ReportQuery) -> list[tuple[Any, int, float]]:
    """(15-minute UTC slot, responded mentions, sum of their response_s) over the cohort."""
    slot = grouping_slot(query).label("slot")
    statement = (
        select(slot, func.count(Mention.response_s), func.sum(Mention.response_s))
        .where(*cohort.mention_conditions(query), Mention.response_s.is_not(None))
        .group_by(slot)
    )
    return [(row[0], int(row[1]), float(row[2])) for row in session.execute(statement)]


def scan_bin(value: Any, dialect: str) -> Any:
    """A bin of a duration computed from the value itself, for `distributions` over the
    whole cohort: the stored bins (response_bin, action_bin) are not in the covering index,
    so grouping by them reads every row of the table, while this reads the index only.
    `distributions` needs bins that never decrease as the value grows, nothing more (it
    counts and selects by the same expression): PostgreSQL takes kit.stats' logarithmic
    bins; SQLite (whose math functions are optional) takes the number of digits of the
    whole seconds and their first two digits (bins at most 10% wide)."""
    if dialect == "postgresql":
        return func.floor(func.ln(1.0 + func.greatest(value, 0.0)) * (8 / math.log(2)))
    whole = cast(cast(value, BigInteger), String)
    return case(
        (value < 1, 0),
        else_=func.length(whole) * 100 + cast(func.substr(whole, 1, 2), BigInteger),
    )


def summary(session: Session, query: ReportQuery) -> tuple[Totals, Distribution, Distribution]:
    """The cohort's counts and the distributions of response_s and action_s: one pass over
    the covering index for counts, sums, minima and maxima, then the quantiles."""
    conditions = cohort.mention_conditions(query)
    response, action = Mention.response_s, Mention.action_s
    row = session.execute(
        select(
            func.count(),
            _count_true(Mention.broke_sla),
            _count_true(Mention.broke_action_sla),
            *(f(value) for value in (response, action) for f in _AGGREGATES),
        ).where(*conditions)
    ).one()
    volume, broke, broke_action = (int(n) for n in row[:3])
    response_sums, action_sums = tuple(row[3:7]), tuple(row[7:11])
    counted = Totals(volume, int(response_sums[0]), broke, broke_action)
    return (
        counted,
        _distribution(session, query, response, Mention.response_bin, response_sums),
        _distribution(session, query, action, Mention.action_bin, action_sums),
    )


_AGGREGATES = (func.count, func.sum, func.min, func.max)


def _distribution(
    session: Session, query: ReportQuery, value: Any, value_bin: Any, sums: tuple[Any, ...]
) -> Distribution:
    n, total, low, high = sums
    if not n:
        return stats.EMPTY
    conditions = cohort.mention_conditions(query)
    if query.users is not None or query.groups is not None or query.classifications is not None:
        # The filters read columns no bin index holds: one pass over the covering index.
        return distribution(session, value, scan_bin(value, query.dialect), conditions)
    # Unfiltered (the large case): counts per stored bin from the (bin, published_at) index
    # alone, already in bin order (no sort of the cohort)...
    per_bin = {
        int(number): int(count)
        for number, count in session.execute(
            select(value_bin, func.count())
            .where(*conditions, value_bin.is_not(None))
            .group_by(value_bin)
        )
    }
    if sum(per_bin.values()) != n:  # a value without its bin (not stamped by sla.stamp)
        return distribution(session, value, scan_bin(value, query.dialect), conditions)
    # ...then the values of the bins the quantiles fall in, by value range from the covering
    # index (a bin's rows fetched one by one would cost a table read each), kept exactly by
    # bin_of, the function that stamped the bins.
    needed = stats.bins_needed(per_bin, (stats.MEDIAN, stats.P90))
    ranges = [_bin_range(value, number) for number in sorted(needed)]
    values: dict[int, list[float]] = {number: [] for number in needed}
    for (measured,) in session.execute(select(value).where(*conditions, or_(*ranges))):
        number = stats.bin_of(float(measured))
        if number in values:
            values[number].append(float(measured))
    return Distribution(
        count=int(n),
        mean=float(total) / int(n),
        minimum=float(low),
        maximum=float(high),
        median=stats.pick(per_bin, values, stats.MEDIAN),
        p90=stats.pick(per_bin, values, stats.P90),
    )


def _bin_range(value: Any, number: int) -> Any:
    """A value range holding every value of bin `number` (and perhaps a hair more: the
    caller keeps a value by its bin_of)."""
    per = stats.BINS_PER_DOUBLING
    low = 2.0 ** (number / per) - 1.0
    high = 2.0 ** ((number + 1) / per) - 1.0
    upper = value <= high * (1 + 1e-9) + 1e-9
    if number == 0:  # bin 0 also holds negative values
        return upper
    return and_(value >= low * (1 - 1e-9) - 1e-9, upper)
