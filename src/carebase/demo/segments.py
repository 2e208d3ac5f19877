"""The demo brand's saved segments: the reference's use cases (customer-service-data.txt),
created through the segments service and refreshed on the job runner when the demo loads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from carebase.db.session import Database
from carebase.jobkinds import registry
from carebase.kit.jobs import Runner
from carebase.models import utcnow
from carebase.segments import service
from carebase.segments.refresh import REFRESH
from carebase.settings import Settings

# The demo shop sells in one currency; about a third of its buyers spend more than this.
VIP_CURRENCY, VIP_SPEND = "AUD", 1000
WINDOW_DAYS = 120
OPEN_STATUS = "open"


def _tickets(at_least: int, where: dict[str, Any] | None = None) -> dict[str, Any]:
    condition: dict[str, Any] = {
        "type": "event",
        "event": "customer_support_ticket",
        "window_days": WINDOW_DAYS,
        "count": {"op": "gte", "value": at_least},
    }
    if where is not None:
        condition["where"] = where
    return condition


def _field(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"type": "event_field", "field": field, "op": op, "value": value}


@dataclass(frozen=True, slots=True)
class DemoSegment:
    """One saved segment of the demo brand."""

    name: str
    description: str
    definition: dict[str, Any]


DEMO_SEGMENTS = (
    DemoSegment(
        "Frequent complainers",
        f"Three or more tickets created in the last {WINDOW_DAYS} days.",
        _tickets(3),
    ),
    DemoSegment(
        "Unhappy VIPs",
        f"A ticket scored bad in the last {WINDOW_DAYS} days, and more than "
        f"{VIP_SPEND:,} {VIP_CURRENCY} spent: worth a retention offer.",
        {
            "type": "group",
            "op": "and",
            "children": [
                _tickets(1, _field("satisfaction_score", "eq", "bad")),
                {
                    "type": "attribute",
                    "field": "total_spend",
                    "op": "gt",
                    "value": {"currency": VIP_CURRENCY, "amount": VIP_SPEND},
                },
            ],
        },
    ),
    DemoSegment(
        "Open ticket now",
        "A ticket still open (no close time, not closed, solved or resolved), or a ticket "
        f"of the last {WINDOW_DAYS} days whose status is open.",
        {
            "type": "group",
            "op": "or",
            "children": [
                {"type": "attribute", "field": "open_ticket_count", "op": "gte", "value": 1},
                _tickets(1, _field("status", "eq", OPEN_STATUS)),
            ],
        },
    ),
)


def seed_segments(
    database: Database, settings: Settings, *, now: datetime | None = None
) -> dict[str, int]:
    """Create the demo segments that are missing and refresh them now, on the job runner
    (in this thread); {name: members}."""
    now = now or utcnow()
    with database.unit_of_work() as session:
        existing = {segment.name for segment in service.list_segments(session)}
        for segment in DEMO_SEGMENTS:
            if segment.name in existing:
                continue
            service.create_segment(
                session,
                {
                    "name": segment.name,
                    "description": segment.description,
                    "definition": segment.definition,
                },
                now=now,
                created_by="demo",
                window_limit_days=settings.event_window_days,
            )
    runner = Runner(database, registry(settings), kinds=[REFRESH.name], clock=lambda: now)
    runner.run_due()
    names = {segment.name for segment in DEMO_SEGMENTS}
    with database.unit_of_work(write=False) as session:
        return {
            segment.name: segment.size or 0
            for segment in service.list_segments(session)
            if segment.name in names
        }
