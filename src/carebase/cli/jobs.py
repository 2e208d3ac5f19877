"""`carebase worker` and `carebase jobs list|show|cancel`."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import orjson
import typer
from rich.table import Table

from carebase.app import tune_garbage_collector
from carebase.cli.context import err, handle_errors, load_settings, out, ready_database
from carebase.jobkinds import registry
from carebase.kit.jobs import Runner, service
from carebase.kit.jobs.schemas import JobOut
from carebase.logs import configure_logging
from carebase.models import utcnow

app = typer.Typer(help="See and cancel background jobs.", no_args_is_help=True)


@handle_errors
def worker_command(
    threads: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Jobs run at once [CAREBASE_WORKER_THREADS]."),
    ] = None,
    grace: Annotated[
        float,
        typer.Option(
            help="Seconds jobs in hand may take to finish after SIGTERM/Ctrl-C; one waiting "
            "on a helpdesk is given back at once, one still running after this is given back."
        ),
    ] = 30.0,
) -> None:
    """Run background jobs (webhook deliveries, …) without serving HTTP, until SIGTERM or
    Ctrl-C. Run as many as you like, on as many machines: each job runs once."""
    settings = load_settings()
    configure_logging(settings)
    tune_garbage_collector()
    database = ready_database()
    runner = Runner(
        database,
        registry(settings),
        threads=threads or settings.worker_threads,
        lease_seconds=settings.job_lease_seconds,
        poll_seconds=settings.job_poll_seconds,
    )
    stopping = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        if stopping.is_set():
            raise KeyboardInterrupt  # a second signal: stop waiting for the jobs in hand
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    runner.start()
    err.print(
        f"carebase worker {runner.owner}: {runner.threads} threads on {database.dialect}; "
        f"job kinds: {', '.join(runner.kinds)}",
        highlight=False,
    )
    # A timed wait, so the signal handler runs promptly on every platform.
    while not stopping.wait(0.5):
        pass
    err.print(f"stopping: letting {len(runner.in_hand)} job(s) in hand finish…", highlight=False)
    runner.stop(grace_seconds=grace)
    database.dispose()
    done = runner.summary
    err.print(
        f"stopped: {done.succeeded} succeeded, {done.retried} retried, {done.failed} failed, "
        f"{done.cancelled} cancelled, {done.deferred} deferred, {done.released} given back",
        highlight=False,
    )


@app.command("list")
@handle_errors
def list_(
    status: Annotated[str | None, typer.Option(help="queued, running, succeeded, …")] = None,
    kind: Annotated[str | None, typer.Option(help="e.g. webhook_delivery")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The most recent jobs, newest first."""
    database = ready_database()
    with database.unit_of_work(write=False) as session:
        rows, _ = service.list_jobs(session, status=status, kind=kind, cursor=None, limit=limit)
        counts = service.status_counts(session)
    jobs = [JobOut.model_validate(row) for row in rows]
    if as_json:
        print(orjson.dumps([job.model_dump(mode="json") for job in jobs]).decode())
        return
    table = Table("id", "kind", "status", "attempts", "progress", "created", "error")
    for job in jobs:
        progress = ""
        if job.progress:
            total = job.progress.get("total")
            progress = f"{job.progress.get('done')}" + (f"/{total}" if total else "")
        table.add_row(
            job.id,
            job.kind,
            job.status,
            f"{job.attempts}/{job.max_attempts}",
            progress,
            job.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            (job.error or "")[:60],
        )
    out.print(table)
    err.print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no jobs")


@app.command("show")
@handle_errors
def show(job_id: str) -> None:
    """One job, as JSON."""
    database = ready_database()
    with database.unit_of_work(write=False) as session:
        job = JobOut.model_validate(service.get_job(session, job_id))
    print(orjson.dumps(job.model_dump(mode="json"), option=orjson.OPT_INDENT_2).decode())


@app.command("cancel")
@handle_errors
def cancel(job_id: str) -> None:
    """Cancel a queued job now, or ask a running one to stop."""
    settings = load_settings()
    database = ready_database()
    with database.unit_of_work() as session:
        job = service.cancel_job(session, registry(settings), job_id, now=utcnow())
    if job.status == "cancelled":
        err.print(f"Cancelled job {job_id}.")
    else:
        err.print(f"Asked job {job_id} to stop; it stops at its next progress report.")
