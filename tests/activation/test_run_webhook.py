"""Runs to a webhook receiver (synchronous batches), on both engines: counts and
per-record rejections; a profile forgotten while the run sends is never sent; and a run
resumed after its worker stopped mid-batch delivers every record exactly once (the batch
in flight is re-sent with the same batch id, which the receiver deduplicates)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from carebase.activation import run_service, runs_repository
from carebase.db.session import Database
from carebase.kit.jobs import Runner
from carebase.models import Job, PacingSlot, Profile
from carebase.models.activation import ActivationState, RunItem
from carebase.profiles import service as profiles
from carebase.settings import Settings
from tests.activation import runhelp
from tests.activation.receiver import Receiver
from tests.conftest import test_settings

SQL = (
    "SELECT profile_id AS external_id, full_name AS name, email FROM customer_360 "
    "WHERE full_name IS NOT NULL"
)
BATCH = 4


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Loopback destinations allowed."""
    return test_settings(database_url, allow_private_outbound=True)


class Gate:
    """Holds the receiver's answer to request number `hold_at` (1-based) until released —
    after the receiver recorded that batch, as when a receiver's answer is lost."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.hold_at = 0
        self.held, self.release, self.answered = (threading.Event() for _ in range(3))
        self._handle = receiver.handle
        receiver.handle = self.handle  # type: ignore[method-assign]

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        """The receiver's answer, held when it is the chosen request's."""
        answer = self._handle(headers, body)
        if len(self.receiver.requests) == self.hold_at:
            self.held.set()
            self.release.wait(20)
            self.answered.set()
        return answer


@dataclass
class World:
    database: Database
    settings: Settings
    receiver: Receiver
    clock: runhelp.Clock
    orchestration_id: str


@pytest.fixture
def gated(webhook_receiver: Receiver) -> Iterator[Gate]:
    """The receiver, with a gate on its answers."""
    gate = Gate(webhook_receiver)
    yield gate
    gate.release.set()


def make_world(database: Database, settings: Settings, receiver: Receiver) -> World:
    runhelp.load_demo(database, settings, profiles=24)
    query_id = runhelp.save_query(database, SQL)
    destination = runhelp.destination(
        database,
        settings,
        "webhook",
        {"url": receiver.url, "batch_size": BATCH},
        {"signing_secret": receiver.secret},
    )
    orchestration = runhelp.orchestration(database, destination, {"type": "query", "id": query_id})
    return World(database, settings, receiver, runhelp.Clock(), orchestration)


def per_key(receiver: Receiver) -> Counter[str]:
    """How many times each key was delivered (batches counted once per batch id)."""
    return Counter(record["key"] for record in receiver.records())


def test_run_to_webhook_counts_and_rejections(
    database: Database, settings: Settings, webhook_receiver: Receiver
) -> None:
    world = make_world(database, settings, webhook_receiver)
    dry = runhelp.run_now(database, settings, world.clock, world.orchestration_id, dry_run=True)
    n = dry.counts.queried
    assert n > 2 * BATCH
    assert webhook_receiver.requests == []
    samples = dry.details["samples"]["create"]  # type: ignore[index]
    victim = samples[1]["key"]
    webhook_receiver.reject(victim, "blocked", "This customer opted out of syncing")
    done = runhelp.run_now(database, settings, world.clock, world.orchestration_id)
    assert done.status == "completed_with_errors"
    assert (done.counts.sent, done.counts.succeeded, done.counts.rejected) == (n, n - 1, 1)
    counted = per_key(webhook_receiver)
    assert len(counted) == n
    assert set(counted.values()) == {1}
    assert len(webhook_receiver.deliveries) == -(-n // BATCH)
    kept = runhelp.records(database, world.orchestration_id, done.id)
    assert [(r.record_key, r.error_code, r.message) for r in kept] == [
        (victim, "blocked", "This customer opted out of syncing")
    ]
    # A retry of the failed sends just that one.
    webhook_receiver.rejections.clear()
    with database.unit_of_work() as session:
        retry = run_service.retry_failed(
            session, world.orchestration_id, done.id, now=world.clock(), requested_by=None
        )
    runhelp.work(database, settings, world.clock)
    with database.unit_of_work(write=False) as session:
        again = run_service.get_run(session, world.orchestration_id, retry.id)
    assert (again.status, again.counts.sent, again.counts.succeeded) == ("completed", 1, 1)
    assert per_key(webhook_receiver)[victim] == 2


def _worker(database: Database, settings: Settings, clock: Any) -> Runner:
    runner = Runner(
        database, runhelp.registry(settings), clock=clock, poll_seconds=0.05, lease_seconds=30
    )
    runner.start()
    return runner


def test_a_run_resumed_after_its_worker_stopped_delivers_each_record_once(
    database: Database, settings: Settings, gated: Gate
) -> None:
    world = make_world(database, settings, gated.receiver)
    gated.hold_at = 3  # two batches answered, the third recorded but its answer held
    started = runhelp.start(database, world.orchestration_id, world.clock())
    runner = _worker(database, settings, world.clock)
    assert gated.held.wait(20)
    # The worker stops while waiting on the receiver: the job is given back at once.
    runner.stop(grace_seconds=0.1)
    gated.release.set()
    assert gated.answered.wait(10)
    time.sleep(0.2)  # the old handler sees it was given back and records nothing
    with database.unit_of_work(write=False) as session:
        middle = run_service.get_run(session, world.orchestration_id, started.id)
    assert middle.status == "sending"
    assert middle.counts.succeeded == 2 * BATCH
    # A fresh worker takes the run back and finishes it.
    runhelp.work(database, settings, world.clock)
    with database.unit_of_work(write=False) as session:
        done = run_service.get_run(session, world.orchestration_id, started.id)
    n = done.counts.queried
    assert done.status == "completed"
    assert (done.counts.sent, done.counts.succeeded) == (n, n)
    counted = per_key(gated.receiver)
    assert len(counted) == n
    assert set(counted.values()) == {1}
    # The held batch was sent again with its batch id, and the receiver knew it.
    assert gated.receiver.duplicates == 1
    assert len(gated.receiver.requests) == -(-n // BATCH) + 1


def test_a_profile_forgotten_while_sending_is_never_sent(
    database: Database, settings: Settings, gated: Gate
) -> None:
    world = make_world(database, settings, gated.receiver)
    gated.hold_at = 1
    started = runhelp.start(database, world.orchestration_id, world.clock())
    runner = threading.Thread(target=runhelp.work, args=(database, settings, world.clock))
    runner.start()
    assert gated.held.wait(20)
    # While the first batch waits: the last pending record's profile is forgotten.
    with database.unit_of_work(write=False) as session:
        last = session.execute(
            select(RunItem.record_key, RunItem.profile_id)
            .where(RunItem.run_id == started.id, RunItem.status == "pending")
            .order_by(RunItem.seq.desc())
        ).first()
    assert last is not None
    with database.unit_of_work() as session:
        profiles.forget(session, last.profile_id, now=world.clock())
    gated.release.set()
    runner.join(30)
    with database.unit_of_work(write=False) as session:
        done = run_service.get_run(session, world.orchestration_id, started.id)
        state = session.execute(
            select(ActivationState.record_key).where(ActivationState.profile_id == last.profile_id)
        ).all()
    assert done.status == "completed"
    assert last.record_key not in per_key(gated.receiver)
    assert state == []
    assert done.counts.sent == done.counts.queried - 1


def test_a_destination_refusing_everything_fails_the_run(
    database: Database, settings: Settings, webhook_receiver: Receiver
) -> None:
    world = make_world(database, settings, webhook_receiver)
    webhook_receiver.fail_next(401, message="bad signature for this hook")
    done = runhelp.run_now(database, settings, world.clock, world.orchestration_id)
    assert done.status == "failed"
    assert done.error is not None
    assert "401" in done.error
    assert done.finished_at is not None
    # Nothing counts as delivered; nothing of the records' fields is kept; the
    # orchestration is free for the next run, which delivers everything.
    assert runhelp.state_of(database, world.orchestration_id) == {}
    items = runhelp.item_rows(database, done.id)
    assert items
    assert {i.status for i in items} == {"skipped"}
    assert all(i.payload is None for i in items)
    again = runhelp.run_now(database, settings, world.clock, world.orchestration_id)
    assert again.status == "completed"
    assert again.counts.succeeded == again.counts.queried


def test_finished_runs_are_kept_for_the_retention_period(
    database: Database, settings: Settings, webhook_receiver: Receiver
) -> None:
    world = make_world(database, settings, webhook_receiver)
    old = runhelp.run_now(database, settings, world.clock, world.orchestration_id)
    world.clock.advance(29 * 86400)
    recent = runhelp.run_now(database, settings, world.clock, world.orchestration_id)
    world.clock.advance(2 * 86400)  # `old` ended 31 days ago, `recent` 2 days ago
    latest = runhelp.run_now(database, settings, world.clock, world.orchestration_id)
    with database.unit_of_work(write=False) as session:
        kept, _ = run_service.list_runs(session, world.orchestration_id, limit=10, after=None)
    assert [run.id for run in kept] == [latest.id, recent.id]
    assert runhelp.item_rows(database, old.id) == []
    # A page at a time, newest first.
    with database.unit_of_work(write=False) as session:
        first, cursor = run_service.list_runs(session, world.orchestration_id, limit=1, after=None)
        second, end = run_service.list_runs(session, world.orchestration_id, limit=1, after=cursor)
    assert [r.id for r in first + second] == [latest.id, recent.id]
    assert cursor is not None
    assert end is None


def test_a_segment_runs_to_the_webhook_and_a_never_computed_one_fails(
    database: Database, settings: Settings, webhook_receiver: Receiver
) -> None:
    runhelp.load_demo(database, settings, profiles=12)
    destination = runhelp.destination(
        database,
        settings,
        "webhook",
        {"url": webhook_receiver.url, "batch_size": BATCH},
        {"signing_secret": webhook_receiver.secret},
    )
    clock = runhelp.Clock()
    computed = runhelp.segment(database)
    members = runhelp.orchestration(
        database,
        destination,
        {"type": "segment", "id": computed, "attributes": ["email", "city"]},
        name="Members",
    )
    done = runhelp.run_now(database, settings, clock, members)
    assert done.status == "completed"
    assert done.counts.succeeded == done.counts.queried > 0
    for record in webhook_receiver.records():
        assert set(record["fields"]) == {"profile_id", "email", "city"}
        assert record["key"] == record["fields"]["profile_id"]
    never = runhelp.segment(database, at_least=2, computed=False)
    waiting = runhelp.orchestration(
        database, destination, {"type": "segment", "id": never}, name="Never"
    )
    failed = runhelp.run_now(database, settings, clock, waiting)
    assert failed.status == "failed"
    assert failed.error is not None
    assert "never been computed" in failed.error


def test_a_destination_asking_to_wait_retries_the_run_later(
    database: Database, settings: Settings, webhook_receiver: Receiver
) -> None:
    world = make_world(database, settings, webhook_receiver)
    webhook_receiver.fail_next(429, retry_after="600", message="slow down")
    started = runhelp.start(database, world.orchestration_id, world.clock())
    runhelp.work(database, settings, world.clock)
    with database.unit_of_work(write=False) as session:
        waiting = run_service.get_run(session, world.orchestration_id, started.id)
        job = session.execute(
            select(Job).where(Job.id == waiting_job(session, started.id))
        ).scalar_one()
    # Not failed: the run keeps its place and says why it waits; its job comes back later.
    assert waiting.status == "sending"
    assert waiting.error is not None
    assert waiting.error.startswith("retrying:")
    assert job.status == "queued"
    assert job.run_at >= world.clock() + timedelta(seconds=600)
    world.clock.advance(601)
    # The destination's shared budget is held for 600 s of real time: let that pass too.
    with database.counters() as session:
        assert session.execute(update(PacingSlot).values(next_at_us=0)).rowcount == 1  # type: ignore[attr-defined]
    runhelp.work(database, settings, world.clock)
    with database.unit_of_work(write=False) as session:
        done = run_service.get_run(session, world.orchestration_id, started.id)
    assert done.status == "completed"
    assert done.error is None
    counted = per_key(webhook_receiver)
    assert len(counted) == done.counts.queried
    assert set(counted.values()) == {1}


def waiting_job(session: Any, run_id: str) -> str:
    """The job of a run."""
    from carebase.models.activation import OrchestrationRun

    job_id = session.execute(
        select(OrchestrationRun.job_id).where(OrchestrationRun.id == run_id)
    ).scalar_one()
    return str(job_id)


def test_items_of_a_profile_forgotten_while_the_source_was_read_are_dropped(
    database: Database, settings: Settings, webhook_receiver: Receiver
) -> None:
    # The source is read in one snapshot and the work list written chunk by chunk: a forget
    # committing in between deletes nothing of items not yet written, so the phase ends by
    # dropping the items of profiles gone meanwhile (as a stale snapshot would write them).
    world = make_world(database, settings, webhook_receiver)
    started = runhelp.start(database, world.orchestration_id, world.clock())
    with database.unit_of_work(write=False) as session:
        live = select(Profile.id).where(Profile.merged_into_id.is_(None)).order_by(Profile.id)
        ids = [str(profile_id) for profile_id in session.execute(live).scalars()]
    gone = ids[0]
    with database.unit_of_work() as session:
        profiles.forget(session, gone, now=world.clock())
    with database.unit_of_work() as session:
        session.execute(
            insert(RunItem),
            [
                {
                    "run_id": started.id,
                    "seq": seq,
                    "record_key": profile_id,
                    "profile_id": profile_id,
                    "action": "new",
                    "payload": {"external_id": profile_id},
                    "payload_hash": "h",
                    "status": "pending",
                }
                for seq, profile_id in enumerate([gone, ids[1]], start=1)
            ],
        )
    with database.unit_of_work() as session:
        runs_repository.drop_items_of_gone_profiles(session, started.id)
    with database.unit_of_work(write=False) as session:
        left = session.execute(
            select(RunItem.profile_id).where(RunItem.run_id == started.id)
        ).scalars()
        assert list(left) == [ids[1]]
