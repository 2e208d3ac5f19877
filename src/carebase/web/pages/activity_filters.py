"""The Activity dashboard's filters: read from the query string (`from`, `to`, `users`,
`groups`, `form`), defaulted (the last 30 days in the report zone), and turned into report
requests for the registry. A bad value is a message for the page, never an exception."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from carebase.activity import service
from carebase.activity.catalog import report_types
from carebase.activity.schemas import ReportRequest
from carebase.activity.timebuckets import Window
from carebase.errors import CarebaseError

# Caps on what a query string may ask for (a page, not a bulk API).
MAX_IDS = 200
MAX_TEXT = 40
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Filters:
    """What the dashboard shows: an inclusive day range in the report zone and the people."""

    date_from: date
    date_to: date
    users: tuple[int, ...] = ()
    groups: tuple[int, ...] = ()
    form: int | None = None
    # Messages about values that could not be read (shown above the reports).
    problems: tuple[str, ...] = field(default=())

    def pairs(self, *, with_form: bool = True) -> list[tuple[str, str]]:
        """The query-string pairs that reproduce these filters."""
        pairs = [("from", self.date_from.isoformat()), ("to", self.date_to.isoformat())]
        pairs += [("users", str(u)) for u in self.users]
        pairs += [("groups", str(g)) for g in self.groups]
        if with_form and self.form is not None:
            pairs.append(("form", str(self.form)))
        return pairs

    def query(self, **changes: Any) -> str:
        """The query string, with `from`/`to` replaced by `changes` when given."""
        pairs = [(k, v) for k, v in self.pairs() if k not in changes]
        pairs = [(k, str(v)) for k, v in changes.items()] + pairs
        return urlencode(pairs)

    def request(self, report: str, *, with_form: bool = False) -> ReportRequest:
        """The registry's request for one report type over these filters."""
        return ReportRequest(
            type=report,
            date_from=self.date_from.isoformat(),
            date_to=self.date_to.isoformat(),
            users=list(self.users) or None,
            groups=list(self.groups) or None,
            form=self.form if with_form else None,
        )


def today_in(zone: str, now: datetime) -> date:
    """The report zone's date at `now`."""
    return now.astimezone(ZoneInfo(zone)).date()


def _day(text: str | None, label: str, problems: list[str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip()[:MAX_TEXT])
    except ValueError:
        problems.append(f"{label}: enter a date like 2026-04-01 (“{text[:MAX_TEXT]}” is not one).")
        return None


def _ids(values: list[str], label: str, problems: list[str]) -> tuple[int, ...]:
    found: set[int] = set()
    for raw in values[:MAX_IDS]:
        text = raw.strip()[:MAX_TEXT]
        if not text:
            continue
        if not text.isdigit() or not 0 < int(text) < 2**63:
            problems.append(f"{label}: “{text}” is not one of the choices.")
            continue
        found.add(int(text))
    return tuple(sorted(found))


def read_filters(params: Any, *, zone: str, now: datetime) -> Filters:
    """The filters a query string asks for; unreadable values are left at their default
    and named in `problems`."""
    problems: list[str] = []
    today = today_in(zone, now)
    date_to = _day(params.get("to"), "End date", problems) or today
    date_from = _day(params.get("from"), "Start date", problems)
    if date_from is None:
        date_from = date_to - timedelta(days=DEFAULT_DAYS - 1)
    users = _ids(params.getlist("users"), "Agents", problems)
    groups = _ids(params.getlist("groups"), "Groups", problems)
    forms = _ids(params.getlist("form")[-1:], "Survey", problems)
    return Filters(date_from, date_to, users, groups, forms[0] if forms else None, tuple(problems))


@dataclass(frozen=True)
class QuickRange:
    """A link that sets the date range: its words and its query string."""

    label: str
    query: str
    current: bool


def quick_ranges(filters: Filters, *, zone: str, now: datetime) -> list[QuickRange]:
    """Today, the last 7 and 30 days, and the last 12 months, ending today."""
    today = today_in(zone, now)
    year_ago = service.add_months(datetime.combine(today, datetime.min.time()), -12).date()
    starts = [
        ("Today", today),
        ("7 days", today - timedelta(days=6)),
        ("30 days", today - timedelta(days=29)),
        ("12 months", year_ago + timedelta(days=1)),
    ]
    return [
        QuickRange(
            label,
            filters.query(**{"from": start.isoformat(), "to": today.isoformat()}),
            filters.date_from == start and filters.date_to == today,
        )
        for label, start in starts
    ]


@dataclass
class Results:
    """Each report's answer by type (None: not available), the window they cover, and the
    message that stopped them, if any."""

    answers: dict[str, Any] = field(default_factory=dict)
    window: Window | None = None
    error: str | None = None

    def get(self, name: str) -> Any:
        """One report's answer, or None."""
        return self.answers.get(name)


def run_reports(
    session: Session,
    filters: Filters,
    names: list[str],
    *,
    zone: str,
    now: datetime,
    with_form: bool = False,
) -> Results:
    """Run `names` through the registry with `filters` (types not registered are skipped;
    the first refusal ends the run with its message)."""
    results = Results()
    if filters.problems:
        return results
    dialect = session.get_bind().dialect.name
    known = report_types()
    for name in names:
        if name not in known:
            continue
        try:
            kind, query = service.build_query(
                filters.request(name, with_form=with_form),
                default_zone=zone,
                now=now,
                dialect=dialect,
            )
            results.window = query.window
            results.answers[name] = service.run(session, kind, query)
        except CarebaseError as error:
            results.error = _words(error)
            return results
    return results


def _words(error: CarebaseError) -> str:
    """A refusal in the dashboard's words (the API's message names API fields)."""
    text = error.message
    replacements = {
        "Invalid report - date range is too long": "The date range is too long: choose at "
        "most 12 months.",
        "Invalid report - starting date is a future date": "The start date is in the future: "
        "choose today or earlier.",
    }
    if text in replacements:
        return replacements[text]
    details = error.details if isinstance(error.details, list) else []
    for item in details:
        if isinstance(item, dict) and item.get("field") == "date_to":
            return "The end date must not be before the start date."
        if isinstance(item, dict) and item.get("field") == "form":
            return "Choose an NPS survey from the list."
    if error.code == "not_found":
        return "That survey does not exist any more: choose another."
    return text[:1].upper() + text[1:]
