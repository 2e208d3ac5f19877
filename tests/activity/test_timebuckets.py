"""Report windows and their buckets (pure): local midnights and hours across the DST changes
of Australia/Sydney and America/New_York, zones at +05:45 and +10:30, the hourly/daily
switch at 4 days, and which bucket an edge instant falls in."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from carebase.activity.timebuckets import Window, slot_start, utc_text

SYDNEY = ZoneInfo("Australia/Sydney")
NEW_YORK = ZoneInfo("America/New_York")
KATHMANDU = ZoneInfo("Asia/Kathmandu")
ADELAIDE = ZoneInfo("Australia/Adelaide")
UTC_ZONE = ZoneInfo("UTC")
HOUR = timedelta(hours=1)


def days(zone: ZoneInfo, first: str, last: str) -> Window:
    """The window of whole local days first..last (as the API reads bare dates)."""
    start = datetime.combine(datetime.fromisoformat(first).date(), time.min, zone)
    end = datetime.combine(datetime.fromisoformat(last).date(), time.max, zone)
    return Window(start, end, zone)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def lengths(window: Window) -> dict[str, timedelta]:
    return {b.label: b.end - b.start for b in window.buckets()}


@pytest.mark.parametrize(
    ("zone", "day", "midnight_utc", "hours"),
    [
        # Sydney: back from +11 to +10 on Sunday 5 April 2026, forward on 4 October.
        (SYDNEY, "2026-04-05", "2026-04-04 13:00", 25),
        (SYDNEY, "2026-10-04", "2026-10-03 14:00", 23),
        # New York: forward from -5 to -4 on 8 March 2026, back on 1 November.
        (NEW_YORK, "2026-03-08", "2026-03-08 05:00", 23),
        (NEW_YORK, "2026-11-01", "2026-11-01 04:00", 25),
    ],
)
def test_a_day_of_a_dst_change_is_one_bucket(
    zone: ZoneInfo, day: str, midnight_utc: str, hours: int
) -> None:
    target = datetime.fromisoformat(day).date()
    window = days(zone, str(target - timedelta(days=3)), str(target + timedelta(days=3)))
    assert not window.hourly
    buckets = window.buckets()
    assert len(buckets) == 7
    found = lengths(window)
    assert found[f"{day} 00:00"] == timedelta(hours=hours)
    assert [v for k, v in found.items() if k != f"{day} 00:00"] == [timedelta(hours=24)] * 6
    the_day = buckets[3]
    assert the_day.start == utc(midnight_utc)
    assert the_day.date_range() == {
        "date_from": f"{day} 00:00",
        "date_from_utc": utc_text(utc(midnight_utc)),
    }
    # Contiguous: each bucket ends where the next starts.
    assert all(a.end == b.start for a, b in pairwise(buckets))
    assert buckets[0].start == window.utc_from
    # The instant before the change's midnight is the previous day; the day's last
    # microsecond is the day.
    assert window.index(the_day.start - timedelta(microseconds=1)) == 2
    assert window.index(the_day.start) == 3
    assert window.index(the_day.end - timedelta(microseconds=1)) == 3


def test_new_york_autumn_repeats_an_hour_in_hourly_buckets() -> None:
    window = days(NEW_YORK, "2026-11-01", "2026-11-01")
    assert window.hourly
    buckets = window.buckets()
    assert len(buckets) == 25
    labels = [b.label for b in buckets]
    assert labels.count("2026-11-01 01:00") == 2
    repeated = [b for b in buckets if b.label == "2026-11-01 01:00"]
    assert [b.start for b in repeated] == [utc("2026-11-01 05:00"), utc("2026-11-01 06:00")]
    assert all(b.end - b.start == HOUR for b in buckets)
    assert window.index(utc("2026-11-01 06:30")) == labels.index("2026-11-01 01:00") + 1


def test_new_york_spring_skips_an_hour_in_hourly_buckets() -> None:
    window = days(NEW_YORK, "2026-03-08", "2026-03-08")
    labels = [b.label for b in window.buckets()]
    assert len(labels) == 23
    assert "2026-03-08 02:00" not in labels
    at = labels.index("2026-03-08 01:00")
    assert labels[at + 1] == "2026-03-08 03:00"
    assert window.buckets()[at + 1].start == utc("2026-03-08 07:00")


def test_sydney_hours_across_both_changes() -> None:
    autumn = days(SYDNEY, "2026-04-05", "2026-04-05")
    labels = [b.label for b in autumn.buckets()]
    assert len(labels) == 25
    assert labels.count("2026-04-05 02:00") == 2
    spring = days(SYDNEY, "2026-10-04", "2026-10-04")
    labels = [b.label for b in spring.buckets()]
    assert len(labels) == 23
    assert "2026-10-04 02:00" not in labels


@pytest.mark.parametrize(
    ("zone", "day", "midnight_utc"),
    [
        (KATHMANDU, "2026-03-10", "2026-03-09 18:15"),  # +05:45
        (ADELAIDE, "2026-01-10", "2026-01-09 13:30"),  # +10:30 in summer
        (ADELAIDE, "2026-07-10", "2026-07-09 14:30"),  # +09:30 in winter
    ],
)
def test_midnights_of_zones_off_the_hour(zone: ZoneInfo, day: str, midnight_utc: str) -> None:
    target = datetime.fromisoformat(day).date()
    daily = days(zone, day, str(target + timedelta(days=5)))
    first = daily.buckets()[0]
    assert first.start == utc(midnight_utc)
    assert first.label == f"{day} 00:00"
    assert all(b.end - b.start == timedelta(days=1) for b in daily.buckets())
    hourly = days(zone, day, day)
    assert [b.start for b in hourly.buckets()] == [utc(midnight_utc) + n * HOUR for n in range(24)]
    assert hourly.buckets()[5].label == f"{day} 05:00"
    # A slot (15 minutes, UTC) starting at the local midnight is that day's.
    assert daily.index(slot_start(midnight_utc)) == 0
    assert daily.index(slot_start(midnight_utc) - timedelta(minutes=15)) is None


def test_hourly_below_four_days_daily_from_four() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    just_under = Window(start, start + timedelta(days=4, microseconds=-1), UTC_ZONE)
    assert just_under.hourly
    assert len(just_under.buckets()) == 96
    exactly = Window(start, start + timedelta(days=4), UTC_ZONE)
    assert not exactly.hourly
    # Inclusive end: the instant 4 days later opens a fifth day.
    assert [b.label for b in exactly.buckets()][-1] == "2026-03-05 00:00"
    assert len(exactly.buckets()) == 5
    assert days(UTC_ZONE, "2026-03-01", "2026-03-04").hourly
    assert not days(UTC_ZONE, "2026-03-01", "2026-03-05").hourly


def test_index_of_edge_instants() -> None:
    window = days(SYDNEY, "2026-04-03", "2026-04-09")
    buckets = window.buckets()
    assert window.index(buckets[0].start) == 0
    assert window.index(buckets[0].start - timedelta(microseconds=1)) is None
    assert window.index(window.utc_to) == len(buckets) - 1
    assert window.index(buckets[-1].end) is None
    assert window.index(buckets[-1].end - timedelta(microseconds=1)) == len(buckets) - 1
    for n, bucket in enumerate(buckets):
        assert window.index(bucket.start) == n
        assert window.index(bucket.end - timedelta(microseconds=1)) == n


def test_a_window_starting_mid_day_still_buckets_whole_local_days() -> None:
    window = Window(
        datetime(2026, 3, 2, 15, 30, tzinfo=NEW_YORK),
        datetime(2026, 3, 9, 8, 0, tzinfo=NEW_YORK),
        NEW_YORK,
    )
    buckets = window.buckets()
    assert buckets[0].label == "2026-03-02 00:00"
    assert buckets[-1].label == "2026-03-09 00:00"
    assert window.index(window.utc_from) == 0


def test_slot_start_reads_both_engines_values() -> None:
    assert slot_start("2026-03-08 06:45") == utc("2026-03-08 06:45")
    assert slot_start(utc("2026-03-08 06:45")) == utc("2026-03-08 06:45")
    assert slot_start(datetime(2026, 3, 8, 6, 45)) == utc("2026-03-08 06:45")
