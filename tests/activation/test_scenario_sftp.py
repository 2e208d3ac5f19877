"""Done means (b): a segment lands on a real OpenSSH sshd as a complete CSV, on a cron
schedule, exactly once per tick with two `carebase serve` processes running (each with its
in-process worker). The cron fires every minute; to keep the test short, each tick is
forced due (its job's run_at and the orchestration's next_run_at moved to now) instead of
waiting for the minute. Both engines."""

from __future__ import annotations

import csv
import io
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update

from carebase.activation import ticks
from carebase.db.session import Database
from carebase.models import Job
from carebase.models.activation import Orchestration, OrchestrationRun
from tests.activation import runhelp
from tests.activation.sshd import SshServer
from tests.conftest import test_settings
from tests.serverproc import running_server

pytestmark = pytest.mark.slow
ENV = {
    "CAREBASE_ALLOW_PRIVATE_OUTBOUND": "true",
    "CAREBASE_JOB_POLL_SECONDS": "0.2",
    "CAREBASE_LOG_LEVEL": "WARNING",
}
ATTRIBUTES = ["email", "full_name", "city"]


def wait_for(condition: Any, timeout: float, what: str) -> None:
    """Poll until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def force_tick(database: Database, orchestration_id: str) -> None:
    """Make the queued tick due now (as if its minute had come)."""
    now = datetime.now(UTC)
    with database.unit_of_work() as session:
        session.execute(
            update(Orchestration)
            .where(Orchestration.id == orchestration_id)
            .values(next_run_at=now - timedelta(seconds=1))
        )
        moved = session.execute(
            update(Job)
            .where(Job.dedupe_key == ticks.dedupe_key(orchestration_id), Job.status == "queued")
            .values(run_at=now - timedelta(seconds=1))
        )
        assert moved.rowcount == 1  # type: ignore[attr-defined]


def runs_of(database: Database, orchestration_id: str) -> list[Any]:
    """The orchestration's runs, oldest first."""
    with database.unit_of_work(write=False) as session:
        rows = session.execute(
            select(OrchestrationRun)
            .where(OrchestrationRun.orchestration_id == orchestration_id)
            .order_by(OrchestrationRun.created_at)
        ).scalars()
        return [(r.id, r.trigger, r.status, r.sent, r.unchanged) for r in rows]


def members(database: Database, segment_id: str) -> dict[str, dict[str, str]]:
    """{profile id: attributes as CSV text} of the segment's current members."""
    view = "customer_360" if database.dialect == "sqlite" else "sql_api.customer_360"
    with database.unit_of_work(write=False) as session:
        version = session.execute(
            text("SELECT current_version FROM segments WHERE id = :id"), {"id": segment_id}
        ).scalar_one()
        rows = session.execute(
            text(
                f"SELECT c.profile_id, c.email, c.full_name, c.city FROM {view} AS c "  # noqa: S608
                "JOIN segment_members AS m ON m.profile_id = c.profile_id "
                "WHERE m.segment_id = :id AND m.version = :version"
            ),
            {"id": segment_id, "version": version},
        ).all()
    return {
        str(r.profile_id): {
            name: "" if r[i + 1] is None else str(r[i + 1]) for i, name in enumerate(ATTRIBUTES)
        }
        for r in rows
    }


def test_a_segment_lands_once_per_tick_with_two_servers(database_url: str, sshd: SshServer) -> None:
    settings = test_settings(database_url, allow_private_outbound=True)
    database = Database.from_settings(settings)
    directory: Path = sshd.root / uuid.uuid4().hex
    directory.mkdir()
    try:
        runhelp.load_demo(database, settings, profiles=30)
        segment_id = runhelp.segment(database)
        expected = members(database, segment_id)
        assert len(expected) >= 5
        destination = runhelp.destination(
            database,
            settings,
            "sftp",
            {
                "host": sshd.host,
                "port": sshd.port,
                "username": sshd.username,
                "directory": str(directory),
                "host_key": sshd.host_key,
                "file_name": "{orchestration}-{date}-{time}-{run}.{ext}",
            },
            {"private_key": sshd.client_key},
        )
        now = datetime.now(UTC)
        orchestration = runhelp.orchestration(
            database,
            destination,
            {"type": "segment", "id": segment_id, "attributes": ATTRIBUTES},
            name="Members",
            schedule={"type": "cron", "cron": "* * * * *", "timezone": "Australia/Sydney"},
            now=now,
        )
        with database.unit_of_work() as session:
            fire = ticks.schedule_next(session, orchestration, now=now)
        assert fire is not None
        assert fire - now <= timedelta(minutes=1)
        with (
            running_server(database_url, env=ENV) as first,
            running_server(database_url, env=ENV) as second,
        ):
            servers = (first, second)
            force_tick(database, orchestration)

            def ended(count: int) -> Any:
                def check() -> bool:
                    found = runs_of(database, orchestration)
                    return len(found) >= count and found[count - 1][2] not in (
                        "waiting_to_start",
                        "querying",
                        "sending",
                    )

                return check

            try:
                wait_for(ended(1), 60, "the first scheduled run")
            except AssertionError:
                for server in servers:  # what the servers said, for the failure report
                    print("\n".join(server.stderr[-40:]))
                raise
            # A second tick: again exactly one run (nothing changed, so nothing is sent).
            force_tick(database, orchestration)
            wait_for(ended(2), 60, "the second scheduled run")
            time.sleep(1.0)  # time for a duplicate, were there one
            found = runs_of(database, orchestration)
        assert [(trigger, status) for _, trigger, status, _, _ in found] == [
            ("schedule", "completed"),
            ("schedule", "completed"),
        ]
        assert found[0][3] == len(expected)
        assert (found[1][3], found[1][4]) == (0, len(expected))
        files = sorted(directory.iterdir())
        assert [f.name for f in files] == [f.name for f in files if not f.name.endswith(".part")]
        assert len(files) == 1
        assert found[0][0] in files[0].name
        rows = list(csv.DictReader(io.StringIO(files[0].read_text(encoding="utf-8"))))
        assert {row["profile_id"]: {k: row[k] for k in ATTRIBUTES} for row in rows} == expected
        # The next tick is queued for the next minute.
        with database.unit_of_work(write=False) as session:
            queued = session.execute(
                select(Job.run_at).where(
                    Job.dedupe_key == ticks.dedupe_key(orchestration), Job.status == "queued"
                )
            ).all()
        assert len(queued) == 1
    finally:
        database.dispose()
