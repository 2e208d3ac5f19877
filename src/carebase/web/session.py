"""Who is looking at a page: the console session cookie, resolved once per request, and the
CSRF check every form and htmx request that changes something must pass.

The cookie holds the session's secret (only its hash is stored, `auth.sessions`). It is
`HttpOnly`, `SameSite=Lax`, and `Secure` with the `__Host-` prefix unless carebase is reached
over plain http on a non-loopback host (then a warning at start-up says so). Browsers treat
http://127.0.0.1 and http://localhost as secure, so `python3 dev.py run` keeps `Secure`.

CSRF: an unsafe request (POST…) with a session must carry the session's token, as the form
field `csrf_token` or the `X-CSRF-Token` header (htmx sends it from `<body hx-headers>`), and
must not come from another site (`Sec-Fetch-Site`, or `Origin` when a browser sends no
`Sec-Fetch-Site`). Failure is 403 `csrf_failed`, a page saying to reload, never a 500.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from carebase.auth import sessions
from carebase.auth.sessions import ActiveSession, CreatedSession
from carebase.db.session import Database
from carebase.errors import Forbidden, Unauthenticated
from carebase.settings import Settings
from carebase.web import format as fmt
from carebase.web.render import SESSION_STATE_KEY, USER_STATE_KEY, VIEWER_STATE_KEY

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SAME_SITE = frozenset({"same-origin", "none"})


class CsrfFailed(Forbidden):
    """The form did not carry this session's token, or came from another site."""

    code = "csrf_failed"
    default_message = (
        "This form has expired or came from another site; reload the page and try again."
    )


class ManagersOnly(Forbidden):
    """The page is for managers."""

    code = "managers_only"
    default_message = "Only managers can do this."


def secure_cookies(settings: Settings) -> bool:
    """Whether the session cookie is `Secure` (and `__Host-`): unless carebase is reached over
    plain http on a host that is not loopback, where a Secure cookie would never come back."""
    url = urlsplit(settings.base_url)
    if url.scheme == "https":
        return True
    host = url.hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cookie_name(settings: Settings) -> str:
    """The session cookie's name (`__Host-` requires Secure, Path=/ and no Domain)."""
    return "__Host-carebase_session" if secure_cookies(settings) else "carebase_session"


def set_session_cookie(response: Response, settings: Settings, created: CreatedSession) -> None:
    """Give the browser the new session; it lasts as long as the session can."""
    max_age = int((created.absolute_expires_at - created.expires_at).total_seconds())
    max_age += int(sessions.lifetimes(settings)[0].total_seconds())
    response.set_cookie(
        cookie_name(settings),
        created.secret,
        max_age=max(max_age, 0),
        path="/",
        secure=secure_cookies(settings),
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    """Forget the session in the browser."""
    response.delete_cookie(
        cookie_name(settings),
        path="/",
        secure=secure_cookies(settings),
        httponly=True,
        samesite="lax",
    )


def resolve_secret(
    database: Database, settings: Settings, secret: str, now: datetime
) -> ActiveSession | None:
    """The live session a cookie's secret names (touched when due), or None."""
    try:
        with database.unit_of_work(write=False) as session:
            active = sessions.resolve(session, settings, secret, now=now)
    except Unauthenticated:
        return None
    if active.touch_due:
        with database.unit_of_work() as session:
            sessions.touch(session, settings, active, now=now)
    return active


async def current_session(request: Request) -> ActiveSession | None:
    """The request's live console session, or None; sets the page's user and viewer."""
    state: dict[str, Any] = request.scope.setdefault("state", {})
    if SESSION_STATE_KEY in state:
        cached: ActiveSession | None = state[SESSION_STATE_KEY]
        return cached
    settings: Settings = request.app.state.settings
    secret = request.cookies.get(cookie_name(settings))
    active = None
    if secret:
        database: Database = request.app.state.database
        now: datetime = request.app.state.clock()
        active = await run_in_threadpool(resolve_secret, database, settings, secret, now)
    state[SESSION_STATE_KEY] = active
    if active is not None:
        state[USER_STATE_KEY] = active.user
        state[VIEWER_STATE_KEY] = fmt.Viewer(timezone=zone_of(active.user.timezone))
    return active


def zone_of(name: str) -> ZoneInfo:
    """The IANA zone `name`, or UTC when this machine does not know it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return fmt.UTC_ZONE


async def require_session(request: Request) -> ActiveSession:
    """The signed-in session (401: the console answers by sending the browser to sign in);
    an unsafe request must also pass the CSRF check."""
    active = await current_session(request)
    if active is None:
        raise Unauthenticated("Sign in to see this page.")
    if request.method not in _SAFE_METHODS:
        await check_csrf(request, active)
    return active


async def require_manager(
    active: Annotated[ActiveSession, Depends(require_session)],
) -> ActiveSession:
    """A signed-in manager (403 `managers_only` for an agent)."""
    if not active.user.is_manager:
        raise ManagersOnly()
    return active


async def check_csrf(request: Request, active: ActiveSession) -> None:
    """Refuse (403 `csrf_failed`) an unsafe request without this session's token, or sent
    from another site."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        if fetch_site not in _SAME_SITE:
            raise CsrfFailed()
    else:
        origin = request.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != request.url.netloc:
            raise CsrfFailed()
    presented = request.headers.get("x-csrf-token")
    if presented is None and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        fields = parse_qs((await request.body()).decode("utf-8", "replace"))
        values = fields.get("csrf_token")
        presented = values[0] if values else None
    settings: Settings = request.app.state.settings
    if not sessions.csrf_matches(settings, active.id, presented):
        raise CsrfFailed()


SignedIn = Annotated[ActiveSession, Depends(require_session)]
Manager = Annotated[ActiveSession, Depends(require_manager)]
MaybeSignedIn = Annotated[ActiveSession | None, Depends(current_session)]
