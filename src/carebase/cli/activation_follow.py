"""Following a run from the command line: a Rich progress bar over the run's progress,
read from the database, with the run done by a worker or, with `--here`, in this process."""

from __future__ import annotations

import threading
import time

import orjson
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from carebase.activation import run_service, runs
from carebase.activation.run_schemas import RunOut
from carebase.cli.context import err, load_settings
from carebase.db.session import Database
from carebase.jobkinds import registry
from carebase.kit.jobs import Runner

# Exit codes of `orchestration run`: completed, failed or cancelled, records rejected.
EXIT_COMPLETED, EXIT_RUN_FAILED, EXIT_REJECTED = 0, 1, 2
POLL_SECONDS = 0.5


def exit_code(run: RunOut) -> int:
    """0 completed, 1 failed or cancelled, 2 completed with records rejected or invalid."""
    if run.status == "completed":
        return EXIT_COMPLETED
    if run.status == "completed_with_errors":
        return EXIT_REJECTED
    return EXIT_RUN_FAILED


def _read_run(database: Database, orchestration_id: str, run_id: str) -> RunOut:
    with database.unit_of_work(write=False) as session:
        return run_service.get_run(session, orchestration_id, run_id)


def work_here(database: Database, run_id: str, done: threading.Event) -> threading.Thread:
    """Run the run's job in this process (no worker needed), until it has ended."""
    runner = Runner(database, registry(load_settings()), kinds=[runs.RUN.name])

    def loop() -> None:
        while not done.is_set():
            # Runs due jobs of the run kind one at a time; ours among them.
            if runner.run_due(limit=1).handled == 0:
                done.wait(POLL_SECONDS)

    thread = threading.Thread(target=loop, name=f"carebase-run-{run_id}", daemon=True)
    thread.start()
    return thread


def follow(
    database: Database,
    started: RunOut,
    *,
    worker_hint_after: float = 10.0,
    poll_seconds: float = POLL_SECONDS,
) -> RunOut:
    """Follow a run with a progress bar (reading the database every `poll_seconds`) until it
    ends; the run as it ended."""
    run = started
    hinted = False
    began = time.monotonic()
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task(run.status, total=None)
        while run.status not in runs.ENDED:
            time.sleep(poll_seconds)
            run = _read_run(database, run.orchestration_id, run.id)
            done = run.progress.done if run.progress else 0
            total = run.progress.total if run.progress else None
            progress.update(task, description=run.status, completed=done, total=total)
            waited = time.monotonic() - began
            if run.status == "waiting_to_start" and not hinted and waited > worker_hint_after:
                hinted = True
                progress.console.print(
                    "No worker has taken the run yet: is `carebase serve` or `carebase worker` "
                    "running? (Ctrl-C leaves it queued; --here runs it in this process.)",
                    style="yellow",
                )
    return run


def report(run: RunOut) -> None:
    """Print how the run ended: its counts, its error, a dry run's findings."""
    c = run.counts
    err.print(
        f"{run.status}: {c.queried} queried, {c.invalid} invalid, {c.new} new, "
        f"{c.changed} changed, {c.unchanged} unchanged; {c.sent} sent, {c.succeeded} "
        f"succeeded, {c.rejected} rejected",
        highlight=False,
    )
    if run.error:
        err.print(f"error: {run.error}", style="bold red", highlight=False)
    if run.dry_run and run.details:
        err.print(orjson.dumps(run.details, option=orjson.OPT_INDENT_2).decode(), highlight=False)
