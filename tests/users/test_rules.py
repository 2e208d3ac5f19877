"""The users domain's pure rules: emails, time zones, gmtoffset and the Activity API's times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from carebase.users import rules

SUMMER_SOUTH = datetime(2026, 1, 15, 12, tzinfo=UTC)
WINTER_SOUTH = datetime(2026, 7, 15, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "january", "july"),
    [
        ("Australia/Sydney", 11, 10),
        ("Asia/Kolkata", 5.5, 5.5),
        ("UTC", 0, 0),
        ("Asia/Kathmandu", 5.75, 5.75),
        ("America/St_Johns", -3.5, -2.5),
        ("America/New_York", -5, -4),
        ("Australia/Adelaide", 10.5, 9.5),
        ("Pacific/Kiritimati", 14, 14),
    ],
)
def test_gmtoffset(zone: str, january: float, july: float) -> None:
    assert rules.gmtoffset(zone, SUMMER_SOUTH) == january
    assert rules.gmtoffset(zone, WINTER_SOUTH) == july
    assert isinstance(rules.gmtoffset(zone, SUMMER_SOUTH), int) == (january == int(january))


def test_gmtoffset_changes_at_the_transition() -> None:
    # Sydney leaves daylight saving at 3 am local on the first Sunday of April 2026 (16:00 UTC).
    change = datetime(2026, 4, 4, 16, tzinfo=UTC)
    assert rules.gmtoffset("Australia/Sydney", change - timedelta(seconds=1)) == 11
    assert rules.gmtoffset("Australia/Sydney", change) == 10


def test_an_unknown_zone_reads_as_utc() -> None:
    assert rules.gmtoffset("Mars/Olympus_Mons", SUMMER_SOUTH) == 0


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("Australia/Sydney", "Australia/Sydney"),
        (" australia/sydney ", "Australia/Sydney"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("Etc/GMT-10", "Etc/GMT-10"),
        ("Mars/Olympus_Mons", None),
        ("../../etc/passwd", None),
        ("/etc/localtime", None),
        ("", None),
        ("Australia/Sydney\x00", None),
    ],
)
def test_canonical_timezone(raw: str, canonical: str | None) -> None:
    assert rules.canonical_timezone(raw) == canonical


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Jane@Business.IO", "jane@business.io"),
        ("  Jane.O'Brien@business.io ", "jane.o'brien@business.io"),
        ('"jane"@business.io', None),
        ("ja\x00ne@business.io", None),
        ("ja\x7fne@business.io", None),
        ("jane+care@mail.business.com.au", "jane+care@mail.business.com.au"),
        ("jane", None),
        ("jane@localhost", None),
        ("jane@@business.io", None),
        ("jane@business..io", None),
        ("jane doe@business.io", None),
        ("<jane@business.io>", None),
        ("a" * 65 + "@business.io", None),
        ("a" * 64 + "@business.io", "a" * 64 + "@business.io"),
    ],
)
def test_normalise_email(raw: str, normalised: str | None) -> None:
    assert rules.normalise_email(raw) == normalised


def test_activity_time() -> None:
    assert rules.activity_time(None) is None
    assert rules.activity_time(datetime(2018, 3, 21, 6, 9, 1, 999_999, tzinfo=UTC)) == (
        "2018-03-21T06:09:01Z"
    )
    sydney = timezone(timedelta(hours=11))
    assert rules.activity_time(datetime(2018, 3, 21, 17, 9, 1, tzinfo=sydney)) == (
        "2018-03-21T06:09:01Z"
    )


def test_clean_name() -> None:
    assert rules.clean_name("  Social \t Customer\nCare ") == "Social Customer Care"
