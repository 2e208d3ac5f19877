"""Building blocks of the reference's response shapes, shared by every report type."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from carebase.activity.timebuckets import Window, slot_start

T = TypeVar("T")


def per_bucket(
    window: Window,
    rows: Iterable[Sequence[Any]],
    start: Callable[[], T],
    add: Callable[[T, Sequence[Any]], None],
) -> list[T]:
    """Fold rows whose first column is a `slot_of` value into one accumulator per bucket
    (`start()` makes an empty one, `add(acc, row)` adds a row; rows outside the buckets are
    ignored)."""
    folded = [start() for _ in window.buckets()]
    for row in rows:
        index = window.index(slot_start(row[0]))
        if index is not None:
            add(folded[index], row)
    return folded


def counts_per_bucket(window: Window, rows: Iterable[Sequence[Any]]) -> list[int]:
    """Sum the second column of (slot, count) rows per bucket."""
    totals = [0] * len(window.buckets())
    for slot, count in rows:
        index = window.index(slot_start(slot))
        if index is not None:
            totals[index] += int(count)
    return totals


def points(window: Window, values: Sequence[Any], **fields: Any) -> list[dict[str, Any]]:
    """`[{**fields, "value": v, "date_range": {"date_from": "2018-04-27 00:00", …}}, …]`,
    one per bucket, the reference's series shape (states_volume, response_volume,
    case_volume)."""
    return [
        {**fields, "value": value, "date_range": bucket.date_range()}
        for bucket, value in zip(window.buckets(), values, strict=True)
    ]
