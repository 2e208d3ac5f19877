"""Schedules: validation names the field at fault; fire times follow local wall time across
daylight-saving changes (Sydney and New York), firing once on the days clocks move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from carebase.activation.schedule import next_fire, validate_schedule
from carebase.errors import ValidationFailed

SYDNEY = ZoneInfo("Australia/Sydney")
NEW_YORK = ZoneInfo("America/New_York")


def fires(cron: str, timezone: str, start: datetime, until: datetime) -> list[datetime]:
    """Every fire time in (start, until], following next_fire from one to the next."""
    out: list[datetime] = []
    moment = start
    while True:
        moment = next_fire(cron, timezone, moment)
        if moment > until:
            return out
        out.append(moment)


def field_of(error: ValidationFailed) -> str:
    details = error.details
    assert isinstance(details, list)
    return str(details[0]["field"])


@pytest.mark.parametrize(
    ("cron", "timezone"),
    [
        ("0 6 * * *", "Australia/Sydney"),
        ("*/5 * * * *", "UTC"),
        ("* * * * *", "America/New_York"),
        ("30 2 * * mon-fri", "Europe/London"),
        ("  0   6 * * *  ", "UTC"),
    ],
)
def test_valid_schedules_pass(cron: str, timezone: str) -> None:
    validate_schedule(cron, timezone)


@pytest.mark.parametrize(
    ("cron", "timezone", "field"),
    [
        ("", "UTC", "schedule.cron"),
        ("0 6 * *", "UTC", "schedule.cron"),
        ("0 0 6 * * *", "UTC", "schedule.cron"),  # seconds field: refused
        ("@daily", "UTC", "schedule.cron"),
        ("61 * * * *", "UTC", "schedule.cron"),
        ("0 25 * * *", "UTC", "schedule.cron"),
        ("0 0 30 2 *", "UTC", "schedule.cron"),  # never fires
        ("x" * 200, "UTC", "schedule.cron"),
        ("0 6 * * *", "Mars/Olympus", "schedule.timezone"),
        ("0 6 * * *", "", "schedule.timezone"),
        ("0 6 * * *", "../../etc/passwd", "schedule.timezone"),
        ("0 6 * * *", "A" * 100, "schedule.timezone"),
    ],
)
def test_invalid_schedules_name_the_field(cron: str, timezone: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_schedule(cron, timezone)
    assert field_of(caught.value) == field


def test_next_fire_is_strictly_after_and_utc() -> None:
    at = datetime(2026, 1, 10, 6, 0, tzinfo=UTC)
    fire = next_fire("0 6 * * *", "UTC", at)
    assert fire == datetime(2026, 1, 11, 6, 0, tzinfo=UTC)
    assert fire.tzinfo is UTC
    # A non-UTC aware `after` is read as the same instant.
    local = at.astimezone(SYDNEY)
    assert next_fire("0 6 * * *", "UTC", local) == fire
    with pytest.raises(ValueError, match="aware"):
        next_fire("0 6 * * *", "UTC", datetime(2026, 1, 1))


def test_daily_job_keeps_local_time_across_sydney_changes() -> None:
    # Sydney: AEST (+10) until 2025-10-05 02:00, then AEDT (+11).
    start = datetime(2025, 10, 1, tzinfo=UTC)
    times = fires("0 6 * * *", "Australia/Sydney", start, start + timedelta(days=8))
    local = [t.astimezone(SYDNEY) for t in times]
    assert all((t.hour, t.minute) == (6, 0) for t in local)
    assert len({t.date() for t in local}) == len(local) == 8
    offsets = {t.utcoffset() for t in local}
    assert offsets == {timedelta(hours=10), timedelta(hours=11)}


def test_skipped_wall_time_fires_once_on_sydney_spring_forward() -> None:
    # 2025-10-05: 02:00 AEST jumps to 03:00 AEDT; 02:30 does not exist that day.
    start = datetime(2025, 10, 3, 12, tzinfo=UTC)
    times = fires("30 2 * * *", "Australia/Sydney", start, start + timedelta(days=4))
    local = [t.astimezone(SYDNEY) for t in times]
    by_day: dict[object, list[datetime]] = {}
    for t in local:
        by_day.setdefault(t.date(), []).append(t)
    assert [len(v) for v in by_day.values()] == [1, 1, 1, 1]
    change_day = by_day[datetime(2025, 10, 5).date()][0]
    # Moved past the gap: 02:30 standard time is 03:30 daylight time.
    assert (change_day.hour, change_day.minute) == (3, 30)
    assert change_day.astimezone(UTC) == datetime(2025, 10, 4, 16, 30, tzinfo=UTC)


def test_repeated_wall_time_fires_once_on_sydney_fall_back() -> None:
    # 2025-04-06: 03:00 AEDT falls back to 02:00 AEST; 02:30 happens twice.
    start = datetime(2025, 4, 4, 12, tzinfo=UTC)
    times = fires("30 2 * * *", "Australia/Sydney", start, start + timedelta(days=3))
    assert [t.astimezone(SYDNEY).day for t in times] == [5, 6, 7]
    change_day = times[1]
    # The first occurrence, still daylight time (+11).
    assert change_day == datetime(2025, 4, 5, 15, 30, tzinfo=UTC)


def test_new_york_spring_forward_and_fall_back() -> None:
    # 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
    spring = fires(
        "30 2 * * *",
        "America/New_York",
        datetime(2026, 3, 7, 12, tzinfo=UTC),
        datetime(2026, 3, 9, 12, tzinfo=UTC),
    )
    assert [t.astimezone(NEW_YORK).strftime("%d %H:%M") for t in spring] == [
        "08 03:30",
        "09 02:30",
    ]
    autumn = fires(
        "30 1 * * *",
        "America/New_York",
        datetime(2026, 10, 31, 12, tzinfo=UTC),
        datetime(2026, 11, 2, 12, tzinfo=UTC),
    )
    # 01:30 happens twice on 1 November: one fire, at the first (EDT, 05:30 UTC).
    assert autumn == [
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        datetime(2026, 11, 2, 6, 30, tzinfo=UTC),
    ]


def test_half_hourly_job_in_new_york_never_goes_back_or_repeats() -> None:
    # Across both changes, every fire is later than the last and at least 30 minutes on.
    for start in (datetime(2026, 3, 8, 4, tzinfo=UTC), datetime(2026, 11, 1, 3, tzinfo=UTC)):
        times = fires("*/30 * * * *", "America/New_York", start, start + timedelta(hours=6))
        gaps = [b - a for a, b in pairwise(times)]
        assert all(gap >= timedelta(minutes=30) for gap in gaps)
        assert len(set(times)) == len(times)
        assert all(t.astimezone(NEW_YORK).minute in (0, 30) for t in times)


def test_weekday_job_skips_weekends() -> None:
    start = datetime(2026, 1, 2, 0, tzinfo=UTC)  # a Friday
    times = fires("0 9 * * mon-fri", "UTC", start, start + timedelta(days=7))
    assert [t.weekday() for t in times] == [4, 0, 1, 2, 3]
