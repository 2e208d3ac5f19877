"""Concurrent refreshes on PostgreSQL, whose writers run in parallel: one job per segment
whatever the number of requests and workers, and refreshes that do meet (a lapsed lease's
worker and its successor) compute one complete version after the other."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from carebase.db.session import Database
from carebase.jobkinds import registry
from carebase.kit.jobs import Runner
from carebase.models import SegmentVersion
from carebase.segments import refresh, service
from carebase.settings import Settings
from tests.conftest import FakeClock
from tests.helpers import create_dataset
from tests.segments.storehelp import (
    create,
    members_of,
    post_tickets_for,
    profile_of,
    refresh_jobs,
    run_jobs,
    tickets_in_window,
)

T = TypeVar("T")
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _together(count: int, work: Callable[[], T]) -> list[T]:
    """Run `work` in `count` threads released at the same moment."""
    start = threading.Barrier(count)

    def run() -> T:
        start.wait()
        return work()

    with ThreadPoolExecutor(count) as pool:
        return [future.result() for future in [pool.submit(run) for _ in range(count)]]


def _seed(client: TestClient, token: str, database: Database, clock: FakeClock) -> set[str]:
    dataset = create_dataset(client, token)
    emails = [f"p{n}@x.com" for n in range(20)]
    for email in emails:
        post_tickets_for(client, token, dataset, email, [clock.now], prefix="c")
    return {profile_of(database, email) for email in emails}


def test_requests_at_once_give_one_job_brought_forward_once(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    _seed(client, admin_token, database, clock)
    segment = create(client, admin_token, "Anyone", tickets_in_window(30, 1))
    run_jobs(database, settings, clock)
    clock.advance(60)

    def ask() -> str:
        with database.unit_of_work() as session:
            return service.request_refresh(session, segment["id"], now=clock.now)

    job_ids = _together(8, ask)
    live = [job for job in refresh_jobs(database, segment["id"]) if job.status == "queued"]
    assert len(live) == 1
    assert set(job_ids) == {live[0].id}
    assert live[0].run_at == clock.now


def test_workers_at_once_run_one_refresh(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    people = _seed(client, admin_token, database, clock)
    segment = create(client, admin_token, "Anyone", tickets_in_window(30, 1))
    summaries = _together(4, lambda: Runner(database, registry(settings), clock=clock).run_due())
    assert sum(summary.succeeded for summary in summaries) == 1
    assert sum(summary.handled for summary in summaries) == 1
    assert members_of(database, segment["id"]) == people


def test_refreshes_that_meet_compute_one_complete_version_after_the_other(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    people = _seed(client, admin_token, database, clock)
    segment = create(client, admin_token, "Anyone", tickets_in_window(30, 1))

    def compute() -> int:
        with database.unit_of_work() as session:
            done = refresh.refresh(session, segment["id"], now=clock.now, window_limit_days=120)
        assert done is not None
        return done.version

    assert sorted(_together(2, compute)) == [1, 2]
    assert members_of(database, segment["id"], 1) == people
    assert members_of(database, segment["id"], 2) == people
    with database.unit_of_work(write=False) as session:
        versions = session.execute(
            select(
                SegmentVersion.version,
                SegmentVersion.size,
                SegmentVersion.entered,
                SegmentVersion.left,
            ).order_by(SegmentVersion.version)
        ).all()
    assert [tuple(row) for row in versions] == [(1, 20, 20, 0), (2, 20, 0, 0)]
    with database.unit_of_work(write=False) as session:
        shown = service.get_segment(session, segment["id"])
    assert (shown.current_version, shown.size, shown.status) == (2, 20, "ready")
