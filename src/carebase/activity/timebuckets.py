"""Report time: the window a request asks about, its buckets in the report's time zone, and
the 15-minute UTC slots the database groups by.

Reports group rows by 15-minute UTC slot in SQL (`slot_of`) and fold the slots into the
window's buckets here (`Window.index`). Every zone's offset today is a whole number of
quarter hours (+05:45, +10:30 included), so a local midnight or hour always starts a slot and
the fold is exact; a 23- or 25-hour day is one bucket, and the hour a clock repeats in the
autumn is two (both labelled with the same wall time, told apart by `date_from_utc`).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, func, literal_column
from sqlalchemy.sql.elements import ColumnElement

SLOT = timedelta(minutes=15)
# "If your query range is less than 4 days the time intervals will be reduced from days to
# hours" (activity-api.txt).
HOURLY_BELOW = timedelta(days=4)
LABEL_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True, slots=True)
class Bucket:
    """One interval of a report: [start, end) in UTC, and its wall-clock label."""

    start: datetime
    end: datetime
    label: str

    def date_range(self) -> dict[str, str]:
        """The reference's `date_range`, plus the bucket's UTC start (unambiguous)."""
        return {"date_from": self.label, "date_from_utc": utc_text(self.start)}


@dataclass(frozen=True)
class Window:
    """[date_from, date_to] (both inclusive, as the reference's examples end at 23:59:59)
    read in `zone`."""

    date_from: datetime
    date_to: datetime
    zone: ZoneInfo

    @property
    def hourly(self) -> bool:
        """Hourly buckets for ranges under 4 days, daily otherwise."""
        return self.date_to - self.date_from < HOURLY_BELOW

    @property
    def utc_from(self) -> datetime:
        """The window's start in UTC."""
        return self.date_from.astimezone(UTC)

    @property
    def utc_to(self) -> datetime:
        """The window's (inclusive) end in UTC."""
        return self.date_to.astimezone(UTC)

    def buckets(self) -> list[Bucket]:
        """The buckets from the one holding date_from to the one holding date_to."""
        cached: list[Bucket] | None = self.__dict__.get("_buckets")
        if cached is None:
            starts = _hour_starts(self) if self.hourly else _day_starts(self)
            ends = [*starts[1:], _next_start(self, starts[-1])]
            cached = [
                Bucket(s, e, s.astimezone(self.zone).strftime(LABEL_FORMAT))
                for s, e in zip(starts, ends, strict=True)
            ]
            object.__setattr__(self, "_buckets", cached)
            object.__setattr__(self, "_starts", starts)
        return cached

    def index(self, instant: datetime) -> int | None:
        """The bucket holding a UTC instant (None when outside the window's buckets)."""
        buckets = self.buckets()
        starts: list[datetime] = self.__dict__["_starts"]
        found = bisect_right(starts, instant) - 1
        if found < 0 or instant >= buckets[-1].end:
            return None
        return found


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    # A midnight the clocks skip maps, with fold=0, onto the day's first real instant.
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _day_starts(window: Window) -> list[datetime]:
    first = window.date_from.astimezone(window.zone).date()
    last = window.date_to.astimezone(window.zone).date()
    days = (last - first).days
    return [_local_midnight(first + timedelta(days=n), window.zone) for n in range(days + 1)]


def _on_the_hour(instant: datetime, zone: ZoneInfo) -> bool:
    local = instant.astimezone(zone)
    return local.minute == 0 and local.second == 0


def _hour_starts(window: Window) -> list[datetime]:
    # Walk quarter hours in UTC and keep those that are on the hour locally: right for
    # zones at :30 and :45 and across a change of offset by 30 or 60 minutes.
    start = _floor_slot(window.utc_from)
    while not _on_the_hour(start, window.zone):
        start -= SLOT
    starts = []
    at = start
    while at <= window.utc_to:
        if _on_the_hour(at, window.zone):
            starts.append(at)
        at += SLOT
    return starts


def _next_start(window: Window, last: datetime) -> datetime:
    if window.hourly:
        at = last + SLOT
        while not _on_the_hour(at, window.zone):
            at += SLOT
        return at
    return _local_midnight(last.astimezone(window.zone).date() + timedelta(days=1), window.zone)


def _floor_slot(instant: datetime) -> datetime:
    instant = instant.astimezone(UTC)
    return instant.replace(minute=instant.minute - instant.minute % 15, second=0, microsecond=0)


def utc_text(instant: datetime) -> str:
    """`2018-04-01T13:00:00Z`."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def slot_of(column: Any, dialect: str) -> ColumnElement[Any]:
    """SQL for the start of the 15-minute UTC slot holding a UTCDateTime column's value
    (text `YYYY-MM-DD HH:MM` on SQLite, a timestamptz on PostgreSQL: read it with
    `slot_start`)."""
    if dialect == "sqlite":
        # The stored text is fixed-width UTC (`2024-11-06 08:07:00.000000`).
        minute = cast(func.substr(column, 15, 2), String).op("+")(0)
        quarter = func.printf("%02d", minute.op("/")(15).op("*")(15))
        return func.substr(column, 1, 14).op("||")(quarter)
    return func.date_bin(
        literal_column("interval '15 minutes'"),
        column,
        literal_column("timestamptz '2000-01-01 00:00:00+00'"),
    )


def slot_start(value: Any) -> datetime:
    """A `slot_of` value as an aware UTC datetime."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.strptime(str(value), LABEL_FORMAT).replace(tzinfo=UTC)
