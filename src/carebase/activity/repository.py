"""SQL shared by the report types: distributions (count, mean, min, max and exact median and
90th percentile, per group if asked) and counts per 15-minute UTC slot."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select, text, tuple_
from sqlalchemy.orm import Session

from carebase.kit import stats
from carebase.kit.stats import Distribution

# Bins read per query when fetching the values the quantiles need (a bound on IN lists).
_PAIRS_PER_QUERY = 500


def plan_for_reports(session: Session) -> None:
    """Settings for the report statements of this transaction. PostgreSQL's JIT compiles
    the grouped aggregates over the year's rows for ~0.3 s per statement before running them
    (measured at 1M mentions), more than it saves: off for this transaction only."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def distributions(
    session: Session,
    value: Any,
    value_bin: Any,
    conditions: Sequence[ColumnElement[bool]],
    *,
    key: Any = None,
    quantiles: Sequence[float] = (stats.MEDIAN, stats.P90),
) -> dict[Hashable, Distribution]:
    """The distribution of `value` (a duration column, NULLs skipped) over the rows meeting
    `conditions`, per `key` column (or under the key None). Three statements whatever the
    row count: counts per (key, bin) with the sums, then the values of the bins the
    quantiles fall in (stats.py)."""
    conditions = [*conditions, value.is_not(None)]
    keys = [key] if key is not None else []
    aggregates = (func.count(), func.sum(value), func.min(value), func.max(value))
    statement = select(*keys, value_bin, *aggregates).where(*conditions)
    rows = session.execute(statement.group_by(*keys, value_bin)).all()
    totals = [tuple(row) if key is not None else (None, *row) for row in rows]
    if not totals:
        return {}
    counts: dict[Hashable, dict[int, int]] = defaultdict(dict)
    sums: dict[Hashable, float] = defaultdict(float)
    lows: dict[Hashable, float] = {}
    highs: dict[Hashable, float] = {}
    for group, number, count, total, low, high in totals:
        counts[group][int(number)] = int(count)
        sums[group] += float(total)
        lows[group] = min(lows.get(group, low), low)
        highs[group] = max(highs.get(group, high), high)
    needed = [
        (group, number)
        for group, per_bin in counts.items()
        for number in sorted(stats.bins_needed(per_bin, quantiles))
    ]
    values: dict[Hashable, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for start in range(0, len(needed), _PAIRS_PER_QUERY):
        part = needed[start : start + _PAIRS_PER_QUERY]
        if key is None:
            where = value_bin.in_([number for _, number in part])
            read = session.execute(select(value_bin, value).where(*conditions, where))
            for number, measured in read:
                values[None][int(number)].append(float(measured))
        else:
            where = tuple_(key, value_bin).in_(part)
            read = session.execute(select(key, value_bin, value).where(*conditions, where))
            for group, number, measured in read:
                values[group][int(number)].append(float(measured))
    found: dict[Hashable, Distribution] = {}
    for group, per_bin in counts.items():
        n = sum(per_bin.values())
        picked = [stats.pick(per_bin, values[group], q) for q in quantiles]
        found[group] = Distribution(
            count=n,
            mean=sums[group] / n,
            minimum=float(lows[group]),
            maximum=float(highs[group]),
            median=picked[0] if picked else None,
            p90=picked[1] if len(picked) > 1 else None,
        )
    return found


def distribution(
    session: Session,
    value: Any,
    value_bin: Any,
    conditions: Sequence[ColumnElement[bool]],
) -> Distribution:
    """The distribution of `value` over the rows meeting `conditions` (stats.EMPTY if none)."""
    return distributions(session, value, value_bin, conditions).get(None, stats.EMPTY)
