"""Orchestration schedules: a five-field cron expression read in an IANA time zone.

Fire times are computed in the zone's local wall time, then turned into UTC, so a daily
06:00 job fires at 06:00 local on both sides of a daylight-saving change. Two rules settle
the wall times a change makes odd:

- a time that does not exist (skipped when clocks spring forward, e.g. 02:30) fires once,
  at the same distance past the change (02:30 standard time, i.e. 03:30 daylight time);
- a time that happens twice (repeated when clocks fall back) fires once, at its first
  occurrence.

Any five-field expression croniter 7 reads is accepted, down to every minute (cron's own
resolution): one run of an orchestration at a time is enforced elsewhere, so a tick that
comes while a run is still going does not pile up a second one. Six- and seven-field
expressions (seconds, years) and `@daily`-style nicknames are refused, to keep one meaning.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

from carebase.errors import ValidationFailed

# Longest a wall time can be moved by a daylight-saving change is 2 hours (Antarctica/Troll);
# candidates this far past the first good one are compared, as a moved time may come first.
_SHIFT_HORIZON = timedelta(hours=3)
# A reference instant to check that an expression fires at all ("0 0 30 2 *" never does).
_REFERENCE = datetime(2024, 1, 1, tzinfo=UTC)
MAX_CRON_LENGTH = 120
MAX_TIMEZONE_LENGTH = 64


def _zone(timezone: str) -> ZoneInfo:
    """The IANA zone named `timezone`, or ValidationFailed on schedule.timezone."""
    if not timezone or len(timezone) > MAX_TIMEZONE_LENGTH:
        raise ValidationFailed.on("schedule.timezone", "must be an IANA time zone name")
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationFailed.on(
            "schedule.timezone",
            "is not a known IANA time zone (e.g. Australia/Sydney, UTC)",
        ) from None


def _check_cron(cron: str) -> None:
    """ValidationFailed on schedule.cron unless `cron` is a five-field expression."""
    if not cron or len(cron) > MAX_CRON_LENGTH:
        raise ValidationFailed.on(
            "schedule.cron", f"must be a cron expression of at most {MAX_CRON_LENGTH} characters"
        )
    fields = cron.split()
    if len(fields) != 5:
        raise ValidationFailed.on(
            "schedule.cron",
            "must have five fields: minute hour day-of-month month day-of-week",
        )
    if not croniter.is_valid(" ".join(fields)):
        raise ValidationFailed.on("schedule.cron", "is not a valid cron expression")


def validate_schedule(cron: str, timezone: str) -> None:
    """Refuse a schedule that is not a five-field cron expression in a known IANA zone, or
    that never fires; ValidationFailed naming schedule.cron or schedule.timezone."""
    _check_cron(cron)
    _zone(timezone)
    try:
        next_fire(cron, timezone, _REFERENCE)
    except CroniterBadDateError:
        raise ValidationFailed.on("schedule.cron", "never fires") from None


def next_fire(cron: str, timezone: str, after: datetime) -> datetime:
    """The first fire time strictly after `after` (aware), as an aware UTC datetime,
    computed in the zone's wall time (see the module docstring for DST days)."""
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    zone = ZoneInfo(timezone)
    after_utc = after.astimezone(UTC)
    # Start well before `after` in wall time: the wall clock may have just fallen back.
    start = after_utc.astimezone(zone).replace(tzinfo=None) - _SHIFT_HORIZON
    candidates = croniter(" ".join(cron.split()), start)
    best: datetime | None = None
    horizon: datetime | None = None
    while True:
        wall: datetime = candidates.get_next(datetime)
        if horizon is not None and wall > horizon:
            break
        # fold=0: a repeated wall time means its first occurrence; a skipped one is read
        # with the offset before the change, i.e. moved past the gap.
        instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
        if instant > after_utc:
            if best is None or instant < best:
                best = instant
            if horizon is None:
                horizon = wall + _SHIFT_HORIZON
    assert best is not None  # the loop ends only after a candidate was found
    return best
