"""Worker processes for the job runner's concurrency tests (run through multiprocessing's
spawn, so they import this module fresh, as a separate `carebase worker` would)."""

from __future__ import annotations

import os
import random
import time
from typing import Any

from carebase.db.session import Database
from carebase.kit.jobs import JobContext, JobKind, JobSpec, Registry, RetryPolicy, Runner
from carebase.kit.jobs import service as jobs_service
from tests.conftest import test_settings

COUNT = JobSpec("test_count", RetryPolicy(max_attempts=3, first_seconds=0.1, max_seconds=0.1))
HANG = JobSpec("test_hang", RetryPolicy(max_attempts=3))


def append(path: str, line: str) -> None:
    """One line, appended atomically (O_APPEND, a single small write)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, (line + "\n").encode())
    finally:
        os.close(descriptor)


def registry(log_path: str) -> Registry:
    """A `test_count` kind that logs each run, and a `test_hang` kind whose first attempt hangs."""

    def count(context: JobContext) -> dict[str, Any]:
        append(log_path, f"{context.job_id} {os.getpid()}")
        time.sleep(random.uniform(0, 0.005))
        return {"pid": os.getpid()}

    def hang(context: JobContext) -> dict[str, Any]:
        append(log_path, f"started {context.job_id} attempt {context.attempt} {os.getpid()}")
        if context.attempt == 1:
            time.sleep(600)  # killed before this ends
        return {"attempt": context.attempt}

    return Registry([JobKind(COUNT, count), JobKind(HANG, hang)])


def work_until_drained(
    url: str, log_path: str, threads: int, lease: float, together: Any = None
) -> None:
    """Run a worker until no job is queued or running (starting with the others when given a
    barrier, so that a slow start does not leave one worker all the work)."""
    database = Database.from_settings(test_settings(url))
    if together is not None:
        together.wait(60)
    runner = Runner(
        database, registry(log_path), threads=threads, lease_seconds=lease, poll_seconds=0.05
    )
    runner.start()
    try:
        while True:
            time.sleep(0.2)
            with database.unit_of_work(write=False) as session:
                counts = jobs_service.status_counts(session)
            if not counts.get("queued") and not counts.get("running"):
                return
    finally:
        runner.stop()
        database.dispose()


def work_forever(url: str, log_path: str, lease: float) -> None:
    """Run a worker until killed."""
    database = Database.from_settings(test_settings(url))
    runner = Runner(database, registry(log_path), threads=1, lease_seconds=lease, poll_seconds=0.05)
    runner.start()
    while True:
        time.sleep(1)
