"""`carebase token create|list|revoke`."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.table import Table

from carebase.auth import service
from carebase.auth.schemas import TokenOut
from carebase.auth.scopes import KNOWN_SCOPES
from carebase.cli.context import (
    err,
    handle_errors,
    out,
    ready_database,
)
from carebase.models import utcnow

app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)


@app.command("create")
@handle_errors
def create(
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    scopes: Annotated[
        list[str],
        typer.Option(
            "--scope",
            help=f"Repeatable: {', '.join(KNOWN_SCOPES)}, or ingest:<dataset_id>.",
        ),
    ],
) -> None:
    """Create a token and print it once: alone, on the last line of stdout."""
    database = ready_database()
    with database.unit_of_work() as session:
        created = service.create_token(
            session, name=name, scopes=scopes, now=utcnow(), created_by="cli"
        )
    err.print(
        f"Created token [bold]{created.token.id}[/] ({created.token.name}) with scopes "
        f"{', '.join(created.token.scopes)}. It is shown once; carebase keeps only its hash.",
        highlight=False,
    )
    print(created.secret)


@app.command("list")
@handle_errors
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array on stdout.")] = False,
    include_revoked: Annotated[
        bool, typer.Option("--all/--active", help="Include revoked tokens.")
    ] = True,
) -> None:
    """List tokens (never their secrets)."""
    database = ready_database()
    with database.unit_of_work(write=False) as session:
        tokens = [
            TokenOut.model_validate(token)
            for token in service.list_tokens(session, include_revoked=include_revoked)
        ]
    if as_json:
        print(orjson.dumps([token.model_dump(mode="json") for token in tokens]).decode())
        return
    table = Table("id", "name", "prefix", "scopes", "created", "last used", "status")
    for token in tokens:
        table.add_row(
            token.id,
            token.name,
            token.token_prefix + "…",
            ", ".join(token.scopes),
            f"{token.created_at:%Y-%m-%d %H:%M}",
            f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never",
            f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active",
        )
    out.print(table)


@app.command("revoke")
@handle_errors
def revoke(token_id: Annotated[str, typer.Argument(help="The token's id (tok_…).")]) -> None:
    """Revoke a token: it answers 401 from now on."""
    database = ready_database()
    with database.unit_of_work() as session:
        token = service.revoke_token(session, token_id, now=utcnow())
    assert token.revoked_at is not None
    err.print(f"Revoked {token.id} ({token.name}) at {token.revoked_at.isoformat()}.")
