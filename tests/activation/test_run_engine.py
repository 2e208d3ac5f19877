"""Runs of a saved query to the Zendesk fake (asynchronous bulk jobs followed to their end),
on both engines: counts, per-record rejections with the destination's reason, the diff
(a re-run sends only what changed), full resync, retrying what failed, dry runs, cancel,
one run at a time, and forgetting a profile mid-run."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from carebase.activation import run_service
from carebase.db.session import Database
from carebase.errors import Conflict, RunInProgress, ValidationFailed
from carebase.models.activation import OrchestrationRun
from carebase.profiles import service as profiles
from carebase.settings import Settings
from tests.activation import runhelp
from tests.activation.zendesk_fake import FakeTime, FakeZendesk, serve_zendesk
from tests.conftest import test_settings

SQL = (
    "SELECT profile_id AS external_id, {name} AS name, email FROM customer_360 "
    "WHERE full_name IS NOT NULL ORDER BY profile_id"
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Loopback destinations allowed."""
    return test_settings(database_url, allow_private_outbound=True)


@dataclass
class World:
    database: Database
    settings: Settings
    fake: FakeZendesk
    clock: runhelp.Clock
    query_id: str
    orchestration_id: str
    keys: list[str]

    def run(self, **flags: Any) -> run_service.RunOut:
        return runhelp.run_now(
            self.database, self.settings, self.clock, self.orchestration_id, **flags
        )

    def total_writes(self) -> int:
        return sum(self.fake.writes.values())


def make_world(database: Database, settings: Settings, fake: FakeZendesk) -> World:
    runhelp.load_demo(database, settings)
    query_id = runhelp.save_query(database, SQL.format(name="full_name"))
    destination = runhelp.destination(
        database,
        settings,
        "zendesk",
        {"base_url": fake.url, "email": fake.email},
        {"api_token": fake.api_token},
    )
    orchestration = runhelp.orchestration(database, destination, {"type": "query", "id": query_id})
    with database.unit_of_work(write=False) as session:
        from sqlalchemy import text

        view = "customer_360" if database.dialect == "sqlite" else "sql_api.customer_360"
        keys = [
            str(each)
            for each in session.execute(
                text(
                    f"SELECT profile_id FROM {view} WHERE full_name IS NOT NULL "  # noqa: S608
                    "ORDER BY profile_id"
                )
            ).scalars()
        ]
    return World(database, settings, fake, runhelp.Clock(), query_id, orchestration, keys)


@pytest.fixture
def world(database: Database, settings: Settings, zendesk_fake: FakeZendesk) -> World:
    """Demo customers, a saved query in Zendesk's field names, an orchestration to the fake."""
    return make_world(database, settings, zendesk_fake)


def test_run_counts_rejections_and_state(world: World) -> None:
    rejected_key = world.keys[3]
    # Zendesk's reason quotes the value it refused (here the external_id).
    world.fake.fail_record(rejected_key, details=f"External: {rejected_key} is already in use")
    done = world.run()
    n = len(world.keys)
    assert n >= 10
    assert done.status == "completed_with_errors"
    counts = done.counts
    assert (counts.queried, counts.new, counts.changed, counts.unchanged) == (n, n, 0, 0)
    assert (counts.sent, counts.succeeded, counts.rejected, counts.invalid) == (n, n - 1, 1, 0)
    assert done.progress is not None
    assert done.progress.done == done.progress.total == n
    # Every user landed once, with the right fields; the rejected one did not.
    assert world.fake.find(external_id=world.keys[0]) is not None
    assert world.fake.find(external_id=rejected_key) is None
    assert world.total_writes() == n - 1
    # The run history keeps the rejection with Zendesk's own reason, and no fields at all.
    kept = runhelp.records(world.database, world.orchestration_id, done.id)
    assert [(r.record_key, r.status) for r in kept] == [(rejected_key, "rejected")]
    # Zendesk's reason is kept, the value it quoted is not: the field's name stands for it.
    assert kept[0].message == "External: [external_id] is already in use"
    assert all(item.payload is None for item in runhelp.item_rows(world.database, done.id))
    state = runhelp.state_of(world.database, world.orchestration_id)
    assert state[rejected_key] == "failed"
    assert sum(1 for s in state.values() if s == "succeeded") == n - 1
    # The orchestration is free again.
    with world.database.unit_of_work(write=False) as session:
        runs, _ = run_service.list_runs(session, world.orchestration_id, limit=10, after=None)
    assert [r.id for r in runs] == [done.id]
    csv_text = "".join(
        run_service.records_csv(
            world.database.open_session(write=False), world.orchestration_id, done.id
        )
    )
    assert csv_text.splitlines()[0] == "seq,record_key,action,status,error_code,message,remote_id"
    assert rejected_key in csv_text


def test_rerun_sends_only_what_changed_and_what_failed(world: World) -> None:
    world.fake.fail_record(world.keys[0])
    first = world.run()
    assert first.counts.rejected == 1
    world.fake._failures.clear()
    writes = world.total_writes()
    changed = world.keys[5]
    runhelp.set_sql(
        world.database,
        world.query_id,
        SQL.format(name=f"CASE WHEN profile_id = '{changed}' THEN 'Renamed' ELSE full_name END"),
    )
    second = world.run()
    n = len(world.keys)
    assert second.status == "completed"
    # One changed, one failed last time (counted as changed), the rest unchanged.
    assert (second.counts.new, second.counts.changed, second.counts.unchanged) == (0, 2, n - 2)
    assert (second.counts.sent, second.counts.succeeded) == (2, 2)
    assert world.total_writes() == writes + 2
    assert world.fake.find(external_id=changed)["name"] == "Renamed"
    third = world.run()
    assert (third.counts.unchanged, third.counts.sent) == (n, 0)
    assert third.status == "completed"
    # A dry full resync shows everything would be sent again, and changes nothing.
    dry = world.run(dry_run=True, full_resync=True)
    assert dry.details is not None
    assert (dry.details["would_create"], dry.details["unchanged"]) == (n, 0)
    assert set(runhelp.state_of(world.database, world.orchestration_id).values()) == {"succeeded"}
    resync = world.run(full_resync=True)
    assert (resync.counts.new, resync.counts.sent, resync.counts.succeeded) == (n, n, n)


def test_retry_failed_sends_only_the_failed_records(world: World) -> None:
    world.fake.fail_record(world.keys[1])
    world.fake.fail_record(world.keys[2])
    first = world.run()
    assert first.counts.rejected == 2
    world.fake._failures.clear()
    # Something else changed meanwhile: a retry of the failed ones leaves it for later.
    runhelp.set_sql(
        world.database,
        world.query_id,
        SQL.format(name=f"CASE WHEN profile_id = '{world.keys[7]}' THEN 'X' ELSE full_name END"),
    )
    with world.database.unit_of_work() as session:
        retry = run_service.retry_failed(
            session, world.orchestration_id, first.id, now=world.clock(), requested_by="ann"
        )
    assert retry.only_failed
    assert retry.trigger == "retry"
    assert retry.requested_by == "ann"
    runhelp.work(world.database, world.settings, world.clock)
    with world.database.unit_of_work(write=False) as session:
        done = run_service.get_run(session, world.orchestration_id, retry.id)
    assert done.status == "completed"
    assert (done.counts.changed, done.counts.sent, done.counts.succeeded) == (2, 2, 2)
    state = runhelp.state_of(world.database, world.orchestration_id)
    assert set(state.values()) == {"succeeded"}
    with world.database.unit_of_work() as session, pytest.raises(ValidationFailed):
        run_service.start_run(
            session, world.orchestration_id, now=world.clock(), full_resync=True, only_failed=True
        )


def test_dry_run_sends_nothing_and_shows_samples(world: World) -> None:
    runhelp.set_sql(
        world.database,
        world.query_id,
        SQL.format(name=f"CASE WHEN profile_id = '{world.keys[0]}' THEN NULL ELSE full_name END"),
    )
    dry = world.run(dry_run=True)
    n = len(world.keys)
    assert dry.status == "completed"
    assert dry.dry_run
    assert world.total_writes() == 0
    assert world.fake.jobs == {}
    assert dry.counts.sent == 0
    assert dry.counts.invalid == 1
    details = dry.details
    assert details is not None
    assert (details["would_create"], details["would_update"], details["unchanged"]) == (
        n - 1,
        0,
        0,
    )
    assert details["invalid"] == 1
    samples = details["samples"]
    assert len(samples["create"]) == 5
    assert samples["create"][0]["key"] == world.keys[1]
    assert samples["create"][0]["fields"]["external_id"] == world.keys[1]
    assert samples["invalid"] == [
        {
            "key": world.keys[0],
            "error_code": "missing_name",
            "message": "name: Zendesk needs the user's name",
        }
    ]
    # Nothing was recorded as delivered.
    assert runhelp.state_of(world.database, world.orchestration_id) == {}
    # Forgetting a sampled profile takes its sample with it.
    with world.database.unit_of_work() as session:
        profiles.forget(session, world.keys[1], now=world.clock())
    with world.database.unit_of_work(write=False) as session:
        again = run_service.get_run(session, world.orchestration_id, dry.id)
    assert again.details is not None
    assert world.keys[1] not in [s["key"] for s in again.details["samples"]["create"]]


def test_one_active_run_and_cancel_before_it_starts(world: World) -> None:
    started = runhelp.start(world.database, world.orchestration_id, world.clock())
    assert started.status == "waiting_to_start"
    with world.database.unit_of_work() as session, pytest.raises(RunInProgress) as refused:
        run_service.start_run(session, world.orchestration_id, now=world.clock())
    assert refused.value.code == "run_in_progress"
    assert refused.value.status_code == 409
    with world.database.unit_of_work() as session:
        cancelled = run_service.cancel_run(
            session, world.orchestration_id, started.id, now=world.clock()
        )
    assert cancelled.status == "cancelled"
    with world.database.unit_of_work() as session, pytest.raises(Conflict):
        run_service.cancel_run(session, world.orchestration_id, started.id, now=world.clock())
    summary = runhelp.work(world.database, world.settings, world.clock)
    assert summary.succeeded == 0
    assert world.total_writes() == 0
    # Free for the next run.
    assert world.run().status == "completed"


def test_cancel_while_sending_leaves_the_rest_unsent(
    database: Database, settings: Settings
) -> None:
    # Jobs take long enough at the fake for the cancel to land while they are followed.
    with serve_zendesk(queued_for=0.3, working_for=0.3) as fake:
        world = make_world(database, settings, fake)
        started = runhelp.start(world.database, world.orchestration_id, world.clock())

        def cancel_when_polling() -> None:
            for _ in range(400):
                if any("job_statuses" in r for r in fake.requests):
                    break
                threading.Event().wait(0.01)
            with world.database.unit_of_work() as session:
                run_service.cancel_run(
                    session, world.orchestration_id, started.id, now=world.clock()
                )

        canceller = threading.Thread(target=cancel_when_polling)
        canceller.start()
        runhelp.work(world.database, world.settings, world.clock)
        canceller.join()
        with world.database.unit_of_work(write=False) as session:
            done = run_service.get_run(session, world.orchestration_id, started.id)
        assert done.status == "cancelled"
        # What was not answered for is not recorded as delivered, and keeps no fields.
        assert runhelp.state_of(world.database, world.orchestration_id) == {}
        assert all(i.payload is None for i in runhelp.item_rows(world.database, started.id))
        assert {i.status for i in runhelp.item_rows(world.database, started.id)} == {"skipped"}
        assert world.run().status == "completed"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_starts_one_wins(world: World) -> None:
    barrier = threading.Barrier(6)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait()
        try:
            with world.database.unit_of_work() as session:
                run_service.start_run(session, world.orchestration_id, now=world.clock())
            result = "started"
        except RunInProgress:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 5 + ["started"]
    with world.database.unit_of_work(write=False) as session:
        count = len(session.execute(select(OrchestrationRun.id)).all())
    assert count == 1


def test_a_job_zendesk_no_longer_knows_is_sent_again(
    database: Database, settings: Settings
) -> None:
    # The fake's own clock only moves when the test moves it: the job stays queued until
    # the clock jumps past its time to live, and Zendesk then no longer lists it.
    fake_time = FakeTime()
    with serve_zendesk(clock=fake_time, job_ttl=60.0) as fake:
        world = make_world(database, settings, fake)

        def bulk_requests() -> int:
            return sum("create_or_update_many" in r for r in list(fake.requests))

        def drive() -> None:
            for _ in range(2000):
                if any("job_statuses" in r for r in list(fake.requests)):
                    break
                threading.Event().wait(0.01)
            fake_time.sleep(61)  # the first job ran, then expired
            for _ in range(2000):
                if bulk_requests() == 2:
                    break
                threading.Event().wait(0.01)
            fake_time.sleep(1)  # the job sent again completes

        driver = threading.Thread(target=drive)
        driver.start()
        done = world.run()
        driver.join()
        n = len(world.keys)
        assert done.status == "completed"
        assert (done.counts.sent, done.counts.succeeded) == (n, n)
        assert bulk_requests() == 2
        # Upserts are idempotent: written twice, one user each.
        assert len(fake.users) == n
        assert set(fake.writes.values()) == {2}
