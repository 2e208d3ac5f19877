"""One helpdesk's trouble stays its own: a delivery whose helpdesk is down, rate-limited or hung
is scheduled for later instead of waiting on a worker thread, so other connectors' deliveries
go on; and a worker that is stopped gives such a delivery back at once, for another process."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from carebase.app import create_app
from carebase.connectors.kinds import KINDS
from carebase.connectors.service import ClientOptions
from carebase.db.session import Database
from carebase.jobkinds import registry
from carebase.kit.jobs import Runner
from carebase.kit.pacing import SharedPacer
from carebase.settings import Settings
from tests.conftest import FakeClock
from tests.connectors import fakes
from tests.connectors.conftest import Connected, connect
from tests.helpers import auth
from tests.pg import free_port
from tests.serverproc import running_worker, stop

WORKER_ENV = {
    "CAREBASE_IN_PROCESS_WORKER": "false",
    "CAREBASE_ALLOW_PRIVATE_OUTBOUND": "true",
    "CAREBASE_JOB_POLL_SECONDS": "0.1",
    "CAREBASE_LOG_LEVEL": "WARNING",
}


def deliver(client: TestClient, connector: Connected, ticket_id: int) -> str:
    """Post a webhook naming `ticket_id` as Gorgias or Freshdesk would; the delivery id."""
    response = client.post(
        f"/v1/connectors/{connector.id}/webhook",
        json={"ticket_id": ticket_id},
        headers={"X-Carebase-Webhook-Secret": str(connector.secret)},
    )
    assert response.status_code == 202, response.text
    delivery_id: str = response.json()["delivery_id"]
    return delivery_id


def delivery(client: TestClient, token: str, connector: Connected) -> dict[str, Any]:
    response = client.get(f"/v1/connectors/{connector.id}/deliveries", headers=auth(token))
    [found] = response.json()["deliveries"]
    return dict(found)


def job_of(client: TestClient, token: str, delivery_id: str) -> dict[str, Any]:
    jobs = client.get("/v1/jobs?limit=100", headers=auth(token)).json()["items"]
    [job] = [j for j in jobs if j["payload"] == {"delivery_id": delivery_id}]
    return dict(job)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_an_unreachable_helpdesk_does_not_hold_up_another_connector(
    client: TestClient,
    admin_token: str,
    database: Database,
    settings: Settings,
    clock: FakeClock,
) -> None:
    """One worker thread; a delivery whose helpdesk refuses connections is first in line. It
    is scheduled for a later attempt at once, nothing slept, and the healthy Gorgias delivery
    behind it is done within a second or two of wall time."""
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    options = ClientOptions(sleep=sleep, clock=clock)  # real waits and wall-clock pacing
    closed = f"http://127.0.0.1:{free_port()}"  # nobody listens: connections are refused
    with fakes.serve(fakes.gorgias({9001: fakes.gorgias_ticket(9001)})) as gorgias:
        down = connect(client, admin_token, "freshdesk", closed)
        healthy = connect(client, admin_token, "gorgias", gorgias.url)
        stuck_id = deliver(client, down, 101)
        clock.advance(1)  # queued after it
        deliver(client, healthy, 9001)
        runner = Runner(
            database,
            registry(settings, options=options),
            threads=1,
            poll_seconds=0.05,
            clock=clock,
        )
        started = time.monotonic()
        runner.start()
        try:
            while time.monotonic() - started < 15:
                if delivery(client, admin_token, healthy)["status"] == "done":
                    break
                time.sleep(0.02)
            took = time.monotonic() - started
        finally:
            runner.stop(grace_seconds=1)
    assert delivery(client, admin_token, healthy)["status"] == "done"
    assert took < 2.0, f"the healthy delivery waited {took:.1f} s behind the unreachable one"
    stuck = delivery(client, admin_token, down)
    assert (stuck["status"], stuck["attempts"]) == ("pending", 1)
    assert "unreachable" in stuck["error"]
    job = job_of(client, admin_token, stuck_id)
    assert (job["status"], job["attempts"], job["lease_expires_at"]) == ("queued", 1, None)
    assert at(job["run_at"]) >= clock() + timedelta(seconds=45), "its retry is scheduled"
    assert sleeps == [], "nothing was slept on the worker thread"


def test_a_hung_helpdesk_holds_at_most_half_the_threads(
    client: TestClient,
    admin_token: str,
    database: Database,
    settings: Settings,
    clock: FakeClock,
) -> None:
    """Two threads; two deliveries for a helpdesk that accepts connections and never answers
    are first in line, a Gorgias delivery behind them. One thread waits on the hung helpdesk;
    the other does not take its second delivery but runs Gorgias's at once."""
    options = ClientOptions(clock=clock)
    with (
        fakes.silent() as hung,
        fakes.serve(fakes.gorgias({9001: fakes.gorgias_ticket(9001)})) as gorgias,
    ):
        stuck = connect(client, admin_token, "freshdesk", hung.url)
        healthy = connect(client, admin_token, "gorgias", gorgias.url)
        deliver(client, stuck, 101)
        clock.advance(1)
        deliver(client, stuck, 102)
        clock.advance(1)
        deliver(client, healthy, 9001)
        runner = Runner(
            database,
            registry(settings, options=options),
            threads=2,
            poll_seconds=0.05,
            clock=clock,
        )
        started = time.monotonic()
        runner.start()
        try:
            while time.monotonic() - started < 15:
                if delivery(client, admin_token, healthy)["status"] == "done":
                    break
                time.sleep(0.02)
            took = time.monotonic() - started
            assert len(hung.accepted) == 1, "the hung helpdesk's second delivery waits its turn"
        finally:
            runner.stop(grace_seconds=1)
    assert took < 2.0, f"the Gorgias delivery waited {took:.1f} s behind the hung helpdesk"
    response = client.get(f"/v1/connectors/{stuck.id}/deliveries", headers=auth(admin_token))
    assert [(d["status"], d["attempts"]) for d in response.json()["deliveries"]] == [
        ("pending", 0),
        ("pending", 0),
    ], "the one in hand was given back when the runner stopped"


def test_a_429_schedules_the_retry_and_holds_the_connector_without_sleeping(
    client: TestClient,
    admin_token: str,
    database: Database,
    settings: Settings,
    clock: FakeClock,
) -> None:
    sleeps: list[float] = []
    options = ClientOptions(sleep=sleeps.append, timer=lambda: clock().timestamp(), clock=clock)
    runner = Runner(database, registry(settings, options=options), clock=clock)
    tickets = {1: fakes.gorgias_ticket(1), 2: fakes.gorgias_ticket(2)}
    with fakes.serve(fakes.gorgias(tickets)) as gorgias:
        connector = connect(client, admin_token, "gorgias", gorgias.url)
        gorgias.failures.append((429, "120"))
        first = deliver(client, connector, 1)
        assert runner.run_due().retried == 1
        assert sleeps == [], "the Retry-After was not slept"
        job = job_of(client, admin_token, first)
        assert (job["status"], job["attempts"], job["lease_expires_at"]) == ("queued", 1, None)
        assert at(job["run_at"]) == clock() + timedelta(seconds=120), "max(Retry-After, backoff)"
        assert "429" in job["error"]

        # Gorgias said not before 120 s: another delivery for it waits without calling it and
        # without spending an attempt.
        second = deliver(client, connector, 2)
        assert runner.run_due().handled == 1
        assert len(gorgias.requests) == 1, "the held connector was not called"
        held = job_of(client, admin_token, second)
        assert (held["status"], held["attempts"]) == ("queued", 0)
        assert at(held["run_at"]) >= clock() + timedelta(seconds=120)
        assert at(held["run_at"]) <= clock() + timedelta(seconds=150)

        clock.advance(150)
        # (The tickets' conversations also schedule the inbox's case-close check: count the
        # deliveries' jobs only.)
        assert runner.run_due().succeeded >= 2
        statuses = {job_of(client, admin_token, d)["status"] for d in (first, second)}
        assert statuses == {"succeeded"}
    attempts = {job_of(client, admin_token, d)["attempts"] for d in (first, second)}
    assert attempts == {2, 1}, "the 429 counted once, for the delivery that received it"
    assert sleeps == [0.5], "only Gorgias's pace, between the two, was waited in place"


def test_a_spent_budget_defers_the_delivery_without_calling_or_counting(
    client: TestClient,
    admin_token: str,
    database: Database,
    settings: Settings,
    clock: FakeClock,
) -> None:
    """Other workers have booked the connector's next five seconds of requests: the delivery
    does not wait for a slot on its thread; it is queued for then, its attempt not counted."""
    sleeps: list[float] = []
    options = ClientOptions(sleep=sleeps.append, timer=lambda: clock().timestamp(), clock=clock)
    runner = Runner(database, registry(settings, options=options), clock=clock)
    tickets = {1: fakes.gorgias_ticket(1), 2: fakes.gorgias_ticket(2)}
    with fakes.serve(fakes.gorgias(tickets)) as gorgias:
        connector = connect(client, admin_token, "gorgias", gorgias.url)
        budget = SharedPacer(database, f"helpdesk:{connector.id}", KINDS["gorgias"].pacing)
        for _ in range(10):  # one every 0.5 s: five seconds' worth
            budget.reserve(clock().timestamp())
        delivery_id = deliver(client, connector, 1)
        runner.run_due()
        assert gorgias.requests == []
        assert sleeps == []
        job = job_of(client, admin_token, delivery_id)
        assert (job["status"], job["attempts"]) == ("queued", 0)
        assert at(job["run_at"]) >= clock() + timedelta(seconds=5)
        assert delivery(client, admin_token, connector)["status"] == "pending"
        clock.advance(10)
        runner.run_due()
        assert job_of(client, admin_token, delivery_id)["status"] == "succeeded"
        # A slot less than a second away is waited for in place.
        clock.advance(10)
        budget.reserve(clock().timestamp())
        waited = deliver(client, connector, 2)
        runner.run_due()
        assert job_of(client, admin_token, waited)["status"] == "succeeded"
        assert sleeps == [0.5]
    assert job_of(client, admin_token, waited)["attempts"] == 1


def test_sigterm_gives_back_a_delivery_waiting_on_a_hung_helpdesk_at_once(
    client: TestClient, admin_token: str, database_url: str
) -> None:
    """`carebase worker` is stopped while its delivery waits on a helpdesk that accepted the
    connection and never answers: it exits within seconds, and the job is queued again with
    no lease and its attempt not counted, for another worker to take at once."""
    with fakes.silent() as helpdesk:
        connector = connect(client, admin_token, "gorgias", helpdesk.url)
        delivery_id = deliver(client, connector, 7)
        with running_worker(database_url, env=WORKER_ENV) as worker:
            deadline = time.monotonic() + 30
            while not helpdesk.accepted and time.monotonic() < deadline:
                time.sleep(0.05)
            assert helpdesk.accepted, "\n".join(worker.stderr)
            assert job_of(client, admin_token, delivery_id)["status"] == "running"
            started = time.monotonic()
            stop(worker, signal.SIGTERM)
            took = time.monotonic() - started
    assert took < 5.0, f"the worker took {took:.1f} s to stop"
    assert worker.process.returncode == 0, "\n".join(worker.stderr)
    assert any(line.startswith("stopped:") and "1 given back" in line for line in worker.stderr)
    job = job_of(client, admin_token, delivery_id)
    assert (job["status"], job["attempts"], job["lease_expires_at"]) == ("queued", 0, None)
    assert at(job["run_at"]) <= datetime.now(UTC), "due at once"
    assert delivery(client, admin_token, connector)["status"] == "pending"


def test_serve_shutdown_gives_back_a_delivery_waiting_on_a_hung_helpdesk_at_once(
    settings: Settings, database: Database, admin_token: str, clock: FakeClock
) -> None:
    """The same for the worker inside `carebase serve`: shutting the app down does not wait
    for the helpdesk."""
    app = create_app(settings, database=database, clock=clock, run_jobs=True)
    with fakes.silent() as helpdesk:
        with TestClient(app) as client:
            connector = connect(client, admin_token, "gorgias", helpdesk.url)
            delivery_id = deliver(client, connector, 7)
            deadline = time.monotonic() + 30
            while not helpdesk.accepted and time.monotonic() < deadline:
                time.sleep(0.05)
            assert helpdesk.accepted
            started = time.monotonic()
        took = time.monotonic() - started
        reading = create_app(settings, database=database, clock=clock, run_jobs=False)
        with TestClient(reading) as reader:
            job = job_of(reader, admin_token, delivery_id)
    assert took < 3.0, f"shutting down took {took:.1f} s"
    assert (job["status"], job["attempts"], job["lease_expires_at"]) == ("queued", 0, None)
