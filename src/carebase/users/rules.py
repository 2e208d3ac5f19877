"""Pure rules of the users domain: emails, time zones, the Activity API's number and time
formats. No I/O."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime
from functools import lru_cache

MAX_EMAIL_LENGTH = 320
# A pragmatic shape: something@domain.tld; no spaces, angle brackets, double quotes or
# other separators in the local part (an apostrophe is fine: o'brien@…).
_EMAIL = re.compile(
    r"^[^\s\x00-\x1f\x7f@<>\",;:()\[\]\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.[A-Za-z]{2,63}$"
)
DEFAULT_TIMEZONE = "UTC"


def normalise_email(raw: str) -> str | None:
    """The email trimmed and lower-cased, or None when it is not an email address."""
    value = raw.strip().lower()
    if len(value) > MAX_EMAIL_LENGTH or ".." in value or not _EMAIL.match(value):
        return None
    return value


@lru_cache(maxsize=1)
def _zones_by_folded_name() -> dict[str, str]:
    zones = zoneinfo.available_timezones() | {DEFAULT_TIMEZONE}
    return {name.casefold(): name for name in zones}


def canonical_timezone(raw: str) -> str | None:
    """The IANA zone name as the tz database spells it (`australia/sydney` →
    `Australia/Sydney`), or None when it names no zone."""
    name = _zones_by_folded_name().get(raw.strip().casefold())
    if name is None:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
    return name


def gmtoffset(timezone: str, now: datetime) -> int | float:
    """The zone's offset from UTC at `now`, in hours: an int when whole (10, -3), else a
    float (5.5, 5.75, -9.5). Daylight saving follows the date: Sydney is 11 in summer."""
    try:
        zone = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return 0
    offset = now.astimezone(zone).utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    if seconds % 3600 == 0:
        return seconds // 3600
    return round(seconds / 3600, 4)


def activity_time(value: datetime | None) -> str | None:
    """`2018-03-21T06:09:01Z` (UTC, whole seconds), as the Activity API writes times."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def clean_name(raw: str) -> str:
    """A name with its surrounding and repeated whitespace removed."""
    return " ".join(raw.split())
