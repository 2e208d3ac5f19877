"""What every command needs: settings, database, consoles, and clean failures."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NoReturn, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from carebase.db.migrate import migrate_to_head
from carebase.db.session import Database
from carebase.errors import CarebaseError
from carebase.settings import Settings, get_settings

# Decoration and messages go to stderr so stdout stays parseable (`TOKEN=$(carebase …)`).
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

EXIT_FAILED = 1
EXIT_CONFIGURATION = 3
EXIT_DATABASE = 4

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print an error without a traceback and exit with `code`."""
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def load_settings() -> Settings:
    """Settings, or a readable exit naming each bad CAREBASE_* variable."""
    try:
        return get_settings()
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            field = ".".join(str(part) for part in problem["loc"]) or "settings"
            lines.append(f"  CAREBASE_{field.upper()}: {problem['msg']}")
        fail("invalid configuration\n" + "\n".join(lines), EXIT_CONFIGURATION)


def safe_url(settings: Settings) -> str:
    """The database URL with any password hidden."""
    return make_url(settings.database_url).render_as_string(hide_password=True)


def open_database(settings: Settings) -> Database:
    """The database for `settings`."""
    return Database.from_settings(settings)


def ready_database() -> Database:
    """The configured database, migrated to the newest revision."""
    database = open_database(load_settings())
    migrate_to_head(database.engine)
    return database


def handle_errors(function: Callable[P, R]) -> Callable[P, R]:
    """Turn carebase and database errors into messages and exit codes."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except CarebaseError as error:
            fail(error.message + _details_suffix(error.details))
        except OperationalError as error:
            reason = str(error.orig).strip().splitlines()[0] if error.orig else "unknown"
            fail(f"cannot use the database: {reason}", EXIT_DATABASE)

    return wrapper


def _details_suffix(details: object) -> str:
    if isinstance(details, list):
        parts = [
            f"{item.get('field')}: {item.get('reason')}"
            for item in details
            if isinstance(item, dict)
        ]
        return " (" + "; ".join(parts) + ")" if parts else ""
    return ""
