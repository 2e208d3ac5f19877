"""What the activation pages share: names of things to link to, a service's 422 as messages
beside the form's own inputs, and the sources an orchestration can send."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from carebase.activation import orchestrations, service
from carebase.activation.schemas import DestinationOut, OrchestrationOut
from carebase.errors import ValidationFailed
from carebase.query import service as queries
from carebase.segments import service as segments
from carebase.settings import Settings
from carebase.web.actions import sentence
from carebase.web.forms import FORM_LEVEL

# Saved queries offered as sources (the select lists them all; more is a smell, not a page).
MAX_QUERIES = 500
# The lists read every page of the services' lists, this many at a time.
LIST_PAGE = 200


@dataclass(frozen=True)
class Named:
    """Something a page links to: its id and name."""

    id: str
    name: str


def all_destinations(session: Session, settings: Settings) -> list[DestinationOut]:
    """Every destination, by name (the service's pages, one after another)."""
    found: list[DestinationOut] = []
    cursor: str | None = None
    while True:
        page = service.list_destinations(session, settings=settings, cursor=cursor, limit=LIST_PAGE)
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return found


def all_orchestrations(session: Session) -> list[OrchestrationOut]:
    """Every orchestration, by name."""
    found: list[OrchestrationOut] = []
    cursor: str | None = None
    while True:
        page = orchestrations.list_orchestrations(session, cursor=cursor, limit=LIST_PAGE)
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return found


def orchestrations_by_destination(session: Session) -> dict[str, list[Named]]:
    """Each destination's orchestrations, by name."""
    used: dict[str, list[Named]] = {}
    for orchestration in all_orchestrations(session):
        used.setdefault(orchestration.destination_id, []).append(
            Named(orchestration.id, orchestration.name)
        )
    return used


def form_problems(
    error: ValidationFailed, names: Collection[str], *, renames: dict[str, str] | None = None
) -> dict[str, str]:
    """A service's 422 as a message per form input: `config.base_url` stays itself when the
    form has that input, `renames` maps the service's names to the form's (`schedule.cron`
    → `cron`), and anything else belongs to the whole form."""
    messages: dict[str, str] = {}
    details: Any = error.details
    for item in details if isinstance(details, list) else []:
        if not isinstance(item, dict):
            continue
        field = str(item.get("field", ""))
        reason = sentence(str(item.get("reason", "")))
        name = _form_name(field, names, renames or {})
        if name == FORM_LEVEL and field:
            reason = f"{field}: {reason}"
        messages.setdefault(name, reason)
    if not messages:
        messages[FORM_LEVEL] = sentence(error.message)
    return messages


def _form_name(field: str, names: Collection[str], renames: dict[str, str]) -> str:
    parts = field.split(".")
    # The longest prefix the form knows: `source.attributes.3` → `source.attributes`.
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in renames:
            return renames[candidate]
        if candidate in names:
            return candidate
    return FORM_LEVEL


def source_choices(session: Session) -> tuple[list[Named], list[Named]]:
    """The saved segments and saved queries an orchestration may send."""
    segment_list = [Named(s.id, s.name) for s in segments.list_segments(session)]
    rows, _ = queries.list_queries(session, limit=MAX_QUERIES)
    return segment_list, [Named(str(q["id"]), str(q["name"])) for q in rows]
