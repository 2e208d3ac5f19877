"""The inbox's installation-wide settings: one row (id 1), created with its defaults the
first time anything reads it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebase.db.locks import lock_keys
from carebase.errors import ValidationFailed, problem
from carebase.inbox import sla_repository as repository
from carebase.models import Destination, Form, InboxSettings

CASE_TIMEOUT_SECONDS = 86400
IDLE_OFFLINE_SECONDS = 1800
# Bounds that keep the jobs sensible: a case closing a minute after its last activity at
# the soonest, an agent going offline after a minute idle at the soonest.
TIMEOUT_RANGE = (60, 90 * 86400)
IDLE_RANGE = (60, 7 * 86400)
FIELDS = ("case_timeout_seconds", "idle_offline_seconds", "reply_destination_id", "nps_form_id")


def get_settings(session: Session, now: datetime | None = None) -> InboxSettings:
    """The settings row, created with its defaults on first use."""
    found = repository.get_settings(session)
    if found is not None:
        return found
    lock_keys(session, ["inbox:settings"])
    found = repository.get_settings(session)
    if found is not None:
        return found
    repository.add_settings(
        session,
        {
            "id": 1,
            "case_timeout_seconds": CASE_TIMEOUT_SECONDS,
            "idle_offline_seconds": IDLE_OFFLINE_SECONDS,
            "reply_destination_id": None,
            "nps_form_id": None,
            # Only when the row was made; nothing is measured from it.
            "updated_at": now or datetime.now(UTC),
        },
    )
    created = repository.get_settings(session)
    assert created is not None
    return created


def read_settings(session: Session, now: datetime) -> InboxSettings:
    """The settings as they are, writing nothing: the defaults (not stored) before first use.
    For read transactions (a GET), where creating the row would upgrade a SQLite read."""
    found = repository.get_settings(session)
    if found is not None:
        return found
    return InboxSettings(
        id=1,
        case_timeout_seconds=CASE_TIMEOUT_SECONDS,
        idle_offline_seconds=IDLE_OFFLINE_SECONDS,
        reply_destination_id=None,
        nps_form_id=None,
        updated_at=now,
    )


def case_timeout_seconds(session: Session) -> int:
    """How long a case stays open after its last activity (24 h unless changed)."""
    return int(get_settings(session).case_timeout_seconds)


def update_settings(session: Session, changes: dict[str, Any], now: datetime) -> InboxSettings:
    """Change some settings (keys of FIELDS; absent keys stay). 422 naming the field for a
    timeout out of range, a reply destination that is not a webhook destination, or a form
    that is not an NPS form."""
    get_settings(session, now)
    row = repository.get_settings(session, lock=True)
    assert row is not None
    problems = []
    values: dict[str, Any] = {}
    for name, (low, high) in (
        ("case_timeout_seconds", TIMEOUT_RANGE),
        ("idle_offline_seconds", IDLE_RANGE),
    ):
        if name not in changes:
            continue
        value = changes[name]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            problems.append(problem(name, f"must be a whole number of seconds, {low} to {high}"))
        else:
            values[name] = value
    if "reply_destination_id" in changes:
        destination_id = changes["reply_destination_id"]
        if destination_id is not None:
            kind = session.execute(
                select(Destination.__table__.c.kind).where(
                    Destination.__table__.c.id == destination_id
                )
            ).scalar_one_or_none()
            if kind != "webhook":
                problems.append(problem("reply_destination_id", "must be a webhook destination"))
        values["reply_destination_id"] = destination_id
    if "nps_form_id" in changes:
        form_id = changes["nps_form_id"]
        if form_id is not None:
            form = session.get(Form, form_id) if isinstance(form_id, int) else None
            if form is None or not form.nps or form.archived:
                problems.append(problem("nps_form_id", "must be an NPS form that is not archived"))
        values["nps_form_id"] = form_id
    if problems:
        raise ValidationFailed(details=problems)
    values["updated_at"] = now
    repository.update_settings(session, values)
    session.expire(row)
    return row
