"""Builders for the users tests: people created through the same services the API and CLI
use, and signed in the way the console signs them in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from carebase.db.session import Database
from carebase.settings import Settings
from carebase.users import service
from carebase.users.service import SignedIn

PASSWORD = "correct horse battery staple"


def create_user(
    database: Database,
    settings: Settings,
    now: datetime,
    email: str = "jane@business.io",
    **fields: Any,
) -> tuple[int, str]:
    """A new user's id and the token of its invitation link."""
    values: dict[str, Any] = {"first_name": "Jane", "last_name": "Remington", "role": "agent"}
    values.update(fields)
    with database.unit_of_work() as session:
        created = service.create_user(
            session, settings, email=email, now=now, created_by="test", **values
        )
    return created.user.id, created.link.url.rsplit("/", 1)[1]


def user_with_password(
    database: Database,
    settings: Settings,
    now: datetime,
    email: str = "jane@business.io",
    password: str = PASSWORD,
    **fields: Any,
) -> SignedIn:
    """A user who has set `password` through its invitation (and is signed in once)."""
    _, token = create_user(database, settings, now, email, **fields)
    return service.set_password_with_link(
        database, settings, token=token, password=password, user_agent="test", now=now
    )


def sign_in(
    database: Database,
    settings: Settings,
    now: datetime,
    email: str = "jane@business.io",
    password: str = PASSWORD,
    ip: str | None = "192.0.2.1",
) -> SignedIn:
    """Sign in as the console does."""
    return service.sign_in(
        database,
        settings,
        email=email,
        password=password,
        ip=ip,
        user_agent="Mozilla/5.0 (test)",
        now=now,
    )
