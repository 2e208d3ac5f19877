"""Business time, the pure core: working seconds between instants and deadlines, for several
intervals a day, overnight intervals, whole and partial holidays, across DST changes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from carebase.inbox.business_hours import (
    Schedule,
    add_business_seconds,
    business_seconds,
    validate,
)

H = 3600.0
SYDNEY = ZoneInfo("Australia/Sydney")
NEW_YORK = ZoneInfo("America/New_York")


def _weekdays(zone: str, *spans: tuple[str, str], days: range = range(5), holidays=()) -> Schedule:  # type: ignore[no-untyped-def]
    return Schedule.from_json(
        zone,
        [{"weekday": d, "start": s, "end": e} for d in days for s, e in spans],
        list(holidays),
    )


def _at(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone).astimezone(UTC)  # type: ignore[misc]


OFFICE = _weekdays("Europe/London", ("09:00", "17:00"))


def test_a_working_week_counts_only_office_hours() -> None:
    london = ZoneInfo("Europe/London")
    # Friday 16:00 to Monday 10:00: one hour on Friday, one on Monday.
    start, end = _at(london, 2026, 3, 6, 16, 0), _at(london, 2026, 3, 9, 10, 0)
    assert business_seconds(OFFICE, start, end) == 2 * H
    # Two hours of work from Friday 16:00 end on Monday 10:00.
    assert add_business_seconds(OFFICE, start, 2 * H) == end
    # Starting outside hours (Saturday): the clock starts on Monday 09:00.
    saturday = _at(london, 2026, 3, 7, 12, 0)
    assert add_business_seconds(OFFICE, saturday, 30 * 60) == _at(london, 2026, 3, 9, 9, 30)
    assert business_seconds(OFFICE, saturday, _at(london, 2026, 3, 9, 9, 0)) == 0


def test_an_interval_filling_its_end_returns_that_end_not_the_next_start() -> None:
    london = ZoneInfo("Europe/London")
    start = _at(london, 2026, 3, 9, 9, 0)
    assert add_business_seconds(OFFICE, start, 8 * H) == _at(london, 2026, 3, 9, 17, 0)
    assert add_business_seconds(OFFICE, start, 8 * H + 1) == _at(london, 2026, 3, 10, 9, 0, 1)


def test_end_not_after_start_is_zero_and_zero_seconds_is_the_start() -> None:
    moment = datetime(2026, 3, 9, 12, tzinfo=UTC)
    assert business_seconds(OFFICE, moment, moment) == 0
    assert business_seconds(OFFICE, moment, moment - timedelta(hours=3)) == 0
    assert add_business_seconds(OFFICE, moment, 0) == moment


def test_several_intervals_a_day_skip_the_lunch_break() -> None:
    schedule = _weekdays("America/New_York", ("08:00", "12:00"), ("13:00", "17:00"))
    start = _at(NEW_YORK, 2026, 6, 1, 11, 0)
    assert business_seconds(schedule, start, _at(NEW_YORK, 2026, 6, 1, 14, 0)) == 2 * H
    assert add_business_seconds(schedule, start, 90 * 60) == _at(NEW_YORK, 2026, 6, 1, 13, 30)


def test_an_overnight_interval_runs_into_the_next_day_and_into_monday() -> None:
    # A night shift: Friday 22:00 to Saturday 06:00, and Sunday 22:00 to Monday 06:00.
    night = Schedule.from_json(
        "Europe/Berlin",
        [
            {"weekday": 4, "start": "22:00", "end": "06:00"},
            {"weekday": 6, "start": "22:00", "end": "06:00"},
        ],
        [],
    )
    berlin = ZoneInfo("Europe/Berlin")
    friday_evening = _at(berlin, 2026, 6, 5, 20, 0)
    # Friday night's 8 hours, then 2 of Sunday night.
    assert add_business_seconds(night, friday_evening, 10 * H) == _at(berlin, 2026, 6, 8, 0, 0)
    assert (
        business_seconds(night, _at(berlin, 2026, 6, 6, 3, 0), _at(berlin, 2026, 6, 8, 1, 0))
        == 6 * H
    )
    # 00:00-00:00 is a whole day.
    allday = Schedule.from_json("UTC", [{"weekday": 0, "start": "00:00", "end": "00:00"}], [])
    monday = datetime(2026, 6, 1, tzinfo=UTC)
    assert (
        business_seconds(allday, monday - timedelta(days=1), monday + timedelta(days=3)) == 24 * H
    )


def test_holidays_remove_whole_days_and_parts_of_days() -> None:
    london = ZoneInfo("Europe/London")
    schedule = _weekdays(
        "Europe/London",
        ("09:00", "17:00"),
        holidays=[
            {"date": "2026-12-25", "name": "Christmas", "start": None, "end": None},
            {"date": "2026-12-24", "name": "Eve", "start": "13:00", "end": "17:00"},
        ],
    )
    # Thursday the 24th 09:00 to Monday the 28th 17:00: 4 h on the 24th, Christmas off,
    # the 28th in full.
    start, end = _at(london, 2026, 12, 24, 9, 0), _at(london, 2026, 12, 28, 17, 0)
    assert business_seconds(schedule, start, end) == 12 * H
    assert add_business_seconds(schedule, start, 5 * H) == _at(london, 2026, 12, 28, 10, 0)


def test_a_holiday_cuts_the_part_of_an_overnight_interval_that_falls_on_it() -> None:
    schedule = Schedule.from_json(
        "UTC",
        [{"weekday": 3, "start": "20:00", "end": "04:00"}],
        [{"date": "2026-12-25", "name": "Christmas"}],
    )
    # Thursday the 24th 20:00 to midnight counts; Christmas morning does not.
    start = datetime(2026, 12, 24, 12, tzinfo=UTC)
    assert business_seconds(schedule, start, datetime(2026, 12, 26, tzinfo=UTC)) == 4 * H


def test_sydney_spring_forward_day_is_23_hours_and_autumn_back_is_25() -> None:
    allday = _weekdays("Australia/Sydney", ("00:00", "00:00"), days=range(7))
    # Clocks go forward on Sunday 4 October 2026 at 02:00 (to 03:00).
    spring = _at(SYDNEY, 2026, 10, 4, 0, 0)
    assert business_seconds(allday, spring, _at(SYDNEY, 2026, 10, 5, 0, 0)) == 23 * H
    # And back on Sunday 5 April 2026 at 03:00 (to 02:00).
    autumn = _at(SYDNEY, 2026, 4, 5, 0, 0)
    assert business_seconds(allday, autumn, _at(SYDNEY, 2026, 4, 6, 0, 0)) == 25 * H
    # A 01:00-05:00 shift on those days is 3 and 5 real hours.
    early = _weekdays("Australia/Sydney", ("01:00", "05:00"), days=range(6, 7))
    assert business_seconds(early, spring, spring + timedelta(days=1)) == 3 * H
    assert business_seconds(early, autumn, autumn + timedelta(days=1)) == 5 * H
    assert add_business_seconds(early, spring, 3 * H) == _at(SYDNEY, 2026, 10, 4, 5, 0)


def test_new_york_dst_office_day_keeps_local_hours() -> None:
    schedule = _weekdays("America/New_York", ("09:00", "17:00"), days=range(7))
    # Sunday 8 March 2026 the clocks go forward: 09:00 EDT is 13:00 UTC, a day earlier 14:00.
    before, after = _at(NEW_YORK, 2026, 3, 7, 9, 0), _at(NEW_YORK, 2026, 3, 8, 9, 0)
    assert before.hour == 14
    assert after.hour == 13
    assert add_business_seconds(schedule, before, 8 * H + 60) == after + timedelta(minutes=1)
    # The night of 1 November (back) is 25 h; the hours worked are still 8 a day.
    assert (
        business_seconds(
            schedule, _at(NEW_YORK, 2026, 10, 31, 0, 0), _at(NEW_YORK, 2026, 11, 3, 0, 0)
        )
        == 24 * H
    )
    allday = _weekdays("America/New_York", ("00:00", "00:00"), days=range(7))
    assert (
        business_seconds(allday, _at(NEW_YORK, 2026, 11, 1, 0, 0), _at(NEW_YORK, 2026, 11, 2, 0, 0))
        == 25 * H
    )
    assert (
        business_seconds(allday, _at(NEW_YORK, 2026, 3, 8, 0, 0), _at(NEW_YORK, 2026, 3, 9, 0, 0))
        == 23 * H
    )


SCHEDULES = {
    "office": OFFICE,
    "split-ny": _weekdays("America/New_York", ("08:00", "12:00"), ("13:00", "17:30")),
    "night-sydney": _weekdays("Australia/Sydney", ("22:00", "06:00"), days=range(0, 7, 2)),
    "allday-sydney": _weekdays("Australia/Sydney", ("00:00", "00:00"), days=range(7)),
    "holidays-ny": _weekdays(
        "America/New_York",
        ("07:00", "19:00"),
        days=range(6),
        holidays=[
            {"date": "2026-03-09", "name": "off"},
            {"date": "2026-11-02", "name": "half", "start": "07:00", "end": "12:00"},
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_property_the_deadline_is_exactly_that_much_business_time_away(name: str) -> None:
    schedule = SCHEDULES[name]
    rng = random.Random(name)
    # Starts spread over the year, the DST changes of both hemispheres included.
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(150):
        start = base + timedelta(seconds=rng.randrange(0, 365 * 86400))
        seconds = rng.choice([1.0, 59.5, H, 2 * H, 7.5 * H, 40 * H, rng.uniform(0, 100 * H)])
        deadline = add_business_seconds(schedule, start, seconds)
        assert deadline >= start
        assert business_seconds(schedule, start, deadline) == pytest.approx(seconds, abs=1e-5)
        # Additivity: splitting a span at any point adds up.
        middle = start + (deadline - start) * rng.random()
        split = business_seconds(schedule, start, middle) + business_seconds(
            schedule, middle, deadline
        )
        assert split == pytest.approx(seconds, abs=1e-5)
        # Never more business time than calendar time.
        assert seconds <= (deadline - start).total_seconds() + 1e-6


def test_validation_names_each_bad_field() -> None:
    problems = validate(
        "Mars/Olympus",
        [
            {"weekday": 7, "start": "09:00", "end": "17:00"},
            {"weekday": 0, "start": "9am", "end": "17:00"},
            {"weekday": 1, "start": "09:00", "end": "24:00"},
        ],
        [
            {"date": "2026-13-01", "name": "x"},
            {"date": "2026-12-24", "start": "14:00", "end": "12:00"},
        ],
    )
    fields = {p["field"] for p in problems}
    assert fields == {
        "timezone",
        "intervals.0.weekday",
        "intervals.1.start",
        "intervals.2.end",
        "holidays.0.date",
        "holidays.1.end",
    }


def test_validation_refuses_overlaps_including_overnight_and_across_the_week() -> None:
    overlapping = validate(
        "UTC",
        [
            {"weekday": 0, "start": "09:00", "end": "12:00"},
            {"weekday": 0, "start": "11:00", "end": "13:00"},
        ],
        [],
    )
    assert overlapping == [{"field": "intervals.1", "reason": "overlaps interval 0"}]
    overnight = validate(
        "UTC",
        [
            {"weekday": 6, "start": "22:00", "end": "06:00"},
            {"weekday": 0, "start": "05:00", "end": "09:00"},
        ],
        [],
    )
    assert [p["field"] for p in overnight] == ["intervals.1"]
    touching = validate(
        "UTC",
        [
            {"weekday": 0, "start": "08:00", "end": "12:00"},
            {"weekday": 0, "start": "12:00", "end": "16:00"},
        ],
        [],
    )
    assert touching == []
    assert [p["field"] for p in validate("UTC", [], [])] == ["intervals"]


def test_a_schedule_without_working_time_ahead_has_no_deadline() -> None:
    everything_off = Schedule.from_json(
        "UTC",
        [{"weekday": 0, "start": "09:00", "end": "10:00"}],
        [
            {"date": f"2026-{m:02d}-{d:02d}", "name": "x"}
            for m in range(1, 13)
            for d in range(1, 29)
        ],
    )
    # The holidays cover every Monday's first 28 days of each month; the deadline lands
    # on the first Monday the 29th or later.
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert add_business_seconds(everything_off, start, 1800) == datetime(
        2026, 3, 30, 9, 30, tzinfo=UTC
    )
    nothing = Schedule("UTC", ())
    with pytest.raises(ValueError, match="no working time"):
        add_business_seconds(nothing, start, 1)
