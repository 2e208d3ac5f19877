"""Done means (c): killing the worker process (SIGKILL, a real `carebase worker`) in the
middle of a run to the Zendesk fake and starting another finishes the run with every record
sent exactly once — the fake counts writes per user. The kill lands once the fake has been
polled for jobs, i.e. once their handles are committed; the restarted worker takes the job
back when its short lease lapses, follows the jobs left in flight and sends the rest."""

from __future__ import annotations

import signal
import time
from typing import Any

import pytest

from carebase.activation import run_service
from carebase.db.session import Database
from tests.activation import runhelp
from tests.activation.zendesk_fake import FakeZendesk
from tests.conftest import test_settings
from tests.serverproc import running_worker, stop

pytestmark = pytest.mark.slow
USERS = 500
# A saved query's SQL (it goes through the SQL gate, not to the database as such).
SQL = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) "
    "SELECT 'ext-' || i AS external_id, 'Customer ' || i AS name FROM n"
)
ENV = {
    "CAREBASE_ALLOW_PRIVATE_OUTBOUND": "true",
    "CAREBASE_JOB_LEASE_SECONDS": "2",
    "CAREBASE_JOB_POLL_SECONDS": "0.2",
    "CAREBASE_LOG_LEVEL": "WARNING",
}


def wait_for(condition: Any, timeout: float, what: str) -> None:
    """Poll until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_sigkill_mid_run_then_restart_sends_each_record_once(
    database_url: str, zendesk_fake: FakeZendesk
) -> None:
    settings = test_settings(database_url, allow_private_outbound=True)
    database = Database.from_settings(settings)
    try:
        query_id = runhelp.save_query(database, SQL)
        destination = runhelp.destination(
            database,
            settings,
            "zendesk",
            # Two jobs in flight: the run polls between submissions, which are paced.
            {"base_url": zendesk_fake.url, "email": zendesk_fake.email, "max_jobs_in_flight": 2},
            {"api_token": zendesk_fake.api_token},
        )
        orchestration = runhelp.orchestration(
            database, destination, {"type": "query", "id": query_id}
        )
        started = runhelp.start(database, orchestration, runhelp.utcnow())

        def polled() -> bool:
            return any("job_statuses" in request for request in list(zendesk_fake.requests))

        with running_worker(database_url, env=ENV) as worker:
            wait_for(polled, 60, "the first job poll")
            stop(worker, signal.SIGKILL)
        with database.unit_of_work(write=False) as session:
            middle = run_service.get_run(session, orchestration, started.id)
        assert middle.status == "sending"
        assert middle.counts.succeeded < USERS
        with running_worker(database_url, env=ENV):

            def ended() -> bool:
                with database.unit_of_work(write=False) as session:
                    run = run_service.get_run(session, orchestration, started.id)
                return run.status not in ("waiting_to_start", "querying", "sending")

            wait_for(ended, 90, "the run to end")
        with database.unit_of_work(write=False) as session:
            done = run_service.get_run(session, orchestration, started.id)
        assert done.status == "completed", done.error
        assert (done.counts.sent, done.counts.succeeded) == (USERS, USERS)
        assert len(zendesk_fake.users) == USERS
        assert set(zendesk_fake.writes.values()) == {1}
    finally:
        database.dispose()
