"""`carebase connector create|list|delete` and `carebase backfill`."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Annotated

import orjson
import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from carebase.app import tune_garbage_collector
from carebase.cli.context import err, fail, handle_errors, load_settings, out, ready_database
from carebase.connectors import backfill, service
from carebase.connectors.kinds import KINDS
from carebase.http.outbound import OutboundError
from carebase.ingest.service import IngestConfig
from carebase.models import utcnow

app = typer.Typer(help="Connect helpdesks (Zendesk, Gorgias, Freshdesk).", no_args_is_help=True)
CREDENTIAL_ENV = "CAREBASE_CONNECTOR_SECRET"


@app.command("create")
@handle_errors
def create(
    kind: Annotated[str, typer.Argument(help="zendesk, gorgias or freshdesk")],
    name: Annotated[str, typer.Option("--name", help="A name people recognise.")],
    domain: Annotated[str, typer.Option("--domain", help="acme, acme.zendesk.com or a URL.")],
    dataset_id: Annotated[str, typer.Option("--dataset", help="The ticket dataset to fill.")],
    email: Annotated[str | None, typer.Option(help="Zendesk: the API user's email.")] = None,
    username: Annotated[str | None, typer.Option(help="Gorgias: the API user's email.")] = None,
    signing_secret: Annotated[
        str | None,
        typer.Option(help="Zendesk: the webhook's signing secret (or prompted)."),
    ] = None,
) -> None:
    """Create a connector. The API token or key is read from $CAREBASE_CONNECTOR_SECRET or
    prompted for (hidden), so it never lands in shell history. Prints the connector id alone on
    stdout's last line; Gorgias and Freshdesk connectors also print their webhook secret once."""
    if kind not in KINDS:
        fail(f"unknown helpdesk {kind!r}: zendesk, gorgias or freshdesk", code=2)
    secret = os.environ.get(CREDENTIAL_ENV) or typer.prompt(
        "API token" if kind == "zendesk" else "API key", hide_input=True
    )
    credentials = {
        "zendesk": {"email": email or "", "api_token": secret},
        "gorgias": {"username": username or "", "api_key": secret},
        "freshdesk": {"api_key": secret},
    }[kind]
    if kind == "zendesk" and not signing_secret:
        signing_secret = typer.prompt("Webhook signing secret", hide_input=True)
    settings = load_settings()
    database = ready_database()
    with database.unit_of_work() as session:
        connector, webhook_secret = service.create_connector(
            session,
            kind=kind,
            name=name,
            domain=domain,
            dataset_id=dataset_id,
            credentials=credentials,
            signing_secret=signing_secret,
            settings=settings,
            now=utcnow(),
        )
    err.print(f"Created {kind} connector [bold]{connector.name}[/] → {connector.base_url}")
    err.print(f"Webhook URL: <your carebase URL>/v1/connectors/{connector.id}/webhook")
    if webhook_secret:
        err.print(
            f"Webhook secret (shown once): send it in the {service.SECRET_HEADER} header",
            style="bold yellow",
        )
        err.print(webhook_secret, highlight=False)
    print(connector.id)


@app.command("list")
@handle_errors
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Connectors (never their credentials)."""
    database = ready_database()
    with database.unit_of_work(write=False) as session:
        rows = [
            (c, service.delivery_counts(session, c.id)) for c in service.list_connectors(session)
        ]
    if as_json:
        items = [
            {
                "id": c.id,
                "kind": c.kind,
                "name": c.name,
                "base_url": c.base_url,
                "dataset_id": c.dataset_id,
                "deliveries": counts,
                "backfill_state": c.backfill_state,
            }
            for c, counts in rows
        ]
        print(orjson.dumps(items).decode())
        return
    table = Table("id", "kind", "name", "helpdesk", "dataset", "deliveries")
    for c, counts in rows:
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none"
        table.add_row(c.id, c.kind, c.name, c.base_url, c.dataset_id, summary)
    out.print(table)


@app.command("delete")
@handle_errors
def delete(connector_id: str) -> None:
    """Delete a connector and its deliveries (its tickets stay)."""
    database = ready_database()
    with database.unit_of_work() as session:
        service.delete_connector(session, connector_id)
    err.print(f"Deleted connector {connector_id}.")


@handle_errors
def backfill_command(
    connector_id: Annotated[str, typer.Argument(help="The connector to backfill.")],
    since: Annotated[str, typer.Option(help="Tickets updated since this date (YYYY-MM-DD).")],
    restart: Annotated[
        bool, typer.Option("--restart", help="Start over instead of resuming a saved run.")
    ] = False,
) -> None:
    """Pull a helpdesk's tickets updated since a date, in batches, resuming where an interrupted
    run stopped; honours 429 Retry-After and the helpdesk's rate limit."""
    try:
        start = datetime.fromisoformat(since)
    except ValueError:
        fail(f"--since {since!r} is not a date (YYYY-MM-DD)", code=2)
    start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
    settings = load_settings()
    tune_garbage_collector()
    database = ready_database()
    columns = (SpinnerColumn(), BarColumn(), TimeElapsedColumn(), TextColumn("{task.description}"))
    try:
        with Progress(*columns, console=err) as bar:
            # The helpdesks do not say how many tickets are coming: the bar pulses.
            task = bar.add_task("backfilling…", total=None)
            summary = backfill.run(
                database,
                connector_id,
                since=start,
                settings=settings,
                config=IngestConfig.from_settings(settings),
                restart=restart,
                progress=lambda s: bar.update(
                    task,
                    description=f"page {s.pages}: {s.tickets:,} tickets, {s.rejected} rejected, "
                    f"{s.requests} requests",
                ),
            )
    except OutboundError as error:
        fail(f"the helpdesk could not be read: {error}; run again to resume")
    err.print(
        f"{'Resumed and finished' if summary.resumed else 'Finished'}: {summary.tickets:,} tickets "
        f"({summary.created} created, {summary.updated} updated, {summary.unchanged} unchanged, "
        f"{summary.rejected} rejected) over {summary.pages} pages and {summary.requests} "
        f"requests in {summary.seconds:.1f} s ({summary.waited_seconds:.0f} s waiting for rate "
        f"limits); the dataset now holds {summary.profiles:,} profiles.",
        highlight=False,
    )
    if summary.inbox:
        err.print(
            f"Inbox: {summary.inbox['mentions_created']:,} messages, "
            f"{summary.inbox['responses_created']:,} agent replies, "
            f"{summary.inbox['closed']:,} closed and {summary.inbox['reopened']:,} re-opened "
            f"by the helpdesk's status changes ({summary.inbox['refused']:,} refused).",
            highlight=False,
        )
    for rejection in summary.rejections[:10]:
        reasons = "; ".join(f"{e['field']}: {e['reason']}" for e in rejection["errors"])
        err.print(f"  rejected ticket {rejection['ticket_id']}: {reasons}", highlight=False)
