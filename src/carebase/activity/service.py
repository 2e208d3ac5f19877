"""Reading a report request into a `ReportQuery`, with the reference's errors, and running it.

The checks, in the reference's order of importance: the type exists ("Invalid report -
invalid type"), the dates read, the range is at most 12 months ("… date range is too long")
and starts in the past ("… starting date is a future date"). Everything refused is a 400 in
carebase's error shape, naming the field.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from carebase.activity import repository
from carebase.activity.catalog import report_types
from carebase.activity.registry import NPS_CATEGORIES, ReportQuery, ReportType
from carebase.activity.schemas import ReportRequest
from carebase.activity.timebuckets import Window
from carebase.errors import InvalidReport

TOO_LONG = "Invalid report - date range is too long"
FUTURE_START = "Invalid report - starting date is a future date"
INVALID_TYPE = "Invalid report - invalid type"
MAX_MONTHS = 12


def zone_named(name: str, field: str = "time_zone") -> ZoneInfo:
    """The IANA zone `name`, or a 400 naming the field."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidReport.on(field, "is not an IANA time zone (e.g. Australia/Sydney)") from None


def read_instant(text: str, field: str, zone: ZoneInfo, *, end_of_day: bool) -> datetime:
    """An ISO 8601 date-time (an offset, or else `zone`) or a bare date (its midnight, or
    with `end_of_day` its last microsecond)."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            moment = time.max if end_of_day else time.min
            return datetime.combine(day, moment, zone)
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidReport.on(
            field, "must be an ISO 8601 date-time such as 2018-04-01T00:00:00+11:00"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def add_months(instant: datetime, months: int) -> datetime:
    """The same wall time `months` later (the 31st becomes the month's last day)."""
    month = instant.month - 1 + months
    year, month = instant.year + month // 12, month % 12 + 1
    day = min(instant.day, calendar.monthrange(year, month)[1])
    return instant.replace(year=year, month=month, day=day)


def build_query(
    request: ReportRequest,
    *,
    default_zone: str,
    now: datetime,
    dialect: str,
    requested_by: str | None = None,
    base_url: str = "",
) -> tuple[ReportType, ReportQuery]:
    """The report type and validated query a request asks for, or an InvalidReport (400)."""
    kind = report_types().get(request.type)
    if kind is None:
        raise InvalidReport(INVALID_TYPE, details=[{"field": "type", "reason": "invalid_type"}])
    zone = zone_named(request.time_zone) if request.time_zone else ZoneInfo(default_zone)
    date_from = read_instant(request.date_from, "date_from", zone, end_of_day=False)
    date_to = read_instant(request.date_to, "date_to", zone, end_of_day=True)
    if date_to < date_from:
        raise InvalidReport.on("date_to", "must not be before date_from")
    if date_to > add_months(date_from, MAX_MONTHS) + timedelta(seconds=1):
        # One second of grace: 2018-04-01T00:00:00 to 2019-03-31T23:59:59 is 12 months,
        # and so is ending at 2019-04-01T00:00:00.
        raise InvalidReport(
            TOO_LONG, details=[{"field": "date_to", "reason": "date_range_too_long"}]
        )
    if date_from > now:
        raise InvalidReport(FUTURE_START, details=[{"field": "date_from", "reason": "future_date"}])
    category = (request.nps_category or "all").strip().lower()
    if category not in NPS_CATEGORIES:
        raise InvalidReport.on("nps_category", f"must be one of {', '.join(NPS_CATEGORIES)}")
    if kind.needs_form and request.form is None:
        raise InvalidReport.on("form", f"is required for {kind.name} (an NPS form's id)")
    query = ReportQuery(
        window=Window(date_from, date_to, zone),
        users=_ids(request.users),
        groups=_ids(request.groups),
        classifications=_ids(request.classifications),
        form=request.form,
        nps_category=category,
        now=now,
        dialect=dialect,
        requested_by=requested_by,
        base_url=base_url,
    )
    return kind, query


def _ids(values: list[int] | None) -> tuple[int, ...] | None:
    return None if values is None else tuple(sorted(set(values)))


def run(session: Session, kind: ReportType, query: ReportQuery) -> Any:
    """The report's JSON-ready answer."""
    repository.plan_for_reports(session)
    return kind.run(session, query)
