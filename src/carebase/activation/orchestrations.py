"""Orchestrations: a source (a saved segment with chosen attributes, or a saved query) sent
to a destination with a field mapping, a sync mode and a schedule.

Every save is checked whole (the source exists, a segment's attributes are customer_360
columns, the mapping's names are non-empty, the sync mode is one the destination's kind
supports, the schedule parses) and answers every problem at once, each naming its field.
After a save the schedule's next tick is (re)queued. The callers own the transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from carebase.activation import repository, run_service
from carebase.activation.kinds import KINDS
from carebase.activation.run_schemas import RunOut
from carebase.activation.schedule import validate_schedule
from carebase.activation.schemas import (
    CronSchedule,
    OrchestrationIn,
    OrchestrationOut,
    ScheduleOut,
    SourceOut,
)
from carebase.activation.service import name_taken
from carebase.activation.ticks import schedule_next
from carebase.errors import FieldProblem, NotFound, RunInProgress, ValidationFailed, problem
from carebase.ids import new_id
from carebase.kit import pagination
from carebase.query import columns
from carebase.query import repository as queries
from carebase.segments import repository as segments

# A manual orchestration keeps a zone so switching it to cron later has a default.
DEFAULT_TIMEZONE = "UTC"


def customer_360_names() -> frozenset[str]:
    """The columns a segment source may send (customer_360's, from the catalogue)."""
    return frozenset(column.name for column in columns.customer_360_columns())


def _last_run(session: Session, orchestration_id: str) -> RunOut | None:
    latest, _ = run_service.list_runs(session, orchestration_id, limit=1, after=None)
    return latest[0] if latest else None


def _out(session: Session, row: Row[Any]) -> OrchestrationOut:
    schedule = (
        ScheduleOut(type="cron", cron=row.schedule_cron, timezone=row.schedule_timezone)
        if row.schedule_cron is not None
        else ScheduleOut(type="manual")
    )
    return OrchestrationOut(
        id=row.id,
        name=row.name,
        destination_id=row.destination_id,
        source=SourceOut(type=row.source_type, id=row.source_id, attributes=list(row.attributes)),
        mapping=dict(row.mapping),
        sync_mode=row.sync_mode,
        schedule=schedule,
        enabled=bool(row.enabled),
        next_run_at=row.next_run_at,
        active_run_id=row.active_run_id,
        last_run=_last_run(session, row.id),
        revision=row.revision,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
    )


def orchestration_row(session: Session, orchestration_id: str) -> Row[Any]:
    """An orchestration's row, or NotFound."""
    row = repository.get_orchestration(session, orchestration_id)
    if row is None:
        raise NotFound(f"No orchestration with id {orchestration_id!r}.")
    return row


def _source_problems(session: Session, body: OrchestrationIn) -> list[FieldProblem]:
    source = body.source
    problems: list[FieldProblem] = []
    if source.type == "segment":
        # Locked shared: the segment cannot be deleted before this save commits.
        if not segments.lock_segment(session, source.id, shared=True):
            problems.append(problem("source.id", f"no segment has id {source.id!r}"))
        known = customer_360_names()
        seen: set[str] = set()
        for position, attribute in enumerate(source.attributes):
            where = f"source.attributes[{position}]"
            if attribute not in known:
                problems.append(problem(where, f"{attribute[:100]!r} is not a customer_360 column"))
            elif attribute in seen:
                problems.append(problem(where, f"{attribute!r} is listed twice"))
            seen.add(attribute)
    else:
        if not queries.lock(session, source.id, shared=True):
            problems.append(problem("source.id", f"no saved query has id {source.id!r}"))
        if source.attributes:
            problems.append(
                problem(
                    "source.attributes",
                    "only segment sources choose attributes; a query's columns are its fields",
                )
            )
    return problems


def _mapping_problems(body: OrchestrationIn) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if len(body.mapping) > 200:
        problems.append(problem("mapping", "maps at most 200 fields"))
    sendable = {"profile_id", *body.source.attributes}
    for field, column in body.mapping.items():
        where = f"mapping.{field[:100]}"
        if not field.strip() or len(field) > 200:
            problems.append(problem(where, "a destination field name must be 1-200 characters"))
        elif not column.strip() or len(column) > 200:
            problems.append(problem(where, "the source column must be 1-200 characters"))
        elif body.source.type == "segment" and column not in sendable:
            problems.append(
                problem(where, f"{column[:100]!r} is not one of the source's attributes")
            )
    return problems


def _checked_values(session: Session, body: OrchestrationIn) -> dict[str, Any]:
    """The columns an orchestration is saved with, or a 422 listing every problem."""
    problems: list[FieldProblem] = []
    name = body.name.strip()
    if not name:
        problems.append(problem("name", "must not be blank"))
    destination = repository.get_destination(session, body.destination_id)
    if destination is None:
        problems.append(problem("destination_id", f"no destination has id {body.destination_id!r}"))
    else:
        kind = KINDS.get(destination.kind)
        if kind is not None and body.sync_mode not in kind.modes:
            problems.append(
                problem(
                    "sync_mode",
                    f"{kind.title} supports " + " or ".join(kind.modes),
                )
            )
    problems += _source_problems(session, body)
    problems += _mapping_problems(body)
    schedule = body.schedule
    if isinstance(schedule, CronSchedule):
        try:
            validate_schedule(schedule.cron, schedule.timezone)
        except ValidationFailed as invalid:
            problems += list(invalid.details or [])
    if problems:
        raise ValidationFailed(details=problems)
    cron = schedule if isinstance(schedule, CronSchedule) else None
    return {
        "name": name,
        "destination_id": body.destination_id,
        "source_type": body.source.type,
        "source_id": body.source.id,
        "attributes": list(body.source.attributes),
        "mapping": dict(body.mapping),
        "sync_mode": body.sync_mode,
        "schedule_cron": " ".join(cron.cron.split()) if cron else None,
        "schedule_timezone": cron.timezone if cron else DEFAULT_TIMEZONE,
        "enabled": body.enabled,
    }


def create_orchestration(
    session: Session, body: OrchestrationIn, *, now: datetime, created_by: str | None
) -> OrchestrationOut:
    """Create an orchestration and queue its first schedule tick (cron ones)."""
    values = _checked_values(session, body)
    row = {
        **values,
        "id": new_id("orc"),
        "next_run_at": None,
        "active_run_id": None,
        "revision": 1,
        "created_at": now,
        "created_by": created_by,
        "updated_at": now,
    }
    if not repository.insert_orchestration(session, row):
        raise name_taken("orchestration", values["name"])
    schedule_next(session, row["id"], now=now)
    return _out(session, orchestration_row(session, row["id"]))


def get_orchestration(session: Session, orchestration_id: str) -> OrchestrationOut:
    """One orchestration with its last run, or NotFound."""
    return _out(session, orchestration_row(session, orchestration_id))


def list_orchestrations(
    session: Session, *, cursor: str | None, limit: int
) -> pagination.Page[OrchestrationOut]:
    """A page of orchestrations by name."""
    after = pagination.decode(cursor, str, str) if cursor else None
    rows = repository.orchestrations_page(session, after, limit + 1)
    page, next_cursor = pagination.split(rows, limit, lambda r: pagination.encode(r.name, r.id))
    return pagination.Page[OrchestrationOut](
        items=[_out(session, row) for row in page], next_cursor=next_cursor
    )


def update_orchestration(
    session: Session, orchestration_id: str, body: OrchestrationIn, *, now: datetime
) -> OrchestrationOut:
    """Replace an orchestration (its revision bumped, so a tick queued before the edit
    knows it is stale) and requeue its schedule. A run in progress finishes as it began."""
    orchestration_row(session, orchestration_id)
    values = _checked_values(session, body)
    if not repository.update_orchestration(
        session, orchestration_id, {**values, "updated_at": now}
    ):
        raise name_taken("orchestration", values["name"])
    schedule_next(session, orchestration_id, now=now)
    return _out(session, orchestration_row(session, orchestration_id))


def delete_orchestration(session: Session, orchestration_id: str) -> None:
    """Delete an orchestration with its runs and diff state; 409 `run_in_progress` while a
    run is active (cancel it first)."""
    row = orchestration_row(session, orchestration_id)
    if not repository.delete_idle_orchestration(session, orchestration_id):
        raise RunInProgress(
            "A run of this orchestration is in progress; cancel it or let it end first.",
            details={"reason": "run_in_progress", "run_id": row.active_run_id},
        )
