"""`carebase destination create|list|show|test|delete` and `carebase orchestration
create|list|show|run|runs` (docs/activation.md)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from carebase.activation import orchestrations, run_service
from carebase.activation import service as destinations
from carebase.activation.kinds import KINDS
from carebase.activation.schemas import DestinationIn, OrchestrationIn
from carebase.cli import activation_follow as follow_run
from carebase.cli.context import err, fail, handle_errors, load_settings, out, ready_database
from carebase.models import utcnow

destination_app = typer.Typer(
    help="Destinations profiles are sent to (Zendesk, SFTP, webhooks).", no_args_is_help=True
)
orchestration_app = typer.Typer(
    help="Orchestrations: a segment or saved query sent to a destination.", no_args_is_help=True
)

CREATED_BY = "cli"


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """`key=value` options as a dict; a clear exit on one without `=`."""
    pairs: dict[str, str] = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            fail(f"{option} takes key=value, not {value.split('=')[0][:40]!r}", code=2)
        pairs[key.strip()] = rest
    return pairs


def _dump(data: Any) -> None:
    print(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


# -- destinations -------------------------------------------------------------------------------


@destination_app.command("create")
@handle_errors
def destination_create(
    kind: Annotated[str, typer.Argument(help=", ".join(KINDS))],
    name: Annotated[str, typer.Option("--name", help="A name people recognise.")],
    config: Annotated[
        list[str] | None,
        typer.Option("--config", help="A setting, key=value (repeat): base_url=https://…"),
    ] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option("--secret", help="A secret, key=value (repeat); stored encrypted."),
    ] = None,
    secret_file: Annotated[
        list[str] | None,
        typer.Option(
            "--secret-file",
            help="A secret read from a file, key=PATH (a private key), kept out of shell history.",
        ),
    ] = None,
) -> None:
    """Create a destination. Secrets carebase generates (a webhook signing secret, an SFTP
    key pair) are printed once, on stderr; the destination's id alone is stdout's last line."""
    secrets: dict[str, Any] = _pairs(secret, "--secret")
    for key, path in _pairs(secret_file, "--secret-file").items():
        try:
            secrets[key] = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            fail(f"--secret-file {key}: cannot read {path}: {error.strerror}", code=2)
    body = DestinationIn(name=name, kind=kind, config=_pairs(config, "--config"), secrets=secrets)
    settings = load_settings()
    database = ready_database()
    with database.unit_of_work() as session:
        created = destinations.create_destination(
            session, body, settings=settings, now=utcnow(), created_by=CREATED_BY
        )
    err.print(f"Created {created.kind} destination [bold]{created.name}[/]", highlight=False)
    for key, value in created.public.items():
        err.print(f"{key}: {value}", highlight=False)
    if created.shown_once:
        err.print("Generated secrets (shown once, keep them now):", style="bold yellow")
        for key, value in created.shown_once.items():
            err.print(f"{key}:\n{value}", highlight=False)
    print(created.id)


@destination_app.command("list")
@handle_errors
def destination_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Destinations by name, with their last connection test (never their secrets)."""
    settings = load_settings()
    database = ready_database()
    items = []
    with database.unit_of_work(write=False) as session:
        cursor: str | None = None
        while True:
            page = destinations.list_destinations(
                session, settings=settings, cursor=cursor, limit=500
            )
            items += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
    if as_json:
        _dump([item.model_dump(mode="json") for item in items])
        return
    table = Table("id", "kind", "name", "last test")
    for item in items:
        check = item.check
        tested = "never" if check is None else ("ok" if check.ok else "failed")
        table.add_row(item.id, item.kind, item.name, tested)
    out.print(table)


@destination_app.command("show")
@handle_errors
def destination_show(destination_id: str) -> None:
    """One destination as JSON (never its secrets)."""
    settings = load_settings()
    database = ready_database()
    with database.unit_of_work(write=False) as session:
        shown = destinations.get_destination(session, destination_id, settings=settings)
    _dump(shown.model_dump(mode="json", exclude_none=True))


@destination_app.command("test")
@handle_errors
def destination_test(destination_id: str) -> None:
    """Test the connection step by step; exit 1 when a step failed. The report is stored
    on the destination."""
    settings = load_settings()
    database = ready_database()
    result = destinations.test_destination(database, destination_id, settings, utcnow())
    for step in result.steps:
        mark = "[green]✓[/]" if step.ok else "[bold red]✗[/]"
        err.print(f"{mark} {step.name}: ", end="")
        err.print(step.detail, highlight=False, markup=False)
    if not result.ok:
        raise typer.Exit(follow_run.EXIT_RUN_FAILED)
    err.print("Connection test passed.")


@destination_app.command("delete")
@handle_errors
def destination_delete(destination_id: str) -> None:
    """Delete a destination no orchestration uses."""
    database = ready_database()
    with database.unit_of_work() as session:
        destinations.delete_destination(session, destination_id)
    err.print(f"Deleted destination {destination_id}.")


# -- orchestrations -----------------------------------------------------------------------------


@orchestration_app.command("create")
@handle_errors
def orchestration_create(
    name: Annotated[str, typer.Option("--name")],
    destination_id: Annotated[str, typer.Option("--destination", help="The destination's id.")],
    segment: Annotated[str | None, typer.Option("--segment", help="A saved segment's id.")] = None,
    query: Annotated[str | None, typer.Option("--query", help="A saved query's id.")] = None,
    attribute: Annotated[
        list[str] | None,
        typer.Option("--attribute", help="Segments: a customer_360 column to send (repeat)."),
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="destination_field=source_column (repeat)."),
    ] = None,
    sync_mode: Annotated[str, typer.Option("--sync-mode", help="upsert or update_only")] = "upsert",
    cron: Annotated[
        str | None, typer.Option("--cron", help="Five-field cron, e.g. '0 6 * * *'.")
    ] = None,
    timezone: Annotated[str, typer.Option("--timezone", help="IANA zone of --cron.")] = "UTC",
    disabled: Annotated[
        bool, typer.Option("--disabled", help="Save with its schedule off.")
    ] = False,
) -> None:
    """Create an orchestration from a segment (--segment with --attribute) or a saved query
    (--query); manual unless --cron. Its id alone is stdout's last line."""
    if (segment is None) == (query is None):
        fail("give one source: --segment ID or --query ID", code=2)
    source: dict[str, Any] = (
        {"type": "segment", "id": segment, "attributes": attribute or []}
        if segment is not None
        else {"type": "query", "id": query, "attributes": attribute or []}
    )
    schedule: dict[str, Any] = (
        {"type": "cron", "cron": cron, "timezone": timezone} if cron else {"type": "manual"}
    )
    body = OrchestrationIn.model_validate(
        {
            "name": name,
            "destination_id": destination_id,
            "source": source,
            "mapping": _pairs(mapping, "--map"),
            "sync_mode": sync_mode,
            "schedule": schedule,
            "enabled": not disabled,
        }
    )
    database = ready_database()
    with database.unit_of_work() as session:
        created = orchestrations.create_orchestration(
            session, body, now=utcnow(), created_by=CREATED_BY
        )
    when = f", next run {created.next_run_at:%Y-%m-%d %H:%M} UTC" if created.next_run_at else ""
    err.print(f"Created orchestration [bold]{created.name}[/]{when}", highlight=False)
    print(created.id)


@orchestration_app.command("list")
@handle_errors
def orchestration_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Orchestrations by name: schedule, next run, last run."""
    database = ready_database()
    items = []
    with database.unit_of_work(write=False) as session:
        cursor: str | None = None
        while True:
            page = orchestrations.list_orchestrations(session, cursor=cursor, limit=500)
            items += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
    if as_json:
        _dump([item.model_dump(mode="json") for item in items])
        return
    table = Table("id", "name", "source", "schedule", "next run (UTC)", "last run")
    for item in items:
        schedule = (
            f"{item.schedule.cron} {item.schedule.timezone}"
            if item.schedule.type == "cron"
            else "manual"
        )
        if not item.enabled:
            schedule += " (disabled)"
        table.add_row(
            item.id,
            item.name,
            f"{item.source.type} {item.source.id}",
            schedule,
            f"{item.next_run_at:%Y-%m-%d %H:%M}" if item.next_run_at else "",
            item.last_run.status if item.last_run else "",
        )
    out.print(table)


@orchestration_app.command("show")
@handle_errors
def orchestration_show(orchestration_id: str) -> None:
    """One orchestration as JSON, with its last run."""
    database = ready_database()
    with database.unit_of_work(write=False) as session:
        shown = orchestrations.get_orchestration(session, orchestration_id)
    _dump(shown.model_dump(mode="json"))


@orchestration_app.command("runs")
@handle_errors
def orchestration_runs(
    orchestration_id: str,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The orchestration's latest runs, newest first, with their counts."""
    database = ready_database()
    with database.unit_of_work(write=False) as session:
        items, _ = run_service.list_runs(session, orchestration_id, limit=limit, after=None)
    if as_json:
        _dump([item.model_dump(mode="json") for item in items])
        return
    table = Table(
        "id", "status", "trigger", "started (UTC)", "queried", "sent", "ok", "rejected", "invalid"
    )
    for run in items:
        c = run.counts
        started = f"{run.started_at:%Y-%m-%d %H:%M:%S}" if run.started_at else ""
        kind = run.trigger + (" dry run" if run.dry_run else "")
        table.add_row(
            run.id,
            run.status,
            kind,
            started,
            *(str(n) for n in (c.queried, c.sent, c.succeeded, c.rejected, c.invalid)),
        )
    out.print(table)


@orchestration_app.command("run")
@handle_errors
def orchestration_run(
    orchestration_id: str,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report; send nothing.")] = False,
    full_resync: Annotated[
        bool, typer.Option("--full-resync", help="Forget what was sent; send every record.")
    ] = False,
    only_failed: Annotated[
        bool, typer.Option("--only-failed", help="Send only the records that failed last time.")
    ] = False,
    here: Annotated[
        bool,
        typer.Option("--here", help="Run it in this process instead of waiting for a worker."),
    ] = False,
    no_follow: Annotated[
        bool, typer.Option("--no-follow", help="Start it and print its id; don't wait.")
    ] = False,
) -> None:
    """Start a run and follow it with a progress bar until it ends. Exit 0 completed,
    1 failed or cancelled, 2 completed with records rejected or invalid."""
    database = ready_database()
    with database.unit_of_work() as session:
        started = run_service.start_run(
            session,
            orchestration_id,
            now=utcnow(),
            dry_run=dry_run,
            full_resync=full_resync,
            only_failed=only_failed,
            requested_by=CREATED_BY,
        )
    err.print(f"Started run {started.id}", highlight=False)
    if no_follow:
        print(started.id)
        return
    stop = threading.Event()
    worker = follow_run.work_here(database, started.id, stop) if here else None
    try:
        ended = follow_run.follow(database, started)
    except KeyboardInterrupt:
        stop.set()
        # With --here the job in hand stops with this process; its lease lapses and a
        # worker resumes it where it was.
        err.print(
            f"Stopped following; run {started.id} goes on with a worker "
            f"(`carebase orchestration runs {orchestration_id}`).",
            highlight=False,
        )
        raise typer.Exit(130) from None
    stop.set()
    if worker is not None:
        worker.join()
    follow_run.report(ended)
    print(ended.id)
    raise typer.Exit(follow_run.exit_code(ended))
