"""Times, durations and numbers as the console writes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from carebase.web import format as fmt

SYDNEY = fmt.Viewer(ZoneInfo("Australia/Sydney"))
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 23:00 in Sydney (AEDT, UTC+11)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 11, 23, 3, 5, tzinfo=UTC), "14:05"),
        (datetime(2026, 11, 22, 3, 5, tzinfo=UTC), "Yesterday, 14:05"),
        (datetime(2026, 11, 13, 13, 30, tzinfo=UTC), "14 Nov, 00:30"),
        (datetime(2025, 6, 1, 0, 0, tzinfo=UTC), "1 Jun 2025"),
    ],
)
def test_short_time_is_in_the_viewers_zone(moment: datetime, expected: str) -> None:
    assert fmt.short_time(moment, SYDNEY, NOW) == expected


def test_today_is_the_viewers_today() -> None:
    # 13:00 UTC on the 22nd is already the 23rd in Sydney.
    assert fmt.short_time(datetime(2026, 11, 22, 13, 0, tzinfo=UTC), SYDNEY, NOW) == "00:00"
    assert fmt.short_time(datetime(2026, 11, 22, 13, 0, tzinfo=UTC), fmt.Viewer(), NOW) == (
        "Yesterday, 13:00"
    )


def test_absolute_time_names_the_zone_and_offset() -> None:
    moment = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert fmt.absolute_time(moment, SYDNEY) == "Monday 23 November 2026, 23:00:00 AEDT (UTC+11:00)"
    assert fmt.absolute_time(moment, fmt.Viewer()) == "Monday 23 November 2026, 12:00:00 UTC+00:00"
    kolkata = fmt.Viewer(ZoneInfo("Asia/Kolkata"))
    assert fmt.absolute_time(moment, kolkata).endswith("17:30:00 IST (UTC+05:30)")


def test_time_element_has_the_instant_and_the_absolute_time_on_hover() -> None:
    html = fmt.time_element(datetime(2026, 11, 23, 3, 5, tzinfo=UTC), SYDNEY, NOW)
    assert html == (
        '<time datetime="2026-11-23T03:05:00Z" '
        'title="Monday 23 November 2026, 14:05:00 AEDT (UTC+11:00)">14:05</time>'
    )
    assert fmt.time_element(None, SYDNEY, NOW) == "&mdash;"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        fmt.short_time(datetime(2026, 1, 1), SYDNEY, NOW)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0 s"),
        (45.9, "45 s"),
        (60, "1 min"),
        (59 * 60 + 59, "59 min"),
        (3600, "1 h"),
        (3 * 3600 + 20 * 60, "3 h 20 min"),
        (24 * 3600, "1 day"),
        (2 * 86400 + 4 * 3600 + 59, "2 days 4 h"),
        (12 * 86400 + 5 * 3600, "12 days"),
        (-90, "-1 min"),
        (None, "\u2014"),
    ],
)
def test_durations_in_the_unit_people_use(seconds: float | None, expected: str) -> None:
    assert fmt.duration(seconds) == expected


def test_durations_take_timedeltas() -> None:
    assert fmt.duration(timedelta(hours=5, minutes=3)) == "5 h 3 min"


@pytest.mark.parametrize(
    ("locale", "digits", "expected"),
    [
        ("en", 0, "1,234,568"),
        ("en-AU", 1, "1,234,567.9"),
        ("de", 1, "1.234.567,9"),
        ("de_CH", 2, "1\u2019234\u2019567.89"),
        ("fr-FR", 0, "1\u202f234\u202f568"),
        ("sv", 1, "1\u00a0234\u00a0567,9"),
        ("xx", 0, "1,234,568"),
    ],
)
def test_numbers_in_the_viewers_locale(locale: str, digits: int, expected: str) -> None:
    assert fmt.number(1234567.891, fmt.Viewer(locale=locale), digits) == expected


def test_no_number_is_a_dash() -> None:
    assert fmt.number(None, fmt.Viewer()) == "\u2014"
