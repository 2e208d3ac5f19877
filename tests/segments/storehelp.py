"""Builders shared by the segment storage tests (service, refresh, API, demo)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from carebase.db.session import Database
from carebase.jobkinds import registry
from carebase.kit.jobs import Runner, RunSummary
from carebase.models import Job, ProfileLink, SegmentMember
from carebase.segments import repository
from carebase.settings import Settings
from tests.conftest import FakeClock
from tests.helpers import auth, post_tickets, ticket


def tickets_in_window(days: int, at_least: int) -> dict[str, Any]:
    """`at_least` tickets created in the last `days` days."""
    return {
        "type": "event",
        "event": "customer_support_ticket",
        "window_days": days,
        "count": {"op": "gte", "value": at_least},
    }


def ticket_count_at_least(value: int) -> dict[str, Any]:
    """ticket_count ≥ value."""
    return {"type": "attribute", "field": "ticket_count", "op": "gte", "value": value}


def post_tickets_for(
    client: TestClient,
    token: str,
    dataset_id: str,
    email: str,
    created: list[datetime],
    *,
    prefix: str,
) -> None:
    """One ticket per creation time for the person with `email`."""
    events = []
    for number, when in enumerate(created):
        event = ticket(f"{prefix}-{email}-{number}", link={"email": email})
        event["timeline"] = {"created_at": when.isoformat()}
        event["action_at"] = (when + timedelta(minutes=5)).isoformat()
        events.append(event)
    post_tickets(client, token, dataset_id, events)


def profile_of(database: Database, email: str) -> str:
    """The profile owning an email."""
    with database.unit_of_work(write=False) as session:
        found = session.execute(
            select(ProfileLink.profile_id).where(
                ProfileLink.link_type == "email", ProfileLink.value == email
            )
        ).scalar_one()
    return str(found)


def run_jobs(database: Database, settings: Settings, clock: FakeClock) -> RunSummary:
    """Run every due job in this thread, as a worker would."""
    return Runner(database, registry(settings), clock=clock).run_due()


def members_of(database: Database, segment_id: str, version: int | None = None) -> set[str]:
    """Profile ids of a version (the current one by default), read from the rows."""
    with database.unit_of_work(write=False) as session:
        if version is None:
            query = repository.current_members(segment_id)
        else:
            query = select(SegmentMember.profile_id).where(
                SegmentMember.segment_id == segment_id, SegmentMember.version == version
            )
        return {str(each) for each in session.execute(query).scalars()}


def refresh_jobs(database: Database, segment_id: str) -> list[Any]:
    """Every refresh job of a segment, oldest first."""
    with database.unit_of_work(write=False) as session:
        jobs = session.execute(
            select(Job).where(Job.kind == "segment_refresh").order_by(Job.created_at, Job.id)
        ).scalars()
        return [job for job in jobs if job.payload["segment_id"] == segment_id]


def create(
    client: TestClient, token: str, name: str, definition: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """POST a segment, assert 201, return it."""
    response = client.post(
        "/v1/segments",
        json={"name": name, "definition": definition, **extra},
        headers=auth(token),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
