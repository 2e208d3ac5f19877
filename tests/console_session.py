"""Signing in to the console in tests, without the sign-in page: a user made by
`users.service.create_user` and a session made by `auth.sessions.create`, whose secret goes
in the session cookie (`carebase.web.session.cookie_name`).

In-process: `sign_in(client, database, settings)` on a TestClient whose base_url is https
(the cookie is Secure). In a browser: `browser_cookie(...)` for `context.add_cookies`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from carebase.auth import sessions
from carebase.db.session import Database
from carebase.settings import Settings
from carebase.users import service as users
from carebase.web.session import cookie_name, secure_cookies


@dataclass(frozen=True)
class ConsoleUser:
    """A signed-in test user: their id, the cookie that carries the session, and the CSRF
    token its forms send."""

    id: int
    email: str
    cookie: str
    secret: str
    csrf_token: str


def create_signed_in(
    database: Database,
    settings: Settings,
    *,
    email: str = "alex@brand.io",
    first_name: str = "Alex",
    last_name: str = "Agent",
    role: str = "agent",
    timezone: str = "UTC",
    now: datetime | None = None,
) -> ConsoleUser:
    """A new user with an open session."""
    moment = now or datetime.now(UTC)
    with database.unit_of_work() as session:
        created = users.create_user(
            session,
            settings,
            email=email,
            first_name=first_name,
            last_name=last_name,
            role=role,
            timezone=timezone,
            now=moment,
            created_by="test",
        )
        user_id = created.user.id
        opened = sessions.create(session, settings, user_id=user_id, user_agent="tests", now=moment)
    return ConsoleUser(user_id, email, cookie_name(settings), opened.secret, opened.csrf_token)


def sign_in(client: TestClient, database: Database, settings: Settings, **user: Any) -> ConsoleUser:
    """Sign `client` in as a new user (keyword arguments as `create_signed_in`); the client
    replaces any session it had."""
    signed_in = create_signed_in(database, settings, **user)
    client.cookies.set(signed_in.cookie, signed_in.secret)
    return signed_in


def browser_cookie(signed_in: ConsoleUser, settings: Settings, url: str) -> dict[str, Any]:
    """The session cookie for Playwright's `context.add_cookies` on the server at `url`."""
    return {
        "name": signed_in.cookie,
        "value": signed_in.secret,
        "domain": urlsplit(url).hostname,
        "path": "/",
        "httpOnly": True,
        "secure": secure_cookies(settings),
        "sameSite": "Lax",
    }
