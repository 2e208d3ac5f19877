"""Benchmark the job runner: jobs/s claimed and completed by 2 worker processes (2 threads
each, a no-op handler), against a raw baseline: the same number of rows taken by a plain
`UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING id` in a loop through the bare driver, one
autocommitted statement each. On SQLite and (when its binaries are found) PostgreSQL.

    .venv/bin/python -m bench.jobs [--jobs 2000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sqlite3
import tempfile
import time
from typing import Any

import psycopg
from tests.pg import start_postgres

from carebase.db.migrate import migrate_to_head
from carebase.db.session import Database
from carebase.kit.jobs import JobContext, JobKind, JobSpec, Registry, Runner, enqueue
from carebase.kit.jobs import service as jobs_service
from carebase.models import utcnow
from carebase.settings import Settings

NOOP = JobSpec("bench_noop")
WORKERS = 2
RAW = (
    "UPDATE jobs SET status = 'succeeded', lease_owner = 'raw' WHERE id = "
    "(SELECT id FROM jobs WHERE status = 'queued' ORDER BY run_at, id LIMIT 1) RETURNING id"
)


def noop(_context: JobContext) -> None:
    """The job: nothing, so that the runner's own cost is what is measured."""


def settings(url: str) -> Settings:
    return Settings(database_url=url, _env_file=None, sqlite_busy_timeout_ms=30_000)


def fill(database: Database, count: int) -> None:
    now = utcnow()
    with database.unit_of_work() as session:
        for n in range(count):
            enqueue(session, NOOP, {"n": n}, now=now)


def live(database: Database) -> int:
    with database.unit_of_work(write=False) as session:
        counts = jobs_service.status_counts(session)
    return counts.get("queued", 0) + counts.get("running", 0)


def worker(url: str, together: Any) -> None:
    database = Database.from_settings(settings(url))
    runner = Runner(database, Registry([JobKind(NOOP, noop)]), threads=2, poll_seconds=0.05)
    together.wait()
    runner.start()
    while live(database):
        time.sleep(0.2)
    runner.stop()
    database.dispose()


def bench_runner(url: str, count: int) -> float:
    """Jobs/s run by WORKERS processes, from their common start to an empty queue."""
    database = Database.from_settings(settings(url))
    migrate_to_head(database.engine)
    fill(database, count)
    spawn = multiprocessing.get_context("spawn")
    together = spawn.Barrier(WORKERS + 1)
    processes = [spawn.Process(target=worker, args=(url, together)) for _ in range(WORKERS)]
    for process in processes:
        process.start()
    together.wait()
    started = time.perf_counter()
    while live(database):
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join()
    fill(database, count)  # the raw baseline's rows
    database.dispose()
    return count / elapsed


def raw_sqlite(path: str, count: int) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous=FULL")
    started = time.perf_counter()
    for _ in range(count):
        connection.execute(RAW).fetchone()
    rate = count / (time.perf_counter() - started)
    connection.close()
    return rate


def raw_postgres(dsn: str, count: int) -> float:
    with psycopg.connect(dsn, autocommit=True) as connection:
        started = time.perf_counter()
        for _ in range(count):
            connection.execute(RAW).fetchone()
        return count / (time.perf_counter() - started)


def report(engine: str, ours: float, raw: float) -> None:
    print(
        f"{engine:<11} runner ({WORKERS} processes x 2 threads): {ours:7.0f} jobs/s   "
        f"raw UPDATE … RETURNING loop: {raw:7.0f} rows/s   ratio {ours / raw:5.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ours = bench_runner(f"sqlite:///{tmp}/bench.db", args.jobs)
        report("sqlite", ours, raw_sqlite(f"{tmp}/bench.db", args.jobs))
    try:
        server = start_postgres()
    except (FileNotFoundError, KeyError) as error:
        print(f"postgresql  skipped: {error}")
        return
    try:
        with psycopg.connect(server.dsn(), autocommit=True) as connection:
            connection.execute("CREATE DATABASE bench")
        ours = bench_runner(server.url("bench"), args.jobs)
        report("postgresql", ours, raw_postgres(server.dsn("bench"), args.jobs))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
