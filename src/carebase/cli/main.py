"""`carebase serve|worker|migrate|token|user|group|jobs|destination|orchestration|version`."""

from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn

from carebase import __version__
from carebase.auth import service as auth_service
from carebase.cli import activation, connectors, datasets, demo, jobs, tokens, users
from carebase.cli.context import err, handle_errors, load_settings, open_database, out, safe_url
from carebase.db.migrate import migrate_to_head
from carebase.demo.service import has_data
from carebase.http.server import PROTOCOL
from carebase.logs import configure_logging
from carebase.models import utcnow
from carebase.query.service import sync_query_views
from carebase.settings import display_host, get_settings
from carebase.users import first
from carebase.web.session import secure_cookies

app = typer.Typer(
    name="carebase",
    help="carebase: a self-hosted customer-service data platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(tokens.app, name="token")
app.add_typer(users.user_app, name="user")
app.add_typer(users.group_app, name="group")
app.add_typer(datasets.app, name="dataset")
app.command("import")(datasets.import_command)
app.command("demo")(demo.demo_command)
app.add_typer(connectors.app, name="connector")
app.command("backfill")(connectors.backfill_command)
app.command("worker")(jobs.worker_command)
app.add_typer(jobs.app, name="jobs")
app.add_typer(activation.destination_app, name="destination")
app.add_typer(activation.orchestration_app, name="orchestration")


@app.command()
@handle_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [CAREBASE_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [CAREBASE_PORT].")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="Worker processes [CAREBASE_WORKERS].")
    ] = None,
    with_demo: Annotated[
        bool,
        typer.Option(
            "--demo", help="Load the demo brand first when carebase holds no datasets yet."
        ),
    ] = False,
) -> None:
    """Migrate the database, then serve the HTTP API (and run jobs in-process unless
    CAREBASE_IN_PROCESS_WORKER=false)."""
    settings = load_settings()
    configure_logging(settings)
    bind_host = host or settings.host
    bind_port = settings.port if port is None else port
    worker_count = workers or settings.workers
    database = open_database(settings)
    before, after = migrate_to_head(database.engine)
    if before != after:
        err.print(f"Database {safe_url(settings)} migrated to revision {after}.")
    if with_demo and not has_data(database):
        demo.load_demo(settings, database)
    with database.unit_of_work() as session:
        bootstrap = auth_service.ensure_bootstrap_admin(session, now=utcnow())
    # Links point where this server is reached (CAREBASE_PUBLIC_URL, else --host/--port).
    link_settings = settings.model_copy(update={"host": bind_host, "port": bind_port})
    first_manager = None
    if with_demo:
        first_manager = database.transaction(
            lambda session: first.ensure_demo_manager(session, link_settings, now=utcnow())
        )
    with database.unit_of_work(write=False) as session:
        nobody = not first.has_users(session)
    database.dispose()
    url = f"http://{display_host(bind_host)}:{bind_port}"
    out.print(f"carebase {__version__} on {settings.database_url.split(':', 1)[0]}: {url}")
    out.print(f"API docs: {url}/docs", highlight=False)
    if not secure_cookies(link_settings):
        err.print(
            f"warning: people reach carebase over plain http ({link_settings.base_url}), so "
            "console session cookies cannot be Secure; put TLS in front of carebase and set "
            "CAREBASE_PUBLIC_URL=https://…",
            highlight=False,
        )
    if not settings.in_process_worker:
        out.print("Jobs are left to `carebase worker` (CAREBASE_IN_PROCESS_WORKER=false).")
    if first_manager is not None:
        out.print(
            f"First manager: {first_manager.user.email}. Sign in through this one-time link "
            "(valid 72 hours, shown once) and choose a password:",
            style="bold yellow",
            highlight=False,
        )
        print(first_manager.link.url, flush=True)
    elif nobody:
        out.print(
            "Nobody can sign in to the console yet. Create the first manager; it prints a "
            f"one-time sign-in link:\n  {first.CREATE_HINT}",
            highlight=False,
        )
    if bootstrap is not None:
        out.print(
            "First start: an admin token was created. It is shown once; keep it now:",
            style="bold yellow",
        )
        print(bootstrap.secret, flush=True)
    # The app (here, or in uvicorn's worker processes) reads its settings from the
    # environment: give it the address it is served on, so the sign-in links the console and
    # the admin API make point there (unless CAREBASE_PUBLIC_URL says otherwise).
    os.environ["CAREBASE_HOST"] = bind_host
    os.environ["CAREBASE_PORT"] = str(bind_port)
    get_settings.cache_clear()
    uvicorn.run(
        "carebase.app:create_app_from_env",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=worker_count,
        log_config=None,
        access_log=False,
        server_header=False,
        # A header deadline and a connection cap on top of uvicorn's httptools protocol.
        http=PROTOCOL,
    )


@app.command()
@handle_errors
def migrate() -> None:
    """Apply pending database migrations."""
    settings = load_settings()
    database = open_database(settings)
    before, after = migrate_to_head(database.engine)
    sync_query_views(database)
    database.dispose()
    if before == after:
        out.print(f"Database {safe_url(settings)} is up to date (revision {after}).")
    else:
        out.print(f"Database {safe_url(settings)} migrated from {before or 'empty'} to {after}.")


@app.command()
def version() -> None:
    """Print carebase's version."""
    print(__version__)


def main() -> None:
    """Console-script entry point."""
    app()
