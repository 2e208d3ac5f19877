"""How the console writes times, durations and numbers for a person.

Times show in the viewer's time zone, short, with the absolute time (and zone) on hover;
durations in the unit people use (minutes, hours, days); numbers with the viewer's locale's
separators. English words only, and no locale database: a small table covers the separators.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS_LONG = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# (thousands separator, decimal mark) by language, or language-REGION where it differs.
_NARROW_NBSP = "\u202f"
_NBSP = "\u00a0"
_SEPARATORS: dict[str, tuple[str, str]] = {
    "en": (",", "."),
    "ja": (",", "."),
    "zh": (",", "."),
    "ko": (",", "."),
    "th": (",", "."),
    "he": (",", "."),
    "de": (".", ","),
    "es": (".", ","),
    "it": (".", ","),
    "nl": (".", ","),
    "pt": (".", ","),
    "id": (".", ","),
    "da": (".", ","),
    "tr": (".", ","),
    "el": (".", ","),
    "fr": (_NARROW_NBSP, ","),
    "sv": (_NBSP, ","),
    "nb": (_NBSP, ","),
    "fi": (_NBSP, ","),
    "pl": (_NBSP, ","),
    "cs": (_NBSP, ","),
    "ru": (_NBSP, ","),
    "uk": (_NBSP, ","),
    "de-CH": ("\u2019", "."),
    "fr-CH": (_NARROW_NBSP, "."),
    "en-ZA": (_NBSP, ","),
    "pt-PT": (_NBSP, ","),
}

UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class Viewer:
    """Who reads the page: their time zone and locale (a signed-in user's own, later)."""

    timezone: ZoneInfo = field(default=UTC_ZONE)
    locale: str = "en"


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not shown; attach a timezone")
    return value


def _offset(moment: datetime) -> str:
    delta = moment.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def absolute_time(value: datetime, viewer: Viewer) -> str:
    """`Monday 23 November 2026, 23:00:00 AEDT (UTC+11:00)`: the whole moment, unambiguous."""
    local = _aware(value).astimezone(viewer.timezone)
    zone = local.tzname() or ""
    offset = _offset(local)
    label = f"{zone} ({offset})" if zone and zone != offset and zone != "UTC" else offset
    return (
        f"{_DAYS[local.weekday()]} {local.day} {_MONTHS_LONG[local.month - 1]} {local.year}, "
        f"{local:%H:%M:%S} {label}"
    )


def short_time(value: datetime, viewer: Viewer, now: datetime) -> str:
    """The moment in the viewer's zone as people say it: `14:05` today, `Yesterday, 14:05`,
    `3 Nov, 14:05` this year, `3 Nov 2025` before."""
    local = _aware(value).astimezone(viewer.timezone)
    today = _aware(now).astimezone(viewer.timezone).date()
    clock = f"{local:%H:%M}"
    if local.date() == today:
        return clock
    if local.date() == today - timedelta(days=1):
        return f"Yesterday, {clock}"
    day = f"{local.day} {_MONTHS[local.month - 1]}"
    if local.year == today.year:
        return f"{day}, {clock}"
    return f"{day} {local.year}"


def time_element(value: datetime | None, viewer: Viewer, now: datetime) -> Markup:
    """A `<time>` with the short form as text, the absolute time on hover, and the UTC
    instant in `datetime` for machines. `None` is an em dash."""
    if value is None:
        return Markup("&mdash;")
    instant = _aware(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        instant, absolute_time(value, viewer), short_time(value, viewer, now)
    )


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def duration(value: timedelta | float | None) -> str:
    """A span in the unit people use: `45 s`, `12 min`, `3 h 20 min`, `2 days 4 h`,
    `12 days`. Whole units, rounded down; `None` is an em dash."""
    if value is None:
        return "\u2014"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    sign = "-" if seconds < 0 else ""
    total = int(abs(seconds))
    if total < 60:
        return f"{sign}{total} s"
    minutes = total // 60
    if minutes < 60:
        return f"{sign}{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{sign}{hours} h" + (f" {minutes} min" if minutes else "")
    days, hours = divmod(hours, 24)
    if days < 7:
        return f"{sign}{_plural(days, 'day')}" + (f" {hours} h" if hours else "")
    return f"{sign}{_plural(days, 'day')}"


def separators(locale: str) -> tuple[str, str]:
    """The thousands separator and decimal mark for a locale tag (`en`, `de-CH`, `fr_FR`)."""
    tag = locale.replace("_", "-")
    language, _, region = tag.partition("-")
    return _SEPARATORS.get(
        f"{language.lower()}-{region.upper()}", _SEPARATORS.get(language.lower(), (",", "."))
    )


def number(value: float | None, viewer: Viewer, digits: int = 0) -> str:
    """`1,234,567` or `1.234,5` or `1 234,5`, as the viewer's locale writes it."""
    if value is None:
        return "\u2014"
    group, decimal = separators(viewer.locale)
    text = f"{value:,.{digits}f}"
    return text.translate({ord(","): group, ord("."): decimal})
