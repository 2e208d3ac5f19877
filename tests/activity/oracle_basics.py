"""The oracle's vocabulary: a request (`Ask`), statistics by their textbook definitions, and
report buckets computed without carebase's time code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

# The workflow's states in the contract's order (the reference's ten, then closed_thread).
STATES = (
    "new",
    "assigned",
    "in_progress",
    "responded",
    "awaiting_approval",
    "redirected",
    "irrelevant",
    "duplicate",
    "closed",
    "no_response_required",
    "closed_thread",
)
CLOSED = {
    "redirected",
    "irrelevant",
    "duplicate",
    "closed",
    "no_response_required",
    "closed_thread",
}


@dataclass(frozen=True)
class Ask:
    """A report request, as the oracle reads it."""

    date_from: datetime
    date_to: datetime
    zone: ZoneInfo
    users: frozenset[int] | None = None
    groups: frozenset[int] | None = None
    classifications: frozenset[int] | None = None
    form: int | None = None
    nps_category: str = "all"

    def within(self, at: datetime | None) -> bool:
        """In [date_from, date_to], both inclusive."""
        return at is not None and self.date_from <= at <= self.date_to


# Statistics, by their textbook definitions.


def mean(values: list[float]) -> float | None:
    """The mean, None for no values."""
    return sum(values) / len(values) if values else None


def quantile(values: list[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    h = (len(ordered) - 1) * q
    low = int(h)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (h - low)


def lowest(values: list[float]) -> float | None:
    return min(values) if values else None


def highest(values: list[float]) -> float | None:
    return max(values) if values else None


def per_minute(value: float | None) -> float | None:
    return None if value is None else value / 60


def fraction(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# Buckets: local days (or UTC hours when the range is under 4 days, every zone used here
# being a whole number of hours from UTC), labelled with the local wall time of their start.


LABEL = "%Y-%m-%d %H:%M"
UTC_TEXT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    label: str
    utc: str


def buckets(ask: Ask) -> list[Slot]:
    """The report's buckets."""
    starts: list[datetime] = []
    if ask.date_to.astimezone(UTC) - ask.date_from.astimezone(UTC) < timedelta(days=4):
        at = ask.date_from.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        while at <= ask.date_to:
            starts.append(at)
            at += timedelta(hours=1)
        last_end = at
    else:
        day = ask.date_from.astimezone(ask.zone).date()
        final = ask.date_to.astimezone(ask.zone).date()
        while day <= final:
            starts.append(datetime(day.year, day.month, day.day, tzinfo=ask.zone).astimezone(UTC))
            day += timedelta(days=1)
        last_end = datetime(day.year, day.month, day.day, tzinfo=ask.zone).astimezone(UTC)
    ends = [*starts[1:], last_end]
    return [
        Slot(s, e, s.astimezone(ask.zone).strftime(LABEL), s.strftime(UTC_TEXT))
        for s, e in zip(starts, ends, strict=True)
    ]


def points(ask: Ask, values: list[Any], **fields: Any) -> list[dict[str, Any]]:
    return [
        {**fields, "value": v, "date_range": {"date_from": b.label, "date_from_utc": b.utc}}
        for b, v in zip(buckets(ask), values, strict=True)
    ]


def in_bucket(slot: Slot, at: datetime | None) -> bool:
    return at is not None and slot.start <= at < slot.end
