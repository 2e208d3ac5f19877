"""`carebase demo`: load a generated demo brand through the ingestion path."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from carebase.app import tune_garbage_collector
from carebase.cli.context import err, fail, handle_errors, load_settings, open_database
from carebase.db.migrate import migrate_to_head
from carebase.db.session import Database
from carebase.demo import service
from carebase.demo.generate import anchor_day, generate
from carebase.demo.inbox import seed_inbox
from carebase.demo.segments import seed_segments
from carebase.ingest.service import IngestConfig
from carebase.models import utcnow
from carebase.settings import Settings


def load_demo(
    settings: Settings,
    database: Database,
    *,
    profiles: int = 5000,
    tickets: int = 20_000,
    seed: int = 7,
    anchor: datetime | None = None,
) -> service.DemoSummary:
    """Generate the demo brand and load it, with a progress bar per record type; then save
    and refresh its segments (the reference's use cases)."""
    tune_garbage_collector()
    anchor = anchor or anchor_day(utcnow())
    data = generate(profiles=profiles, tickets=tickets, seed=seed, anchor=anchor)
    columns = (TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err) as bar:
        tasks = {
            record_type: bar.add_task(record_type, total=len(records))
            for record_type, records in data.batches.items()
        }
        summary = service.load(
            database,
            data,
            config=IngestConfig.from_settings(settings),
            progress=lambda record_type, done: bar.update(tasks[record_type], completed=done),
        )
    rate = summary.records / summary.seconds if summary.seconds else 0.0
    err.print(
        f"Demo loaded: {summary.records:,} records ({profiles:,} people, {tickets:,} tickets) "
        f"in {summary.seconds:.1f} s ({rate:,.0f} records/s), {summary.rejected} rejected.",
        highlight=False,
    )
    sizes = seed_segments(database, settings)
    err.print(
        "Demo segments: " + ", ".join(f"{name} ({size:,})" for name, size in sizes.items()) + ".",
        highlight=False,
    )
    started = time.perf_counter()
    inbox = seed_inbox(
        database, settings, anchor=anchor, config=IngestConfig.from_settings(settings)
    )
    err.print(
        f"Demo inbox: {inbox.mentions:,} messages, {inbox.responded:,} answered, "
        f"{inbox.cases_closed:,} cases closed, {inbox.surveys_answered:,} of "
        f"{inbox.surveys_sent:,} surveys answered in {time.perf_counter() - started:.1f} s.",
        highlight=False,
    )
    return summary


@handle_errors
def demo_command(
    profiles: Annotated[int, typer.Option(min=10, max=1_000_000, help="People.")] = 5000,
    tickets: Annotated[int, typer.Option(min=0, max=10_000_000, help="Support tickets.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Same seed and day, same records.")] = 7,
    anchor: Annotated[
        str | None,
        typer.Option(help="The day the demo's year ends (YYYY-MM-DD) [today, UTC]."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Load even if carebase already holds datasets.")
    ] = False,
) -> None:
    """Generate a realistic demo brand and load it through the ingestion path: customer
    records, products, purchases, returns, tickets, email and SMS events, unify records; and
    its saved segments (frequent complainers, unhappy VIPs, open ticket now), refreshed."""
    settings = load_settings()
    database = open_database(settings)
    migrate_to_head(database.engine)
    day = None
    if anchor is not None:
        try:
            day = datetime.fromisoformat(anchor).replace(tzinfo=UTC)
        except ValueError:
            fail(f"--anchor {anchor!r} is not a date (YYYY-MM-DD)", code=2)
    if not force and service.has_data(database):
        err.print("carebase already holds datasets: the demo was not loaded (--force loads it).")
        return
    load_demo(settings, database, profiles=profiles, tickets=tickets, seed=seed, anchor=day)
    database.dispose()
