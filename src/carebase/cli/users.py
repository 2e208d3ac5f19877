"""`carebase user create|reset-link|list|archive|restore` and `carebase group create|list`.

The same services as the admin API. What a script wants is alone on stdout's last line (a
new user's id, a link, a group's id); everything said to people goes to stderr.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import orjson
import typer
from rich.table import Table
from sqlalchemy.orm import Session

from carebase.auth.signin_links import IssuedLink
from carebase.cli.context import err, fail, handle_errors, load_settings, out, ready_database
from carebase.errors import NotFound
from carebase.models import utcnow
from carebase.users import service
from carebase.users.schemas import GroupOut, UserOut

user_app = typer.Typer(
    help="Create, list and archive the people who use the console.", no_args_is_help=True
)
group_app = typer.Typer(help="Create and list groups of users.", no_args_is_help=True)


class Role(StrEnum):
    """What a user may do in the console."""

    AGENT = "agent"
    MANAGER = "manager"


def _when(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC"


def _say_link(link: IssuedLink) -> None:
    kind = "invitation" if link.purpose == "invite" else "password reset"
    err.print(
        f"One-time sign-in link ({kind}), valid until {_when(link.expires_at)}. It is shown "
        "once and works once; hand it to the user:",
        highlight=False,
    )


def _group_ids(session: Session, names: list[str]) -> list[int]:
    ids = []
    for name in names:
        try:
            ids.append(service.find_group_by_name(session, name).id)
        except NotFound as error:
            fail(f"{error.message} Create it first: carebase group create --name {name!r}")
    return ids


@user_app.command("create")
@handle_errors
def create_user(
    email: Annotated[str, typer.Option("--email", help="The address the user signs in with.")],
    first_name: Annotated[str, typer.Option("--first-name")],
    last_name: Annotated[str, typer.Option("--last-name")],
    role: Annotated[
        Role,
        typer.Option(
            "--role", help="manager: manages users, tokens, connectors; agent: reads profiles."
        ),
    ],
    groups: Annotated[
        list[str] | None,
        typer.Option("--group", help="Repeatable: the name of a group to put the user in."),
    ] = None,
    timezone: Annotated[
        str, typer.Option("--timezone", help="IANA time zone, e.g. Australia/Sydney.")
    ] = "UTC",
) -> None:
    """Create a user and print its one-time sign-in link, then its id alone on the last line."""
    settings = load_settings()
    database = ready_database()

    def create(session: Session) -> tuple[int, str, IssuedLink]:
        created = service.create_user(
            session,
            settings,
            email=email,
            first_name=first_name,
            last_name=last_name,
            role=role.value,
            timezone=timezone,
            groups=_group_ids(session, groups or []),
            now=utcnow(),
            created_by="cli",
        )
        return created.user.id, created.user.email, created.link

    user_id, address, link = database.transaction(create)
    database.dispose()
    err.print(f"Created {role.value} [bold]{address}[/] with id {user_id}.", highlight=False)
    _say_link(link)
    print(link.url)
    print(user_id)


@user_app.command("reset-link")
@handle_errors
def reset_link(
    email: Annotated[str, typer.Option("--email", help="The user's email.")],
) -> None:
    """Print a new one-time link with which the user sets a password, alone on the last line
    (an invitation while it has none). Its earlier unused links stop working."""
    settings = load_settings()
    database = ready_database()

    def issue(session: Session) -> IssuedLink:
        user = service.find_user_by_email(session, email)
        return service.issue_sign_in_link(
            session, settings, user.id, now=utcnow(), created_by="cli"
        )

    link = database.transaction(issue)
    database.dispose()
    _say_link(link)
    print(link.url)


@user_app.command("list")
@handle_errors
def list_users(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array on stdout.")] = False,
) -> None:
    """List every user, archived ones too."""
    database = ready_database()
    now = utcnow()
    with database.unit_of_work(write=False) as session:
        users = service.describe_users(session, service.list_users(session), now=now)
        names = {group.id: group.name for group in service.list_groups(session)}
    database.dispose()
    if as_json:
        print(orjson.dumps([user.model_dump(mode="json") for user in users]).decode())
        return
    out.print(_users_table(users, names))


def _users_table(users: list[UserOut], names: dict[int, str]) -> Table:
    # Emails, roles and states are what people look for: never cut; the rest wraps.
    widest = max((len(user.email) for user in users), default=5)
    table = Table()
    table.add_column("id", no_wrap=True)
    table.add_column("email", no_wrap=True, min_width=widest)
    table.add_column("role", no_wrap=True, min_width=7)
    table.add_column("status", no_wrap=True, min_width=8)
    for column in ("name", "groups", "last sign-in"):
        table.add_column(column, overflow="fold")
    for user in users:
        if user.archived:
            status = "archived"
        elif not user.has_password:
            status = "invited"
        else:
            status = "active"
        table.add_row(
            str(user.id),
            user.email,
            user.role,
            status,
            f"{user.first_name} {user.last_name}".strip(),
            ", ".join(names.get(group, str(group)) for group in user.groups),
            _when(user.last_sign_in_at) if user.last_sign_in_at else "never",
        )
    return table


@user_app.command("archive")
@handle_errors
def archive_user(email: Annotated[str, typer.Option("--email", help="The user's email.")]) -> None:
    """Archive a user: it can no longer sign in and its sessions end; its history stays."""
    database = ready_database()

    def archive(session: Session) -> int:
        return service.archive_user(
            session, service.find_user_by_email(session, email).id, now=utcnow()
        ).id

    user_id = database.transaction(archive)
    database.dispose()
    err.print(
        f"Archived user {user_id}: it can no longer sign in, and its sessions have ended.",
        highlight=False,
    )


@user_app.command("restore")
@handle_errors
def restore_user(email: Annotated[str, typer.Option("--email", help="The user's email.")]) -> None:
    """Restore an archived user: it can sign in again with its password."""
    database = ready_database()

    def restore(session: Session) -> int:
        return service.restore_user(
            session, service.find_user_by_email(session, email).id, now=utcnow()
        ).id

    user_id = database.transaction(restore)
    database.dispose()
    err.print(f"Restored user {user_id}.", highlight=False)


@group_app.command("create")
@handle_errors
def create_group(
    name: Annotated[str, typer.Option("--name", help="The group's name, unique.")],
    comment: Annotated[str, typer.Option("--comment", help="What the group is.")] = "",
) -> None:
    """Create a group and print its id alone on the last line."""
    database = ready_database()

    def create(session: Session) -> tuple[int, str]:
        group = service.create_group(session, name=name, comment=comment, now=utcnow())
        return group.id, group.name

    group_id, group_name = database.transaction(create)
    database.dispose()
    err.print(f"Created group {group_name!r} with id {group_id}.", highlight=False)
    print(group_id)


@group_app.command("list")
@handle_errors
def list_groups(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array on stdout.")] = False,
) -> None:
    """List every group, archived ones too, with its members' ids."""
    database = ready_database()
    with database.unit_of_work(write=False) as session:
        groups = [
            service.describe_group(session, group)
            for group in service.list_groups(session, include_archived=True)
        ]
    database.dispose()
    if as_json:
        print(orjson.dumps([group.model_dump(mode="json") for group in groups]).decode())
        return
    out.print(_groups_table(groups))


def _groups_table(groups: list[GroupOut]) -> Table:
    table = Table("id", "name", "comment", "members", "status")
    for group in groups:
        table.add_row(
            str(group.id),
            group.name,
            group.comment,
            str(len(group.members)),
            "archived" if group.archived else "active",
        )
    return table
