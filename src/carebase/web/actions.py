"""What the sign-in, account and settings pages share: database work off the event loop,
a service's field problems as messages beside form fields, and the toast a page shows after
an action (with Undo where there is one).

The services are synchronous (SQLAlchemy, argon2): a page runs them on a worker thread,
reading in a read-only unit of work and writing in a retried transaction. What a page
needs from the database is copied out inside the unit of work, never read from detached
rows after it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from carebase.db.session import Database
from carebase.errors import ValidationFailed
from carebase.settings import Settings

T = TypeVar("T")


def database_of(request: Request) -> Database:
    """The app's database."""
    database: Database = request.app.state.database
    return database


def settings_of(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


def now_of(request: Request) -> datetime:
    """The app's clock, now."""
    now: datetime = request.app.state.clock()
    return now


async def read(request: Request, work: Callable[[Session], T]) -> T:
    """Run `work` in a read-only unit of work on a worker thread."""
    database = database_of(request)

    def run() -> T:
        with database.unit_of_work(write=False) as session:
            return work(session)

    return await run_in_threadpool(run)


async def write(request: Request, work: Callable[[Session], T]) -> T:
    """Run `work` in a transaction (run again on a transient conflict) on a worker thread."""
    return await run_in_threadpool(database_of(request).transaction, work)


def client_address(request: Request) -> str | None:
    """The address failed sign-ins are counted against."""
    return request.client.host if request.client else None


# A service's reasons are written for the API ("not a valid email address"); a person
# reads them beside the field, so some get words of their own.
EMAIL_MESSAGE = "Enter an email address, like jane@business.io."
TIMEZONE_MESSAGE = "Choose a time zone from the list, like Australia/Sydney."
_REASONS: dict[tuple[str, str], str] = {
    ("email", "not a valid email address"): EMAIL_MESSAGE,
    ("timezone", "not an IANA time zone, e.g. Australia/Sydney"): TIMEZONE_MESSAGE,
}


def sentence(reason: str) -> str:
    """`must not be empty` → `Must not be empty.`"""
    text = reason.strip()
    if not text:
        return "This is not valid."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def field_messages(
    error: ValidationFailed, *, fields: Mapping[str, str] | None = None
) -> dict[str, str]:
    """A service's 422 as a message per form field. `groups.2` belongs to `groups`;
    `fields` renames a service field to the form's (`password` → `new_password`)."""
    messages: dict[str, str] = {}
    details: Any = error.details
    for item in details if isinstance(details, list) else []:
        if not isinstance(item, dict):
            continue
        field = str(item.get("field", "")).split(".", 1)[0]
        reason = str(item.get("reason", ""))
        message = _REASONS.get((field, reason)) or sentence(reason)
        name = (fields or {}).get(field, field) or "__form__"
        messages.setdefault(name, message)
    if not messages:
        messages["__form__"] = sentence(error.message)
    return messages


@dataclass(frozen=True)
class Toast:
    """What a page says after an action: words, and optionally an Undo form."""

    message: str
    undo_action: str | None = None
    undo_label: str = "Undo"
