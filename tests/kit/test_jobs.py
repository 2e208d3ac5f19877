"""The job runner on each engine, on a hand-moved clock: enqueue in the caller's transaction,
retry with backoff, a terminal failure keeping its error, cancellation, progress, dedupe keys,
and the admin API and CLI over them."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from carebase.cli.main import app as cli
from carebase.db.session import Database
from carebase.kit.jobs import (
    Defer,
    GiveUp,
    JobContext,
    JobKind,
    JobSpec,
    Registry,
    RetryLater,
    RetryPolicy,
    Runner,
    enqueue,
)
from carebase.kit.jobs import service as jobs_service
from carebase.settings import Settings
from tests.conftest import FakeClock
from tests.helpers import auth

FLAKY = JobSpec("test_flaky", RetryPolicy(max_attempts=3, first_seconds=10, max_seconds=15))
SLOW = JobSpec("test_slow")


def job(database: Database, job_id: str) -> Any:
    with database.unit_of_work(write=False) as session:
        return jobs_service.get_job(session, job_id)


def add(database: Database, spec: JobSpec, clock: FakeClock, **payload: Any) -> str:
    with database.unit_of_work() as session:
        job_id, added = enqueue(session, spec, payload, now=clock())
    assert added
    return job_id


def test_a_job_exists_only_if_the_callers_transaction_commits(
    database: Database, clock: FakeClock
) -> None:
    def fail_after_enqueueing() -> None:
        with database.unit_of_work() as session:
            enqueue(session, FLAKY, {}, now=clock())
            raise RuntimeError("the caller failed")

    with pytest.raises(RuntimeError):
        fail_after_enqueueing()
    with database.unit_of_work(write=False) as session:
        assert jobs_service.status_counts(session) == {}


def test_failures_are_retried_with_backoff_then_fail_keeping_the_error(
    database: Database, clock: FakeClock
) -> None:
    attempts: list[int] = []

    def flaky(context: JobContext) -> None:
        attempts.append(context.attempt)
        raise RetryLater(f"helpdesk answered 503 (attempt {context.attempt})")

    runner = Runner(database, Registry([JobKind(FLAKY, flaky)]), clock=clock)
    job_id = add(database, FLAKY, clock)
    assert runner.run_due().retried == 1
    first = job(database, job_id)
    assert (first.status, first.attempts, first.error) == (
        "queued",
        1,
        "helpdesk answered 503 (attempt 1)",
    )
    delay = (first.run_at - clock()).total_seconds()
    assert 8 <= delay <= 10, "10 s shortened by at most 20 % jitter"
    assert runner.run_due().handled == 0, "not due yet"
    clock.advance(10)
    assert runner.run_due().retried == 1
    assert 12 <= (job(database, job_id).run_at - clock()).total_seconds() <= 15, "capped at 15 s"
    clock.advance(15)
    assert runner.run_due().failed == 1
    last = job(database, job_id)
    assert (last.status, last.attempts, last.error) == (
        "failed",
        3,
        "helpdesk answered 503 (attempt 3)",
    )
    assert last.finished_at == clock()
    clock.advance(3600)
    assert runner.run_due().handled == 0, "a failed job stays failed"
    assert attempts == [1, 2, 3]


def test_give_up_and_unexpected_errors(database: Database, clock: FakeClock) -> None:
    def handler(context: JobContext) -> None:
        if context.payload["how"] == "give up":
            raise GiveUp("the connector was deleted")
        raise ZeroDivisionError("division by zero")

    runner = Runner(database, Registry([JobKind(FLAKY, handler)]), clock=clock)
    gave_up = add(database, FLAKY, clock, how="give up")
    crashed = add(database, FLAKY, clock, how="crash")
    summary = runner.run_due()
    assert (summary.failed, summary.retried) == (1, 1)
    assert job(database, gave_up).error == "the connector was deleted"
    assert job(database, crashed).error == "ZeroDivisionError: division by zero"


def test_cancel_a_queued_job_at_once_and_a_running_one_at_its_next_progress(
    database: Database, clock: FakeClock
) -> None:
    started, release = threading.Event(), threading.Event()

    def slow(context: JobContext) -> dict[str, Any]:
        context.progress(1, 3, "first third")
        started.set()
        release.wait(30)
        context.progress(2, 3)
        return {"never": "reached"}

    registry = Registry([JobKind(SLOW, slow)])
    queued = add(database, SLOW, clock)
    with database.unit_of_work() as session:
        assert jobs_service.cancel_job(session, registry, queued, now=clock()).status == (
            "cancelled"
        )
    assert job(database, queued).error == "cancelled before it ran"

    running = add(database, SLOW, clock)
    runner = Runner(database, registry, clock=clock, poll_seconds=0.05)
    runner.start()
    try:
        assert started.wait(30)
        assert job(database, running).progress == {"done": 1, "total": 3, "note": "first third"}
        with database.unit_of_work() as session:
            asked = jobs_service.cancel_job(session, registry, running, now=clock())
        assert (asked.status, asked.cancel_requested) == ("running", True)
        release.set()
        for _ in range(200):
            if job(database, running).status != "running":
                break
            threading.Event().wait(0.05)
    finally:
        runner.stop()
    ended = job(database, running)
    assert (ended.status, ended.error) == ("cancelled", "cancelled while running")
    with database.unit_of_work() as session, pytest.raises(Exception, match="already ended"):
        jobs_service.cancel_job(session, registry, running, now=clock())


def test_a_dedupe_key_allows_one_live_job(database: Database, clock: FakeClock) -> None:
    runner = Runner(database, Registry([JobKind(SLOW, lambda _c: None)]), clock=clock)
    with database.unit_of_work() as session:
        first, added = enqueue(session, SLOW, {}, now=clock(), dedupe_key="refresh:seg_1")
        again, added_again = enqueue(session, SLOW, {}, now=clock(), dedupe_key="refresh:seg_1")
    assert added
    assert not added_again
    assert again == first
    assert runner.run_due().succeeded == 1
    with database.unit_of_work() as session:
        later, added_later = enqueue(session, SLOW, {}, now=clock(), dedupe_key="refresh:seg_1")
    assert added_later, "once ended, the key is free again"
    assert later != first


def test_a_worker_that_lost_its_lease_records_nothing(database: Database, clock: FakeClock) -> None:
    def handler(context: JobContext) -> dict[str, Any]:
        if context.attempt == 1:
            clock.advance(120)  # longer than the lease, and no heartbeat renewed it
            assert other.run_due().succeeded == 1
        return {"attempt": context.attempt}

    registry = Registry([JobKind(SLOW, handler)])
    first = Runner(database, registry, clock=clock, lease_seconds=60)
    other = Runner(database, registry, clock=clock, lease_seconds=60)
    job_id = add(database, SLOW, clock)
    assert first.run_due().lost == 1
    done = job(database, job_id)
    assert (done.status, done.result, done.lease_owner) == (
        "succeeded",
        {"attempt": 2},
        other.owner,
    )


def test_the_admin_api_lists_shows_and_cancels_jobs(
    client: TestClient, admin_token: str, database: Database, clock: FakeClock
) -> None:
    ids = [add(database, SLOW, clock, n=n) for n in range(3)]
    page = client.get("/v1/jobs?limit=2", headers=auth(admin_token)).json()
    assert [j["id"] for j in page["items"]] == ids[::-1][:2]
    assert page["counts"] == {"queued": 3}
    rest = client.get(
        f"/v1/jobs?limit=2&cursor={page['next_cursor']}", headers=auth(admin_token)
    ).json()
    assert [j["id"] for j in rest["items"]] == [ids[0]]
    assert rest["next_cursor"] is None
    shown = client.get(f"/v1/jobs/{ids[0]}", headers=auth(admin_token)).json()
    assert (shown["kind"], shown["status"], shown["payload"]) == ("test_slow", "queued", {"n": 0})
    cancelled = client.post(f"/v1/jobs/{ids[0]}/cancel", headers=auth(admin_token))
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert client.post(f"/v1/jobs/{ids[0]}/cancel", headers=auth(admin_token)).status_code == 409
    assert client.get("/v1/jobs/job_nope", headers=auth(admin_token)).status_code == 404
    bad = client.get("/v1/jobs?status=done", headers=auth(admin_token))
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "status"
    assert client.get("/v1/jobs?cursor=%%%", headers=auth(admin_token)).status_code == 422
    assert client.get("/v1/jobs").status_code == 401


def test_the_jobs_cli(
    database: Database, settings: Settings, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREBASE_DATABASE_URL", settings.database_url)
    job_id = add(database, SLOW, clock)
    listed = CliRunner().invoke(cli, ["jobs", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert job_id in listed.stdout
    shown = CliRunner().invoke(cli, ["jobs", "show", job_id])
    assert '"status": "queued"' in shown.stdout
    cancelled = CliRunner().invoke(cli, ["jobs", "cancel", job_id])
    assert cancelled.exit_code == 0, cancelled.output
    assert job(database, job_id).status == "cancelled"
    assert CliRunner().invoke(cli, ["jobs", "cancel", job_id]).exit_code == 1


DEFERRABLE = JobSpec("test_deferrable", RetryPolicy(max_attempts=2, first_seconds=10))


def test_a_deferred_attempt_is_not_counted_and_a_retry_waits_for_the_services_pause(
    database: Database, clock: FakeClock
) -> None:
    seen: list[int] = []

    def handler(context: JobContext) -> dict[str, Any]:
        seen.append(context.attempt)
        if len(seen) <= 3:
            raise Defer("the helpdesk's budget is spent", after=30)
        if len(seen) == 4:
            raise RetryLater("the helpdesk answered 429", after=100)
        return {"ok": True}

    runner = Runner(database, Registry([JobKind(DEFERRABLE, handler)]), clock=clock)
    job_id = add(database, DEFERRABLE, clock)
    for _ in range(3):
        assert runner.run_due().deferred == 1
        row = job(database, job_id)
        assert (row.status, row.attempts, row.lease_expires_at) == ("queued", 0, None)
        assert row.error == "the helpdesk's budget is spent"
        assert 30 <= (row.run_at - clock()).total_seconds() <= 33, "30 s, up to a tenth later"
        clock.advance(33)
    assert runner.run_due().retried == 1
    row = job(database, job_id)
    assert (row.status, row.attempts) == ("queued", 1)
    assert (row.run_at - clock()).total_seconds() == 100, "the longer of 100 s and the backoff"
    clock.advance(100)
    assert runner.run_due().succeeded == 1
    assert seen == [1, 1, 1, 1, 2], "three deferrals spent none of the two attempts"


WAITING = JobSpec("test_waiting")
BUSY = JobSpec("test_busy")


def test_stopping_gives_back_a_job_waiting_elsewhere_at_once_and_a_busy_one_after_the_grace(
    database: Database, clock: FakeClock
) -> None:
    unblock = threading.Event()
    waiting_started, busy_started = threading.Event(), threading.Event()

    def waiting(context: JobContext) -> dict[str, Any]:
        with context.waiting_elsewhere():
            waiting_started.set()
            unblock.wait(30)  # a call that never answers, and that nothing interrupts
        return {"never": "recorded"}

    def busy(context: JobContext) -> None:
        busy_started.set()
        unblock.wait(30)  # work that does not check in
        with database.unit_of_work() as session:
            context.complete(session, {"late": True})

    registry = Registry([JobKind(WAITING, waiting), JobKind(BUSY, busy)])
    waiting_id, busy_id = add(database, WAITING, clock), add(database, BUSY, clock)
    runner = Runner(database, registry, threads=2, clock=clock, poll_seconds=0.05)
    runner.start()
    try:
        assert waiting_started.wait(10)
        assert busy_started.wait(10)
        stopper = threading.Thread(target=runner.stop, kwargs={"grace_seconds": 2.0})
        started = time.monotonic()
        stopper.start()
        while job(database, waiting_id).status == "running" and time.monotonic() - started < 5:
            time.sleep(0.02)
        given_back_after = time.monotonic() - started
        assert job(database, busy_id).status == "running", "the busy job has its grace"
        stopper.join(10)
        stopped_after = time.monotonic() - started
    finally:
        unblock.set()
    assert given_back_after < 0.5
    assert 2.0 <= stopped_after < 3.8, "the grace, a second to check in, no wait for threads"
    assert runner.summary.released == 2
    for thread in runner._workers:
        thread.join(10)
    for job_id in (waiting_id, busy_id):
        row = job(database, job_id)
        assert (row.status, row.attempts, row.lease_expires_at, row.result) == (
            "queued",
            0,
            None,
            None,
        ), "given back untouched; what the abandoned handlers did afterwards was not recorded"


def test_a_conflict_with_another_transaction_is_retried_at_once(
    database: Database, clock: FakeClock
) -> None:
    from sqlalchemy.exc import IntegrityError

    attempts: list[int] = []

    def collides_once(context: JobContext) -> None:
        attempts.append(context.attempt)
        if context.attempt == 1:
            raise IntegrityError("INSERT …", {}, Exception("duplicate key"))

    runner = Runner(database, Registry([JobKind(FLAKY, collides_once)]), clock=clock)
    job_id = add(database, FLAKY, clock)
    # No backoff: the second attempt is due at once, in the same run, on the same clock.
    summary = runner.run_due()
    assert (summary.retried, summary.succeeded) == (1, 1)
    assert attempts == [1, 2]
    assert job(database, job_id).status == "succeeded"
