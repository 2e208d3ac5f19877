"""Exact quantiles by bin selection: `repository.distributions` (grouped counts, then only
the bins the ranks fall in) must give what a full sort gives (`stats.quantile`), on both
engines, including ties, one value, groups and values spanning many bins."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Float, Integer, MetaData, SmallInteger, Table, insert, select, true
from sqlalchemy.orm import Session

from carebase.activity.mention_repository import scan_bin
from carebase.activity.repository import distribution, distributions
from carebase.db.session import Database
from carebase.kit import stats

metadata = MetaData()
durations = Table(
    "test_durations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", Integer, nullable=False),
    Column("value", Float),
    Column("bin", SmallInteger),
)


@pytest.fixture
def table(database: Database) -> Iterator[Database]:
    metadata.create_all(database.engine)
    yield database
    metadata.drop_all(database.engine)


def fill(database: Database, rows: list[tuple[int, float | None]]) -> None:
    with database.unit_of_work() as session:
        session.execute(
            insert(durations),
            [{"key": k, "value": v, "bin": stats.bin_of(v)} for k, v in rows],
        )


def read(session: Session, *, by_key: bool) -> dict[object, stats.Distribution]:
    key = durations.c.key if by_key else None
    return distributions(session, durations.c.value, durations.c.bin, [true()], key=key)


def check(found: stats.Distribution, values: list[float]) -> None:
    assert found.count == len(values)
    assert found.minimum == min(values)
    assert found.maximum == max(values)
    assert found.mean == pytest.approx(math.fsum(values) / len(values), rel=1e-12)
    # Exact: the same floats a full sort picks and interpolates.
    assert found.median == stats.quantile(values, stats.MEDIAN)
    assert found.p90 == stats.quantile(values, stats.P90)


def test_random_values_with_ties_per_group(table: Database) -> None:
    rng = random.Random(5)
    values: dict[int, list[float]] = {}
    rows: list[tuple[int, float | None]] = []
    for key, size in [(1, 1), (2, 2), (3, 57), (4, 400)]:
        drawn = []
        for _ in range(size):
            kind = rng.random()
            if kind < 0.3:  # ties, inside one bin and at bin edges
                drawn.append(float(rng.choice([0, 1, 60, 300, 300, 3600])))
            elif kind < 0.9:
                drawn.append(rng.expovariate(1 / 1800))
            else:
                drawn.append(rng.uniform(0, 3e7))
        values[key] = drawn
        rows += [(key, v) for v in drawn]
    rows += [(3, None), (5, None)]  # NULLs are skipped; a key with only NULLs is absent
    rng.shuffle(rows)
    fill(table, rows)
    with table.unit_of_work(write=False) as session:
        grouped = read(session, by_key=True)
        assert set(grouped) == set(values)
        for key, drawn in values.items():
            check(grouped[key], drawn)
        everything = [v for drawn in values.values() for v in drawn]
        check(read(session, by_key=False)[None], everything)
        check(distribution(session, durations.c.value, durations.c.bin, [true()]), everything)


def test_one_value_and_all_equal(table: Database) -> None:
    fill(table, [(1, 42.5), (2, 7.0), (2, 7.0), (2, 7.0)])
    with table.unit_of_work(write=False) as session:
        grouped = read(session, by_key=True)
    assert grouped[1] == stats.Distribution(1, 42.5, 42.5, 42.5, 42.5, 42.5)
    assert grouped[2] == stats.Distribution(3, 7.0, 7.0, 7.0, 7.0, 7.0)


def test_no_values_is_empty(table: Database) -> None:
    fill(table, [(1, None)])
    with table.unit_of_work(write=False) as session:
        assert read(session, by_key=True) == {}
        assert distribution(session, durations.c.value, durations.c.bin, [true()]) == stats.EMPTY
    assert stats.EMPTY.median is None
    assert stats.Distribution.of([]) is stats.EMPTY


def test_quantile_interpolates_linearly() -> None:
    assert stats.quantile([1, 2, 3, 4], 0.5) == 2.5
    assert stats.quantile([4, 1, 3, 2], 0.9) == pytest.approx(3.7)
    assert stats.quantile([9.0], 0.9) == 9.0
    assert stats.quantile([], 0.5) is None


def test_pick_matches_a_full_sort() -> None:
    rng = random.Random(8)
    for size in [1, 2, 3, 10, 101]:
        values = [round(rng.expovariate(1 / 600), rng.choice([0, 3])) for _ in range(size)]
        counts: dict[int, int] = {}
        by_bin: dict[int, list[float]] = {}
        for v in values:
            number = stats.bin_of(v)
            assert number is not None
            counts[number] = counts.get(number, 0) + 1
            by_bin.setdefault(number, []).append(v)
        for q in (0.0, 0.25, stats.MEDIAN, stats.P90, 1.0):
            needed = stats.bins_needed(counts, [q])
            assert stats.pick(counts, {b: by_bin[b] for b in needed}, q) == stats.quantile(
                values, q
            )


def test_bin_of_is_monotonic() -> None:
    rng = random.Random(3)
    samples = sorted(
        [0.0, 0.5, 1.0, 59.999, 60.0, 3599.0, 3600.0, 3e7]
        + [rng.uniform(0, 1e6) for _ in range(2000)]
    )
    bins = [stats.bin_of(s) for s in samples]
    assert all(b is not None for b in bins)
    assert bins == sorted(bins)  # type: ignore[type-var]
    assert stats.bin_of(0) == 0
    assert stats.bin_of(-5) == 0
    assert stats.bin_of(None) is None
    # A year in seconds fits the SmallInteger column with room to spare.
    assert (stats.bin_of(366 * 86400) or 0) < 300


def test_bins_computed_in_sql_give_the_same_exact_quantiles(table: Database) -> None:
    # mention_repository.scan_bin: bins from the value itself (read from the covering index).
    rng = random.Random(13)
    drawn = [0.0, 0.4, 1.0, 9.99, 10.0, 99.5, 100.0, 3e7] + [
        rng.choice([rng.expovariate(1 / 900), 300.0, float(rng.randrange(0, 5000))])
        for _ in range(300)
    ]
    fill(table, [(1, v) for v in drawn])
    value = durations.c.value
    with table.unit_of_work(write=False) as session:
        dialect = session.get_bind().dialect.name
        found = distribution(session, value, scan_bin(value, dialect), [true()])
        check(found, drawn)
        bins = session.execute(select(value, scan_bin(value, dialect)).order_by(value)).all()
    numbers = [b for _, b in bins if b is not None]
    assert numbers == sorted(numbers)  # never decreasing as the value grows
    assert len(set(numbers)) > 20
