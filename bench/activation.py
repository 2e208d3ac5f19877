"""Activation: profiles pushed to Zendesk's Users API at its documented pace, diffed re-runs,
and the same records written to a real OpenSSH server over SFTP.

1. Loads N customers (demo records through ingestion) into a fresh SQLite database and saves
   the Amperity reference's query (`profile_id AS external_id, lower(full_name) AS name,
   email, phone FROM customer_360`).
2. Zendesk: runs it as an orchestration to the loopback Zendesk fake, which enforces 100
   users per second (429 + Retry-After beyond), 100 users per request and 30 jobs at once,
   and moves jobs queued → working → completed in real time. Prints users per second against
   the limit (the raw baseline is the limit itself: the best any client can do), and checks
   that every user landed exactly once.
3. Changes 1% of the customers (a new last name) and runs again: prints how many were sent
   (exactly the changed ones) and how long the diffed run took.
4. SFTP: the same records as one CSV to a real sshd on 127.0.0.1, against a raw baseline in
   the same run: the same CSV written locally and uploaded with paramiko's own `put`.

    .venv/bin/python -m bench.activation [--profiles 10000]
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paramiko
from sqlalchemy import text
from tests.activation.sshd import start_sshd
from tests.activation.zendesk_fake import serve_zendesk
from tests.conftest import test_settings

from carebase.activation import orchestrations, run_service, runs, ticks
from carebase.activation import service as destinations
from carebase.activation.run_schemas import RunOut
from carebase.activation.schemas import DestinationIn, OrchestrationIn
from carebase.db.migrate import migrate_to_head
from carebase.db.session import Database
from carebase.demo.generate import DemoData, generate
from carebase.demo.service import load
from carebase.ingest.service import IngestConfig
from carebase.kit.jobs import Registry, Runner
from carebase.query import service as queries
from carebase.settings import Settings

ANCHOR = datetime(2026, 11, 23, tzinfo=UTC)
AMPERITY = (
    "SELECT profile_id AS external_id, LOWER(full_name) AS name, email AS email, "
    "phone AS phone FROM customer_360"
)
ZENDESK_LIMIT = 100  # users per second, Zendesk's documented limit for these calls


def now() -> datetime:
    """Wall-clock UTC: the runs here are real."""
    return datetime.now(UTC)


def customers(profiles: int) -> list[dict[str, Any]]:
    """N distinct demo customers (records with names, emails, mobiles)."""
    data = generate(profiles=profiles, tickets=1, seed=5, anchor=ANCHOR)
    records = list(data.batches["customer_record"])
    for number, record in enumerate(records):
        # Numbers in an allocated Australian mobile range: every record is valid, so every one
        # is sent (the demo's random mobiles include unallocated ranges, which Zendesk-bound
        # records rightly report as invalid_phone).
        record["mobile"] = f"+6141{number:07d}"
    return records


def load_customers(database: Database, settings: Settings, records: list[dict[str, Any]]) -> None:
    """Ingest customer records through the ingestion service (new or changed)."""
    summary = load(
        database,
        DemoData({"customer_record": records}),
        config=IngestConfig.from_settings(settings),
        now=ANCHOR,
    )
    assert summary.rejected == 0, summary


def save_query(database: Database, sql: str) -> str:
    """A saved query's id."""
    with database.unit_of_work() as session:
        saved = queries.create_query(
            session,
            name=f"Zendesk - Users {time.monotonic_ns()}",
            description="",
            sql=sql,
            dialect=database.dialect,
            created_by="bench",
            now=now(),
        )
    return str(saved["id"])


def make_orchestration(
    database: Database,
    settings: Settings,
    kind: str,
    config: dict[str, Any],
    secrets: dict[str, Any],
    query_id: str,
) -> str:
    """A destination and a manual orchestration of the saved query to it."""
    with database.unit_of_work() as session:
        made = destinations.create_destination(
            session,
            DestinationIn.model_validate(
                {"name": f"{kind} bench", "kind": kind, "config": config, "secrets": secrets}
            ),
            settings=settings,
            now=now(),
            created_by="bench",
        )
        orchestration = orchestrations.create_orchestration(
            session,
            OrchestrationIn.model_validate(
                {
                    "name": f"{kind} bench",
                    "destination_id": made.id,
                    "source": {"type": "query", "id": query_id},
                    "mapping": {},
                    "sync_mode": "upsert",
                    "schedule": {"type": "manual"},
                    "enabled": True,
                }
            ),
            now=now(),
            created_by="bench",
        )
    return orchestration.id


def run_to_end(
    database: Database, settings: Settings, orchestration_id: str, **flags: Any
) -> tuple[RunOut, float]:
    """Start a run, work it in this process (as `carebase worker` would), and time it."""
    registry = Registry([runs.job_kind(settings), ticks.job_kind(settings)])
    runner = Runner(database, registry, clock=now)
    started = time.perf_counter()
    with database.unit_of_work() as session:
        run = run_service.start_run(
            session, orchestration_id, now=now(), requested_by="bench", **flags
        )
    while True:
        runner.run_due()
        with database.unit_of_work(write=False) as session:
            current = run_service.get_run(session, orchestration_id, run.id)
        if current.finished_at is not None:
            return current, time.perf_counter() - started
        time.sleep(0.05)


def zendesk(
    database: Database, settings: Settings, records: list[dict[str, Any]], query_id: str
) -> None:
    """The Zendesk figures: throughput at the limit, then a diffed re-run after 1% changed."""
    with serve_zendesk(users_per_second=ZENDESK_LIMIT, queued_for=0.2, working_for=0.3) as fake:
        orchestration_id = make_orchestration(
            database,
            settings,
            "zendesk",
            {"base_url": fake.url, "email": fake.email},
            {"api_token": fake.api_token},
            query_id,
        )
        run, seconds = run_to_end(database, settings, orchestration_id)
        users = len(fake.users)
        # The sending window, as the fake saw it: first bulk request to last job done.
        jobs = list(fake.jobs.values())
        window = max(job.done_at for job in jobs) - min(job.created for job in jobs)
        writes = sorted(set(fake.writes.values()))
        rate = run.counts.succeeded / seconds
        print(
            f"zendesk first run   {run.counts.succeeded:>6} users in {seconds:6.1f} s = "
            f"{rate:6.1f} users/s vs the limit {ZENDESK_LIMIT}/s: {rate / ZENDESK_LIMIT:.1%} "
            f"| status {run.status}, 429s {fake.throttled}"
        )
        print(
            f"                    sending window (first request to last job done) {window:.1f} s"
            f" = {run.counts.succeeded / window:.1f} users/s: "
            f"{run.counts.succeeded / window / ZENDESK_LIMIT:.1%} of the limit"
        )
        duplicated = sum(1 for count in fake.writes.values() if count > 1)
        reasons = invalid_reasons(database, orchestration_id, run.id)
        print(
            f"                    invalid (reported, not sent) {run.counts.invalid} {reasons}, "
            f"rejected {run.counts.rejected}; users in the fake {users} (sent and acknowledged "
            f"{run.counts.succeeded}), writes per user {writes}, duplicated {duplicated}"
        )
        changed = records[: max(1, len(records) // 100)]
        for record in changed:
            record["last_name"] = record["last_name"] + "-Changed"
        load_customers(database, settings, changed)
        before = dict(fake.writes)
        again, seconds = run_to_end(database, settings, orchestration_id)
        rewritten = sum(1 for user, count in fake.writes.items() if count != before.get(user, 0))
        print(
            f"zendesk re-run      changed {len(changed)}: sent {again.counts.sent}, unchanged "
            f"{again.counts.unchanged}, users rewritten in the fake {rewritten}, {seconds:.1f} s "
            f"| status {again.status}"
        )


def invalid_reasons(database: Database, orchestration_id: str, run_id: str) -> dict[str, int]:
    """How many records of a run were reported, by error code."""
    with database.unit_of_work(write=False) as session:
        found, _ = run_service.list_records(
            session, orchestration_id, run_id, status=None, limit=1_000_000, after=None
        )
    return dict(Counter(str(record.error_code) for record in found))


def timed(function: Callable[[], Any], repeat: int) -> list[float]:
    """Seconds per call."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def sftp(database: Database, settings: Settings, rows: int, query_id: str, repeat: int) -> None:
    """The SFTP figures: rows per second through a run against a local CSV + paramiko put."""
    server = start_sshd()
    try:
        target = server.root / "bench"
        target.mkdir()
        orchestration_id = make_orchestration(
            database,
            settings,
            "sftp",
            {
                "host": server.host,
                "port": server.port,
                "username": server.username,
                "directory": str(target),
                "host_key": server.host_key,
            },
            {"private_key": server.client_key},
            query_id,
        )

        def ours() -> None:
            # A full resync each time: every row is written, as in the baseline.
            run, _ = run_to_end(database, settings, orchestration_id, full_resync=True)
            assert run.counts.succeeded == rows, run

        with database.unit_of_work(write=False) as session:
            result = session.execute(text(AMPERITY))
            columns, table = list(result.keys()), [tuple(row) for row in result]
        local = Path(tempfile.mkdtemp()) / "baseline.csv"

        def raw() -> None:
            with local.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(columns)
                writer.writerows(table)
            key = paramiko.Ed25519Key.from_private_key(io.StringIO(server.client_key))
            with paramiko.Transport((server.host, server.port)) as transport:
                transport.connect(username=server.username, pkey=key)
                client = paramiko.SFTPClient.from_transport(transport)
                assert client is not None
                client.put(str(local), str(target / "baseline.csv"))

        ours_times = timed(ours, repeat)
        raw_times = timed(raw, repeat)
        ours_median, raw_median = statistics.median(ours_times), statistics.median(raw_times)
        print(
            f"sftp run            {rows} rows: median {ours_median:.2f} s = "
            f"{rows / ours_median:,.0f} rows/s | raw (local CSV + paramiko put) {raw_median:.2f} s"
            f" = {rows / raw_median:,.0f} rows/s | ratio {ours_median / raw_median:.2f}x"
        )
    finally:
        server.stop()


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-zendesk", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/bench.db"
        settings = test_settings(url, allow_private_outbound=True)
        database = Database.from_settings(settings)
        migrate_to_head(database.engine)
        queries.sync_query_views(database)
        records = customers(args.profiles)
        started = time.perf_counter()
        load_customers(database, settings, records)
        print(f"loaded {len(records)} customers in {time.perf_counter() - started:.1f} s")
        query_id = save_query(database, AMPERITY)
        if not args.skip_zendesk:
            zendesk(database, settings, records, query_id)
        sftp(database, settings, len(records), query_id, args.repeat)
        database.dispose()


if __name__ == "__main__":
    main()
