"""Many worker processes share one queue: every job runs exactly once, and the job of a worker
killed mid-way runs again once its lease lapses."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import Counter
from pathlib import Path

from carebase.db.session import Database
from carebase.kit.jobs import Runner, enqueue
from carebase.kit.jobs import service as jobs_service
from carebase.models import utcnow
from tests.kit import jobprocs

JOBS = 300
PROCESSES = 4


def test_four_worker_processes_run_every_job_exactly_once(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    with database.unit_of_work() as session:
        for n in range(JOBS):
            enqueue(session, jobprocs.COUNT, {"n": n}, now=utcnow())
    log = tmp_path / "runs.log"
    spawn = multiprocessing.get_context("spawn")
    together = spawn.Barrier(PROCESSES)
    workers = [
        spawn.Process(
            target=jobprocs.work_until_drained, args=(database_url, str(log), 2, 30.0, together)
        )
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(180)
        assert worker.exitcode == 0
    runs = [line.split() for line in log.read_text().splitlines()]
    per_job = Counter(job_id for job_id, _pid in runs)
    assert len(per_job) == JOBS
    twice = [job_id for job_id, n in per_job.items() if n > 1]
    with database.unit_of_work(write=False) as session:
        details = [tuple(jobs_service.get_job(session, j)) for j in twice[:3]]
    assert set(per_job.values()) == {1}, f"no job ran twice: {details}"
    assert len({pid for _job, pid in runs}) > 1, "the work was shared"
    with database.unit_of_work(write=False) as session:
        assert jobs_service.status_counts(session) == {"succeeded": JOBS}
        rows, _ = jobs_service.list_jobs(session, status=None, kind=None, cursor=None, limit=5)
    assert all(row.attempts == 1 and row.dedupe_key is None for row in rows)


def test_a_killed_workers_job_runs_again_after_its_lease_lapses(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    with database.unit_of_work() as session:
        job_id, _ = enqueue(session, jobprocs.HANG, {}, now=utcnow())
    log = tmp_path / "runs.log"
    spawn = multiprocessing.get_context("spawn")
    doomed = spawn.Process(target=jobprocs.work_forever, args=(database_url, str(log), 1.0))
    doomed.start()
    deadline = time.monotonic() + 60
    while not (log.exists() and "attempt 1" in log.read_text()):
        assert time.monotonic() < deadline, "the first worker never started the job"
        time.sleep(0.05)
    assert doomed.pid is not None
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join()
    with database.unit_of_work(write=False) as session:
        assert jobs_service.get_job(session, job_id).status == "running"

    rescuer = Runner(database, jobprocs.registry(str(log)), lease_seconds=1.0)
    assert rescuer.run_due().handled == 0, "the lease has not lapsed yet"
    time.sleep(1.2)
    assert rescuer.run_due().succeeded == 1
    with database.unit_of_work(write=False) as session:
        job = jobs_service.get_job(session, job_id)
    assert (job.status, job.attempts, job.result) == ("succeeded", 2, {"attempt": 2})
    assert job.lease_owner == rescuer.owner
    assert log.read_text().count("started") == 2
