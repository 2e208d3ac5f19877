"""Business time: how many working seconds lie between two instants, and when a number of
working seconds after an instant runs out (an SLA's deadline). Pure: no database.

A schedule is an IANA zone, intervals per weekday (Monday 0) in local wall-clock time, and
holidays. An interval whose end is not after its start runs into the next day (22:00-06:00;
00:00-00:00 is a whole day). A holiday removes a whole local day, or some hours of it
(HH:MM-HH:MM), from whatever intervals cover it. Local times become instants through the
zone, so a working day that spans a DST change is an hour shorter or longer in real seconds,
as the people working it experience it. A local time skipped by the spring change is read
with the offset in force before it, one repeated by the autumn change as its first occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from carebase.errors import FieldProblem, problem

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# add_business_seconds gives up after this many days without enough working time (a
# schedule whose holidays cover everything would otherwise search forever).
MAX_SEARCH_DAYS = 3700
# Working time is counted between these instants: a message may be dated anywhere from year 1
# to 9999 (the date is the customer's), and local days near either end are not dates Python
# can hold. An instant outside is taken as the nearest bound.
FLOOR = datetime(1900, 1, 1, tzinfo=UTC)
CEILING = datetime(9000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Interval:
    """Working time on one weekday, in local time; `end <= start` runs into the next day."""

    weekday: int
    start: time
    end: time

    @property
    def overnight(self) -> bool:
        """Whether it ends on the next day."""
        return self.end <= self.start


@dataclass(frozen=True, slots=True)
class Holiday:
    """A day off (start and end None) or some hours of it (start < end)."""

    day: date
    start: time | None = None
    end: time | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a team works: an IANA zone, weekly intervals, holidays."""

    timezone: str
    intervals: tuple[Interval, ...]
    holidays: tuple[Holiday, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        """The zone, resolved."""
        return ZoneInfo(self.timezone)

    @classmethod
    def from_json(
        cls, timezone: str, intervals: Iterable[dict[str, Any]], holidays: Iterable[dict[str, Any]]
    ) -> Schedule:
        """A schedule from its stored form (business_hours row or a mention's SLA snapshot);
        raises ValueError on a malformed one (validate first to name the field)."""
        return cls(
            timezone,
            tuple(
                Interval(int(i["weekday"]), parse_hhmm(i["start"]), parse_hhmm(i["end"]))
                for i in intervals
            ),
            tuple(
                Holiday(
                    date.fromisoformat(h["date"]),
                    parse_hhmm(h["start"]) if h.get("start") else None,
                    parse_hhmm(h["end"]) if h.get("end") else None,
                )
                for h in holidays
            ),
        )


def parse_hhmm(value: str) -> time:
    """`HH:MM` (00:00-23:59) as a time; ValueError otherwise."""
    match = _HHMM.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"not HH:MM: {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def validate(
    timezone: Any, intervals: Any, holidays: Any, *, prefix: str = ""
) -> list[FieldProblem]:
    """Every problem with a schedule's stored form, each naming its field: an IANA zone,
    intervals with weekday 0-6 and HH:MM times that do not overlap (overnight ones included),
    holidays with a YYYY-MM-DD date and either no hours or HH:MM start before end."""
    problems: list[FieldProblem] = []
    if not isinstance(timezone, str) or not _is_zone(timezone):
        problems.append(
            problem(f"{prefix}timezone", "must be an IANA time zone, e.g. Europe/Paris")
        )
    spans: list[tuple[int, int, int]] = []  # (minute of the week start, end, index)
    if not isinstance(intervals, list) or not intervals:
        problems.append(problem(f"{prefix}intervals", "must list at least one interval"))
        intervals = []
    for index, item in enumerate(intervals):
        field = f"{prefix}intervals.{index}"
        if not isinstance(item, dict):
            problems.append(problem(field, "must be an object {weekday, start, end}"))
            continue
        weekday = item.get("weekday")
        ok = True
        if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
            problems.append(problem(f"{field}.weekday", "must be 0 (Monday) to 6 (Sunday)"))
            ok = False
        times: list[int] = []
        for name in ("start", "end"):
            try:
                times.append(_minutes(parse_hhmm(item.get(name))))  # type: ignore[arg-type]
            except ValueError:
                problems.append(problem(f"{field}.{name}", "must be HH:MM, 00:00 to 23:59"))
                ok = False
        if ok:
            start = weekday * 1440 + times[0]  # type: ignore[operator]
            length = (times[1] - times[0]) % 1440 or 1440
            spans.append((start, start + length, index))
    # Overlaps, on the week's circle (Sunday night runs into Monday).
    week = 7 * 1440
    for a in range(len(spans)):
        for b in range(a + 1, len(spans)):
            (s1, e1, _), (s2, e2, i2) = spans[a], spans[b]
            if any(s1 < e2 + shift and s2 + shift < e1 for shift in (-week, 0, week)):
                problems.append(
                    problem(f"{prefix}intervals.{i2}", f"overlaps interval {spans[a][2]}")
                )
    if not isinstance(holidays, list):
        problems.append(problem(f"{prefix}holidays", "must be a list"))
        holidays = []
    for index, item in enumerate(holidays):
        field = f"{prefix}holidays.{index}"
        if not isinstance(item, dict):
            problems.append(problem(field, "must be an object {date, name, start, end}"))
            continue
        try:
            if not isinstance(item.get("date"), str) or len(item["date"]) != 10:
                raise ValueError
            date.fromisoformat(item["date"])
        except ValueError:
            problems.append(problem(f"{field}.date", "must be a date, YYYY-MM-DD"))
        start, end = item.get("start"), item.get("end")
        if start is None and end is None:
            continue
        try:
            if parse_hhmm(end) <= parse_hhmm(start):  # type: ignore[arg-type]
                problems.append(problem(f"{field}.end", "must be after start"))
        except ValueError:
            problems.append(
                problem(f"{field}.start", "start and end must both be HH:MM, or both be null")
            )
    return problems


def _is_zone(name: str) -> bool:
    if not name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _utc(value: datetime) -> datetime:
    # Naive datetimes are UTC, as carebase stores them.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _bounded(value: datetime) -> datetime:
    return min(max(_utc(value), FLOOR), CEILING)


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _subtract(
    spans: list[tuple[datetime, datetime]], cut: tuple[datetime, datetime]
) -> list[tuple[datetime, datetime]]:
    left: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if cut[1] <= start or end <= cut[0]:
            left.append((start, end))
            continue
        if start < cut[0]:
            left.append((start, cut[0]))
        if cut[1] < end:
            left.append((cut[1], end))
    return left


def _day_spans(schedule: Schedule, zone: ZoneInfo, day: date) -> list[tuple[datetime, datetime]]:
    """Working time that starts on local `day`, as UTC spans (holidays not yet removed)."""
    spans = []
    for interval in schedule.intervals:
        if interval.weekday != day.weekday():
            continue
        end_day = day + timedelta(days=1) if interval.overnight else day
        start, end = _instant(day, interval.start, zone), _instant(end_day, interval.end, zone)
        if end > start:
            spans.append((start, end))
    return spans


def _holiday_cuts(schedule: Schedule, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    cuts = []
    for holiday in schedule.holidays:
        if holiday.start is None or holiday.end is None:
            cuts.append(
                (
                    _instant(holiday.day, time(0), zone),
                    _instant(holiday.day + timedelta(days=1), time(0), zone),
                )
            )
        else:
            cuts.append(
                (
                    _instant(holiday.day, holiday.start, zone),
                    _instant(holiday.day, holiday.end, zone),
                )
            )
    return cuts


def _spans(schedule: Schedule, first: date) -> Iterator[tuple[datetime, datetime]]:
    """Working spans in time order, merged, holidays removed, from those starting on local
    day `first` (the day before the one wanted, so that overnight intervals are seen)."""
    zone = schedule.zone
    cuts = _holiday_cuts(schedule, zone)
    pending: tuple[datetime, datetime] | None = None
    for offset in range(MAX_SEARCH_DAYS + 2):
        day_spans = sorted(_day_spans(schedule, zone, first + timedelta(days=offset)))
        for cut in cuts:
            day_spans = _subtract(day_spans, cut)
        for span in day_spans:
            if pending is not None and span[0] <= pending[1]:
                pending = (pending[0], max(pending[1], span[1]))
                continue
            if pending is not None:
                yield pending
            pending = span
        # A span starting a later day cannot begin before this day's end (intervals of a
        # day start on that day), so a pending span ending by the next local midnight
        # is final.
        boundary = _instant(first + timedelta(days=offset + 1), time(0), zone)
        if pending is not None and pending[1] <= boundary:
            yield pending
            pending = None
    if pending is not None:
        yield pending


def business_seconds(schedule: Schedule, start: datetime, end: datetime) -> float:
    """Working seconds between two instants (0 when end is not after start), counted over at
    most the MAX_SEARCH_DAYS before `end` (a longer span is years overdue either way)."""
    start, end = _bounded(start), _bounded(end)
    if end <= start:
        return 0.0
    start = max(start, end - timedelta(days=MAX_SEARCH_DAYS))
    zone = schedule.zone
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    total = timedelta()
    days = (last - first).days + 1
    spans = sorted(
        span
        for offset in range(days)
        for span in _day_spans(schedule, zone, first + timedelta(days=offset))
    )
    for cut in _holiday_cuts(schedule, zone):
        spans = _subtract(spans, cut)
    # Merge (an overnight interval may meet the next day's), then clip to [start, end).
    merged: list[list[datetime]] = []
    for span_start, span_end in sorted(spans):
        if merged and span_start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], span_end)
        else:
            merged.append([span_start, span_end])
    for span_start, span_end in merged:
        lo, hi = max(span_start, start), min(span_end, end)
        if hi > lo:
            total += hi - lo
    return total.total_seconds()


def add_business_seconds(schedule: Schedule, start: datetime, seconds: float) -> datetime:
    """The instant `seconds` working seconds after `start` (a deadline); `start` itself for
    0. ValueError when the schedule has no working time in the next ~10 years."""
    start = _bounded(start)
    if seconds <= 0:
        return start
    remaining = timedelta(seconds=seconds)
    first = start.astimezone(schedule.zone).date() - timedelta(days=1)
    horizon = start + timedelta(days=MAX_SEARCH_DAYS)
    for span_start, span_end in _spans(schedule, first):
        if span_start > horizon:
            break
        lo = max(span_start, start)
        if span_end <= lo:
            continue
        available = span_end - lo
        if available >= remaining:
            return lo + remaining
        remaining -= available
    raise ValueError("the schedule has no working time to reach this deadline")
