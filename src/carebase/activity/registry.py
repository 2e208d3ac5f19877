"""Every Activity report type, in one registry: the API, the dashboard, the docs and the
tests all derive from it. A report module registers its types with `@report(...)`;
`catalog.report_types()` is the complete registry (catalog imports every such module)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.activity.timebuckets import Window

NPS_CATEGORIES = ("all", "promoters", "passives", "detractors")


@dataclass(frozen=True)
class ReportQuery:
    """A validated report request: what every report function receives."""

    window: Window
    # Filters (None: not filtered). A mention belongs to a user when the user is its
    # assignee or first responder; to a group when assigned to the group or to a member.
    users: tuple[int, ...] | None
    groups: tuple[int, ...] | None
    classifications: tuple[int, ...] | None
    form: int | None
    nps_category: str
    now: datetime
    dialect: str
    # Who asked (the API token's or session's reference), for jobs a report starts.
    requested_by: str | None = None
    # The URL the caller reached carebase at, for links a report answers with.
    base_url: str = ""


Runner = Callable[[Session, ReportQuery], Any]


@dataclass(frozen=True)
class ReportType:
    """One `type` of POST /v1/activity/reports."""

    name: str
    title: str
    # The Activity dashboard tab (and reference section) it belongs to.
    section: str
    description: str
    run: Runner
    # nps_summary and nps_volume need `form` (an NPS form's id).
    needs_form: bool = False


REPORTS: dict[str, ReportType] = {}


def report(
    name: str, *, title: str, section: str, needs_form: bool = False
) -> Callable[[Runner], Runner]:
    """Register a report function under `name` (its docstring is the type's description)."""

    def register(run: Runner) -> Runner:
        if name in REPORTS:
            raise ValueError(f"report type {name!r} is registered twice")
        description = " ".join((run.__doc__ or "").split())
        REPORTS[name] = ReportType(name, title, section, description, run, needs_form)
        return run

    return register
