"""Exact order statistics without sorting every value: each duration is also stored with its
*bin* (a logarithmic bucket, `bin_of`), so a report counts values per bin with one grouped
query, works out which bins hold the ranks it needs (`locate`), reads only those bins' values
and picks the exact ones. The answer is the one a full sort would give (`quantile` of all
values, tested directly); the cost is one grouped count plus a read of a few bins.

Quantiles interpolate linearly between the two nearest ranks, like PostgreSQL's
`percentile_cont` and numpy's default: the median of [1, 2, 3, 4] is 2.5.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# Bins per doubling of the duration: 8 makes each bin at most ~9% wide, so the bins a
# quantile needs hold few values, and a year in seconds (~3.2e7) fits in bin 200.
BINS_PER_DOUBLING = 8
MEDIAN = 0.5
P90 = 0.9


def bin_of(seconds: float | None) -> int | None:
    """The bin of a duration in seconds (None stays None; negatives count as 0)."""
    if seconds is None:
        return None
    return int(math.log2(1.0 + max(seconds, 0.0)) * BINS_PER_DOUBLING)


@dataclass(frozen=True, slots=True)
class Rank:
    """Where quantile q of n sorted values lies: between 0-based ranks `low` and `high`,
    `fraction` of the way."""

    low: int
    high: int
    fraction: float


def rank(n: int, q: float) -> Rank:
    """The ranks that quantile `q` (0 to 1) of `n` values interpolates between (n ≥ 1)."""
    if n < 1:
        raise ValueError("no values")
    position = (n - 1) * q
    low = math.floor(position)
    return Rank(low, min(low + 1, n - 1), position - low)


def locate(counts: Mapping[int, int], wanted: int) -> tuple[int, int]:
    """(bin, rank within that bin) of the 0-based `wanted` rank, given value counts per bin."""
    seen = 0
    for number in sorted(counts):
        count = counts[number]
        if wanted < seen + count:
            return number, wanted - seen
        seen += count
    raise ValueError(f"rank {wanted} is beyond {seen} values")


def bins_needed(counts: Mapping[int, int], quantiles: Iterable[float]) -> set[int]:
    """The bins whose values `pick` needs for these quantiles."""
    n = sum(counts.values())
    needed: set[int] = set()
    if n == 0:
        return needed
    for q in quantiles:
        at = rank(n, q)
        needed.add(locate(counts, at.low)[0])
        needed.add(locate(counts, at.high)[0])
    return needed


def pick(
    counts: Mapping[int, int], values_by_bin: Mapping[int, Sequence[float]], q: float
) -> float | None:
    """Quantile `q` from the per-bin counts and the values of the bins `bins_needed` named
    (each bin's values in any order)."""
    n = sum(counts.values())
    if n == 0:
        return None
    at = rank(n, q)

    def value(wanted: int) -> float:
        number, within = locate(counts, wanted)
        return sorted(values_by_bin[number])[within]

    low = value(at.low)
    if at.fraction == 0.0:
        return low
    return low + (value(at.high) - low) * at.fraction


def quantile(values: Sequence[float], q: float) -> float | None:
    """Quantile `q` of all the values by a full sort: the definition `pick` must agree with."""
    if not values:
        return None
    ordered = sorted(values)
    at = rank(len(ordered), q)
    low = ordered[at.low]
    return low + (ordered[at.high] - low) * at.fraction


@dataclass(frozen=True, slots=True)
class Distribution:
    """Count, mean, min, max, median and 90th percentile of a set of durations in seconds;
    every statistic is None when there are no values (no data is not zero)."""

    count: int
    mean: float | None
    minimum: float | None
    maximum: float | None
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Distribution:
        """The distribution of the values, computed directly (tests' and small sets' path)."""
        if not values:
            return EMPTY
        return cls(
            len(values),
            math.fsum(values) / len(values),
            min(values),
            max(values),
            quantile(values, MEDIAN),
            quantile(values, P90),
        )


EMPTY = Distribution(0, None, None, None, None, None)


def minutes(seconds: float | None) -> float | None:
    """Seconds as minutes (None stays None)."""
    return None if seconds is None else seconds / 60.0


def ratio(part: int | float, whole: int | float) -> float | None:
    """part / whole, or None when there is nothing to divide by."""
    return None if not whole else part / whole
