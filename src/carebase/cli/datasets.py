"""`carebase dataset create|list|show` and `carebase import`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import ijson
import orjson
import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from carebase.app import tune_garbage_collector
from carebase.cli.context import (
    err,
    fail,
    handle_errors,
    load_settings,
    open_database,
    out,
    ready_database,
)
from carebase.datasets import service as datasets
from carebase.db.migrate import migrate_to_head
from carebase.ingest.csvfile import CSVError
from carebase.ingest.importer import import_file
from carebase.ingest.service import IngestConfig
from carebase.models import utcnow

app = typer.Typer(help="Create and inspect datasets.", no_args_is_help=True)


@app.command("create")
@handle_errors
def create(
    name: Annotated[str, typer.Option("--name", help="A name people recognise.")],
    record_type: Annotated[
        str, typer.Option("--type", help="The record type it holds.")
    ] = "customer_support_ticket",
) -> None:
    """Create a dataset; its id is printed alone on the last line of stdout."""
    database = ready_database()
    with database.unit_of_work() as session:
        dataset = datasets.create_dataset(session, name=name, record_type=record_type, now=utcnow())
    err.print(f"Created {dataset.record_type} dataset [bold]{dataset.name}[/].", highlight=False)
    print(dataset.id)


@app.command("list")
@handle_errors
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Datasets with their totals."""
    database = ready_database()
    with database.unit_of_work(write=False) as session:
        rows = [datasets.describe(session, item) for item in datasets.list_datasets(session)]
    if as_json:
        print(orjson.dumps([row.model_dump(mode="json") for row in rows]).decode())
        return
    table = Table("id", "name", "type", "records", "profiles", "batches", "last ingest")
    for row in rows:
        last = f"{row.last_ingest_at:%Y-%m-%d %H:%M}" if row.last_ingest_at else "never"
        table.add_row(
            row.id,
            row.name,
            row.record_type,
            str(row.records),
            str(row.profiles),
            str(row.batches),
            last,
        )
    out.print(table)


@handle_errors
def import_command(
    file: Annotated[
        Path,
        typer.Argument(help="NDJSON, a JSON array, or CSV (a name ending .csv) of records."),
    ],
    dataset_id: Annotated[str, typer.Option("--dataset", help="The dataset to load into.")],
) -> None:
    """Import a file through the ingestion service in batches of 1,000, with a progress bar."""
    if not file.is_file():
        fail(f"{file} is not a readable file")
    settings = load_settings()
    tune_garbage_collector()
    database = open_database(settings)
    migrate_to_head(database.engine)
    config = IngestConfig.from_settings(settings)
    columns = (
        *Progress.get_default_columns()[:1],
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=err, transient=False) as bar:
            task = bar.add_task(f"importing {file.name}", total=file.stat().st_size)
            summary = import_file(
                database,
                file,
                dataset_id,
                config=config,
                progress=lambda done: bar.update(task, completed=done),
            )
    except ijson.JSONError as error:
        fail(f"{file} is not a valid JSON array ({error}); the batches before the error were kept")
    except CSVError as error:
        fail(f"{file} cannot be read as CSV: {error}; the batches before the error were kept")
    rate = summary.received / summary.seconds if summary.seconds else 0.0
    err.print(
        f"Read {summary.received} records in {summary.seconds:.1f} s ({rate:,.0f}/s): "
        f"{summary.created} created, {summary.updated} updated, {summary.unchanged} unchanged, "
        f"{summary.rejected} rejected, in {summary.batches} batches.",
        highlight=False,
    )
    if summary.rejects_path is not None:
        err.print(f"Rejected records and reasons: {summary.rejects_path}", highlight=False)
