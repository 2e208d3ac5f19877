"""What every embed page shares: who the viewer is, the partitioned cookies, the embed's
CSP, and errors rendered inside the frame.

An embed page lives in a helpdesk's iframe, on another site. So:

- Its cookies are `SameSite=None; Secure; Partitioned; HttpOnly` (`__Host-` prefixed): in a
  cross-site frame Chromium sends neither a Lax cookie nor an unpartitioned None one. The
  partition is the helpdesk's site, so an embed cookie is never sent to carebase elsewhere.
- Its CSP names the origins that may frame it (`frame-ancestors`, from the settings) instead
  of `'none'`, and it sends no `X-Frame-Options`.
- Its errors are pages the frame may show (the console's error pages refuse framing); a
  missing sign-in is a sign-in form inside the frame, not a redirect to `/sign-in`.

The viewer, first found wins:

1. an embed session: the agent signed in to carebase inside the frame once (a console session
   row, revoked like any other: sign-out, sign out everywhere, archive), kept in the
   partitioned `carebase_embed_session` cookie. Reads and writes notes as that user.
2. a console session: carebase is on the helpdesk's own site, or the page is opened directly.
3. a Zendesk grant: a verified signed-URL POST of the configured installation
   (`carebase.embeds.grants`). Reads only.

Embed pages never let a session act as more than an agent: they read profiles and add notes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import TimeoutError as PoolTimeout

from carebase.auth import sessions
from carebase.auth.sessions import ActiveSession, CreatedSession
from carebase.db.session import Database
from carebase.embeds import grants
from carebase.embeds.grants import Grant
from carebase.errors import CarebaseError, Unauthenticated
from carebase.settings import Settings
from carebase.web import format as fmt
from carebase.web.errors import title_for
from carebase.web.render import (
    SESSION_STATE_KEY,
    USER_STATE_KEY,
    VIEWER_STATE_KEY,
    is_htmx,
    render,
)
from carebase.web.routing import PageRoute
from carebase.web.security import add_missing, page_headers, policy
from carebase.web.session import (
    check_csrf,
    current_session,
    resolve_secret,
    secure_cookies,
    zone_of,
)

logger = logging.getLogger("carebase.web.embed")

EMBED_PREFIX = "/embed"
SIGN_IN_PATH = "/embed/sign-in"
ZAF_SDK_URL = "https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js"
_VIEWER_STATE_KEY = "embed_viewer"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# Security headers.


def frame_ancestors(settings: Settings) -> str:
    """The CSP source list of the pages that may frame the embed: the configured helpdesk
    origins, or `'none'` when no helpdesk is configured."""
    return " ".join(settings.embed_frame_ancestors) or "'none'"


def embed_csp(settings: Settings, *, zaf: bool = False) -> str:
    """The console's policy, framed by the helpdesks; the Zendesk page may also load ZAF's
    SDK, that one file, from Zendesk's CDN."""
    scripts = "'self'" + (f" {ZAF_SDK_URL}" if zaf else "")
    return policy(
        default_src="'self'",
        script_src=scripts,
        style_src="'self'",
        img_src="'self' data: https:",
        connect_src="'self'",
        form_action="'self'",
        base_uri="'none'",
        object_src="'none'",
        frame_ancestors=frame_ancestors(settings),
    )


def render_embed(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    zaf: bool = False,
) -> HTMLResponse:
    """An embed page or fragment, with the embed's headers (no X-Frame-Options)."""
    settings: Settings = request.app.state.settings
    viewer = request.scope.get("state", {}).get(_VIEWER_STATE_KEY)
    return render(
        request,
        template,
        {"viewer_embed": viewer, "return_to": return_path(request), **(context or {})},
        status_code=status_code,
        headers=headers,
        csp=embed_csp(settings, zaf=zaf),
        frame_options=None,
    )


# Cookies.


def session_cookie_name(settings: Settings) -> str:
    """The cookie of a session opened by signing in inside the frame."""
    return "__Host-carebase_embed_session" if secure_cookies(settings) else "carebase_embed_session"


def grant_cookie_name(settings: Settings) -> str:
    """The cookie of a helpdesk's read-only grant."""
    return "__Host-carebase_embed_grant" if secure_cookies(settings) else "carebase_embed_grant"


def set_embed_cookie(
    response: Response, settings: Settings, name: str, value: str, max_age: int
) -> None:
    """Set a cookie the helpdesk's frame sends back: `SameSite=None; Secure; Partitioned`.
    Written by hand: Starlette writes `Partitioned` only on Python 3.14. Over plain http off
    loopback (no Secure possible) it is a Lax cookie, and only same-site embedding can work:
    a helpdesk on another site needs carebase on https (docs/embeds.md)."""
    parts = [f"{name}={value}", f"Max-Age={max(max_age, 0)}", "Path=/", "HttpOnly"]
    if secure_cookies(settings):
        parts += ["Secure", "SameSite=None", "Partitioned"]
    else:
        parts.append("SameSite=Lax")
    response.raw_headers.append((b"set-cookie", "; ".join(parts).encode("latin-1")))


def clear_embed_cookie(response: Response, settings: Settings, name: str) -> None:
    """Forget an embed cookie in this partition."""
    set_embed_cookie(response, settings, name, "", 0)


def set_session_cookie(response: Response, settings: Settings, created: CreatedSession) -> None:
    """Keep a session opened inside the frame for as long as it can last."""
    idle, _ = sessions.lifetimes(settings)
    max_age = (created.absolute_expires_at - created.expires_at) + idle
    set_embed_cookie(
        response,
        settings,
        session_cookie_name(settings),
        created.secret,
        int(max_age.total_seconds()),
    )


def grant_lifetime(settings: Settings) -> timedelta:
    """How long a helpdesk's grant lasts: a console session's idle lifetime. Zendesk posts a
    new token whenever it opens the app's frame, so a grant only has to outlive one."""
    return sessions.lifetimes(settings)[0]


# The viewer.


@dataclass(frozen=True, slots=True)
class EmbedViewer:
    """Who looks at an embed page: a carebase user (`session`), or a helpdesk's verified
    agent (`grant`, read-only)."""

    session: ActiveSession | None
    grant: Grant | None
    via: str

    @property
    def can_write(self) -> bool:
        """Whether the viewer may add notes: only a signed-in carebase user."""
        return self.session is not None

    @property
    def label(self) -> str:
        """How the panel names the viewer."""
        if self.session is not None:
            return self.session.user.name or self.session.user.email
        return "Zendesk agent (read-only)"


class SignInToEmbed(Unauthenticated):
    """The embed needs a carebase sign-in (inside the frame)."""

    code = "embed_sign_in"
    default_message = "Sign in to carebase to see customer profiles here."


async def embed_viewer(request: Request) -> EmbedViewer | None:
    """The viewer of an embed page, or None (then the page asks for a sign-in)."""
    state: dict[str, Any] = request.scope.setdefault("state", {})
    if _VIEWER_STATE_KEY in state:
        cached: EmbedViewer | None = state[_VIEWER_STATE_KEY]
        return cached
    settings: Settings = request.app.state.settings
    now: datetime = request.app.state.clock()
    viewer: EmbedViewer | None = None
    secret = request.cookies.get(session_cookie_name(settings))
    if secret:
        database: Database = request.app.state.database
        active = await run_in_threadpool(resolve_secret, database, settings, secret, now)
        if active is not None:
            state[SESSION_STATE_KEY] = active
            state[USER_STATE_KEY] = active.user
            state[VIEWER_STATE_KEY] = fmt.Viewer(timezone=zone_of(active.user.timezone))
            viewer = EmbedViewer(active, None, "embed")
    if viewer is None:
        console = await current_session(request)
        if console is not None:
            viewer = EmbedViewer(console, None, "console")
    if viewer is None:
        grant = grants.read(
            settings.secret_key.get_secret_value(),
            request.cookies.get(grant_cookie_name(settings)),
            audience=settings.zendesk_audience,
            now=now,
        )
        if grant is not None:
            viewer = EmbedViewer(None, grant, grant.host)
    state[_VIEWER_STATE_KEY] = viewer
    return viewer


async def require_viewer(request: Request) -> EmbedViewer:
    """The viewer, or 401: the frame shows the sign-in form."""
    viewer = await embed_viewer(request)
    if viewer is None:
        raise SignInToEmbed()
    return viewer


async def require_writer(request: Request) -> EmbedViewer:
    """A signed-in carebase user (a grant reads only: 401, sign in to write), and for an
    unsafe request, this session's CSRF token from this site."""
    viewer = await require_viewer(request)
    if viewer.session is None:
        raise SignInToEmbed("Sign in to carebase to add notes.")
    if request.method not in _SAFE_METHODS:
        await check_csrf(request, viewer.session)
    return viewer


Viewer = Annotated[EmbedViewer, Depends(require_viewer)]
Writer = Annotated[EmbedViewer, Depends(require_writer)]
MaybeViewer = Annotated[EmbedViewer | None, Depends(embed_viewer)]


# Where to come back to.


def safe_embed_next(value: str | None, default: str = "/embed/profile") -> str:
    """A `next=` inside the embed only (`/embed/…`, no scheme, host or control characters)."""
    if not value or not value.startswith(EMBED_PREFIX + "/") or value.startswith("//"):
        return default
    if any(ord(char) < 0x20 or char == "\\" for char in value) or len(value) > 2000:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def return_path(request: Request) -> str:
    """The embed page to come back to after signing in: this one, or for htmx the page it
    was sent from."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    current = request.headers.get("hx-current-url")
    if is_htmx(request) and current:
        parts = urlsplit(current)
        if parts.netloc == request.url.netloc:
            target = parts.path + (f"?{parts.query}" if parts.query else "")
    if request.method not in _SAFE_METHODS and not is_htmx(request):
        target = request.headers.get("referer") or ""
        parts = urlsplit(target)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_embed_next(target)


def sign_in_url(next_path: str) -> str:
    """The in-frame sign-in page, coming back to `next_path`."""
    return f"{SIGN_IN_PATH}?{urlencode({'next': next_path})}"


def from_this_site(request: Request) -> bool:
    """Whether a browser says the request came from carebase's own pages (Fetch Metadata,
    else Origin); a request saying neither is refused - every browser that keeps
    partitioned cookies sends both."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    origin = request.headers.get("origin")
    return origin is not None and urlsplit(origin).netloc == request.url.netloc


# Errors inside the frame.


def _error_page(request: Request, error: Exception) -> Response:
    request_id = str(request.scope.get("state", {}).get("request_id", ""))
    headers: dict[str, str] = {}
    if isinstance(error, SignInToEmbed | Unauthenticated):
        return render_embed(
            request,
            "embed/sign_in.html" if not is_htmx(request) else "embed/_sign_in.html",
            {"message": str(error.message), "values": {}, "errors": {}},
            status_code=401,
        )
    if isinstance(error, CarebaseError):
        status, message, headers = error.status_code, error.message, dict(error.headers)
    elif isinstance(error, RequestValidationError):
        status, message = 422, "The page was asked for with values it cannot use."
    elif isinstance(error, PoolTimeout):
        status, message, headers = (
            503,
            "carebase is busy; try again in a moment.",
            {"Retry-After": "1"},
        )
    else:
        logger.error(
            "unhandled error in %s %s (request %s)",
            request.method,
            getattr(request.scope.get("route"), "path", "<embed>"),
            request_id,
            exc_info=error,
        )
        status, message = 500, "Something went wrong on our side."
    if status >= 500 and status != 503:
        message = "Something went wrong on our side. If it happens again, quote the request id."
    return render_embed(
        request,
        "embed/_error.html" if is_htmx(request) else "embed/error.html",
        {
            "status_code": status,
            "title": title_for(status),
            "message": message,
            "request_id": request_id,
        },
        status_code=status,
        headers=headers,
    )


class EmbedRoute(PageRoute):
    """A page route for the frame: its errors render inside the frame, and its HTML carries
    the embed's headers (never the console's X-Frame-Options: DENY)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = APIRoute.get_route_handler(self)

        async def in_frame(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as error:  # every failure is a page in the frame
                response = _error_page(request, error)
            if response.headers.get("content-type", "").startswith("text/html"):
                settings: Settings = request.app.state.settings
                defaults = page_headers(embed_csp(settings), frame_options=None)
                response.headers.update(add_missing(response.headers, defaults))
            return response

        return in_frame
