"""Scheduled runs, on both engines: a cron orchestration has one tick queued for its next
fire time; a due tick starts one run (trigger `schedule`) and queues the next, all in one
transaction; an active run, a disabled or manual orchestration, or a schedule moved later
start nothing; two workers racing over the same tick start one run."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from carebase.activation import ticks
from carebase.db.session import Database
from carebase.kit.jobs import Runner
from carebase.models import Job
from carebase.models.activation import Orchestration, OrchestrationRun
from carebase.settings import Settings
from tests.activation import runhelp
from tests.conftest import test_settings

T0 = datetime(2026, 11, 23, 5, 30, tzinfo=UTC)
SIX_SYDNEY = {"type": "cron", "cron": "0 6 * * *", "timezone": "Australia/Sydney"}


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Loopback destinations allowed."""
    return test_settings(database_url, allow_private_outbound=True)


@pytest.fixture
def scheduled(database: Database, settings: Settings) -> str:
    """A cron orchestration (06:00 Sydney) of a saved query to a webhook, its tick queued."""
    query_id = runhelp.save_query(database, "SELECT 'k1' AS external_id")
    destination = runhelp.destination(
        database,
        settings,
        "webhook",
        {"url": "http://127.0.0.1:9/hooks"},
        {"signing_secret": "whsec_0123456789abcdef"},
    )
    orchestration = runhelp.orchestration(
        database, destination, {"type": "query", "id": query_id}, schedule=SIX_SYDNEY, now=T0
    )
    with database.unit_of_work() as session:
        fire = ticks.schedule_next(session, orchestration, now=T0)
    # 06:00 in Sydney (UTC+11 in summer) is 19:00 UTC the day before: next is 19:00 today.
    assert fire == datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
    return orchestration


def tick_jobs(database: Database) -> list[Any]:
    """The tick jobs, oldest first."""
    with database.unit_of_work(write=False) as session:
        return list(
            session.execute(
                select(Job).where(Job.kind == "orchestration_tick").order_by(Job.created_at)
            ).scalars()
        )


def runs_of(database: Database, orchestration_id: str) -> list[Any]:
    """The orchestration's runs."""
    with database.unit_of_work(write=False) as session:
        return list(
            session.execute(
                select(OrchestrationRun).where(
                    OrchestrationRun.orchestration_id == orchestration_id
                )
            ).scalars()
        )


def only_ticks(database: Database, settings: Settings, clock: runhelp.Clock) -> None:
    """Run the due tick jobs (not the runs they start)."""
    Runner(
        database, runhelp.registry(settings), clock=clock, kinds=["orchestration_tick"]
    ).run_due()


def orchestration_row(database: Database, orchestration_id: str) -> Orchestration:
    """The orchestration as stored."""
    with database.unit_of_work(write=False) as session:
        row = session.get(Orchestration, orchestration_id)
        assert row is not None
        session.expunge(row)
        return row


def test_a_due_tick_starts_one_run_and_queues_the_next(
    database: Database, settings: Settings, scheduled: str
) -> None:
    [queued] = tick_jobs(database)
    assert queued.status == "queued"
    assert queued.dedupe_key == f"orchestration-tick:{scheduled}"
    assert queued.run_at == datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
    clock = runhelp.Clock(T0)
    only_ticks(database, settings, clock)
    assert runs_of(database, scheduled) == []  # not due yet
    clock.now = datetime(2026, 11, 23, 19, 0, 5, tzinfo=UTC)
    only_ticks(database, settings, clock)
    [started] = runs_of(database, scheduled)
    assert (started.trigger, started.status) == ("schedule", "waiting_to_start")
    row = orchestration_row(database, scheduled)
    assert row.active_run_id == started.id
    assert row.next_run_at == datetime(2026, 11, 24, 19, 0, tzinfo=UTC)
    jobs = tick_jobs(database)
    assert [j.status for j in jobs] == ["succeeded", "queued"]
    assert jobs[1].run_at == row.next_run_at
    # The next fire finds the first run still in progress: it starts nothing, and moves on.
    clock.now = datetime(2026, 11, 24, 19, 0, 1, tzinfo=UTC)
    only_ticks(database, settings, clock)
    assert len(runs_of(database, scheduled)) == 1
    assert orchestration_row(database, scheduled).next_run_at == datetime(
        2026, 11, 25, 19, 0, tzinfo=UTC
    )
    assert [j.status for j in tick_jobs(database)] == ["succeeded", "succeeded", "queued"]


def test_a_late_tick_fires_once_not_once_per_missed_time(
    database: Database, settings: Settings, scheduled: str
) -> None:
    clock = runhelp.Clock(datetime(2026, 11, 27, 2, 0, tzinfo=UTC))  # three fires missed
    only_ticks(database, settings, clock)
    assert len(runs_of(database, scheduled)) == 1
    assert orchestration_row(database, scheduled).next_run_at == datetime(
        2026, 11, 27, 19, 0, tzinfo=UTC
    )


def test_disabled_or_moved_schedules(
    database: Database, settings: Settings, scheduled: str
) -> None:
    # Edited to fire later (a day on): the tick queued for today finds it not due and waits.
    later = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)
    with database.unit_of_work() as session:
        session.execute(
            update(Orchestration).where(Orchestration.id == scheduled).values(next_run_at=later)
        )
    clock = runhelp.Clock(datetime(2026, 11, 23, 19, 0, 1, tzinfo=UTC))
    only_ticks(database, settings, clock)
    assert runs_of(database, scheduled) == []
    assert tick_jobs(database)[-1].run_at == later
    # Disabled: the tick does nothing and queues nothing.
    with database.unit_of_work() as session:
        session.execute(
            update(Orchestration).where(Orchestration.id == scheduled).values(enabled=False)
        )
        assert ticks.schedule_next(session, scheduled, now=clock()) is None
    clock.now = later + timedelta(seconds=1)
    only_ticks(database, settings, clock)
    assert runs_of(database, scheduled) == []
    assert [j.status for j in tick_jobs(database)] == ["succeeded", "succeeded"]


def test_two_workers_racing_over_a_tick_start_one_run(
    database: Database, settings: Settings, scheduled: str
) -> None:
    clock = runhelp.Clock(datetime(2026, 11, 23, 19, 0, 1, tzinfo=UTC))
    barrier = threading.Barrier(3)

    def worker() -> None:
        runner = Runner(
            database, runhelp.registry(settings), clock=clock, kinds=["orchestration_tick"]
        )
        barrier.wait()
        runner.run_due()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(runs_of(database, scheduled)) == 1
    assert [j.status for j in tick_jobs(database)] == ["succeeded", "queued"]
