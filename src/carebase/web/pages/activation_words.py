"""Activation in words: each run status's label and colour (a word AND a colour, never colour
alone), a cron schedule said as people say it, and a run's progress as a percentage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from carebase.activation.schedule import next_fire, validate_schedule
from carebase.errors import ValidationFailed
from carebase.web.actions import sentence

# How many fire times the schedule preview lists.
PREVIEW_TIMES = 3
ENDED = frozenset({"completed", "completed_with_errors", "failed", "cancelled"})


@dataclass(frozen=True)
class Status:
    """How a run status is shown: its words, its colour class and its icon."""

    words: str
    tone: str  # the `state--{tone}` class: ok, warn, bad, busy, muted
    icon: str


RUN_STATUSES: dict[str, Status] = {
    "waiting_to_start": Status("Waiting to start", "muted", "info"),
    "querying": Status("Querying the source", "busy", "info"),
    "sending": Status("Sending", "busy", "info"),
    "completed": Status("Completed", "ok", "check"),
    "completed_with_errors": Status("Completed with errors", "warn", "alert"),
    "failed": Status("Failed", "bad", "alert"),
    "cancelled": Status("Cancelled", "muted", "close"),
}

RECORD_STATUSES: dict[str, str] = {
    "pending": "Waiting",
    "in_flight": "Sent, waiting for the answer",
    "succeeded": "Delivered",
    "rejected": "Rejected by the destination",
    "invalid": "Not valid, not sent",
    "skipped": "Skipped",
}

TRIGGERS = {"manual": "Run now", "schedule": "Schedule", "retry": "Retry of failed records"}

MODES = {
    "upsert": "Create or update",
    "update_only": "Update existing only",
}

_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


def run_status(status: str) -> Status:
    """The label of a run status (an unknown one is shown as it is, neutral)."""
    known = RUN_STATUSES.get(status)
    return known or Status(status.replace("_", " ").capitalize(), "muted", "info")


def is_ended(status: str) -> bool:
    """Whether a run with this status will change no more."""
    return status in ENDED


def _number(text: str, low: int, high: int) -> int | None:
    if not text.isdigit():
        return None
    value = int(text)
    return value if low <= value <= high else None


def _days(field: str) -> str | None:
    """`1-5` → `Monday to Friday`, `1,3` → `Monday and Wednesday`; None when unusual."""
    if field == "*":
        return ""
    if "-" in field and "," not in field:
        first, _, last = field.partition("-")
        a, b = _number(first, 0, 7), _number(last, 0, 7)
        if a is None or b is None:
            return None
        return f"{_DAYS[a % 7]} to {_DAYS[b % 7]}"
    names = []
    for part in field.split(","):
        day = _number(part, 0, 7)
        if day is None:
            return None
        names.append(_DAYS[day % 7])
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def schedule_words(cron: str | None, timezone: str | None = None) -> str:
    """A schedule as people say it: `Every day at 06:00 (Australia/Sydney)`; a cron
    expression this does not recognise is shown as it is."""
    if not cron:
        return "Manual: runs only when someone asks"
    zone = f" ({timezone})" if timezone else ""
    parts = cron.split()
    if len(parts) != 5:
        return f"Cron {cron}{zone}"
    minute, hour, day, month, weekday = parts
    if day != "*" or month != "*":
        return f"Cron {cron}{zone}"
    if minute.isdigit() and hour == "*" and weekday == "*":
        return f"Every hour at minute {int(minute)}{zone}"
    if minute.startswith("*/") and hour == "*" and weekday == "*":
        return f"Every {minute[2:]} minutes{zone}"
    if minute.isdigit() and hour.startswith("*/") and weekday == "*":
        return f"Every {hour[2:]} hours at minute {int(minute)}{zone}"
    m, h = _number(minute, 0, 59), _number(hour, 0, 23)
    if m is None or h is None:
        return f"Cron {cron}{zone}"
    days = _days(weekday)
    if days is None:
        return f"Cron {cron}{zone}"
    when = f"at {h:02d}:{m:02d}"
    return f"Every day {when}{zone}" if not days else f"Every {days} {when}{zone}"


def percent(progress: dict[str, Any] | None) -> int | None:
    """A run's progress as a whole percentage, or None while the total is unknown."""
    if not progress:
        return None
    total, done = progress.get("total"), progress.get("done") or 0
    if not total:
        return None
    return max(0, min(100, round(100 * int(done) / int(total))))


def next_fires(
    schedule_type: str, cron: str, timezone: str, now: datetime
) -> tuple[list[datetime], str | None]:
    """The next PREVIEW_TIMES fire times of a schedule after `now`, or why it is not valid
    (the schedule module's reason, as a sentence)."""
    if schedule_type != "cron":
        return [], None
    try:
        validate_schedule(cron.strip(), timezone)
    except ValidationFailed as invalid:
        details: Any = invalid.details
        first = details[0] if isinstance(details, list) and details else {}
        reason = first.get("reason", invalid.message) if isinstance(first, dict) else ""
        return [], sentence(str(reason))
    times: list[datetime] = []
    after = now
    for _ in range(PREVIEW_TIMES):
        after = next_fire(cron.strip(), timezone, after)
        times.append(after)
    return times, None


def preview_context(schedule_type: str, cron: str, timezone: str, now: datetime) -> dict[str, Any]:
    """What the schedule preview partial shows: the next fire times (each also in the
    schedule's own zone), or the problem in words."""
    times, problem = next_fires(schedule_type, cron, timezone, now)
    zone = timezone if times else "UTC"

    def in_zone(moment: datetime) -> str:
        return moment.astimezone(ZoneInfo(zone)).strftime("%a %d %b %H:%M")

    return {
        "preview_times": times,
        "preview_error": problem,
        "preview_zone": zone,
        "preview_words": schedule_words(cron.strip(), timezone) if times else "",
        "moment_in_zone": in_zone,
    }
