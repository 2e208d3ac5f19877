"""Jinja2 for the console: one Environment per process, and the one way a page is rendered.

Templates are compiled once and never re-read (`auto_reload=False`), autoescaped, and strict
about undefined names (a typo fails the page's test instead of printing nothing). Every page
gets the request, the viewer (time zone, locale), the clock's `now`, the navigation and the
helpers below, and goes out with the security headers of `carebase.web.security`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from carebase import __version__
from carebase.web import format as fmt
from carebase.web.assets import static_url, vendor_url
from carebase.web.icons import icon
from carebase.web.nav import built_sections
from carebase.web.security import CONSOLE_CSP, page_headers

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

# htmx 2, configured for the CSP and for pages that hold people's data:
# - no inline indicator <style> (style-src 'self' would refuse it), no eval, no inline
#   scripts in swapped content, requests to this origin only;
# - no copies of pages in localStorage for the back button (a reload asks the server);
# - a 422 answer (a form with its messages) is swapped like a 200; other errors too, into
#   wherever the answer's HX-Retarget names (the error handlers send the #flash toast).
HTMX_CONFIG: dict[str, Any] = {
    "includeIndicatorStyles": False,
    "allowEval": False,
    "allowScriptTags": False,
    "selfRequestsOnly": True,
    "historyCacheSize": 0,
    "refreshOnHistoryMiss": True,
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "[23]..", "swap": True},
        {"code": "422", "swap": True},
        {"code": "[45]..", "swap": True, "error": True},
    ],
}

# Where a page's viewer and signed-in user come from: a session dependency sets these on
# `request.state` (auth.sessions, once it lands); until then every viewer is anonymous, UTC.
VIEWER_STATE_KEY = "viewer"
USER_STATE_KEY = "user"
# The signed-in console session (`carebase.web.session`), or None.
SESSION_STATE_KEY = "console_session"


@pass_context
def _localtime(context: Context, value: datetime | None) -> Markup:
    return fmt.time_element(value, context["viewer"], context["now"])


@pass_context
def _number(context: Context, value: float | None, digits: int = 0) -> str:
    return fmt.number(value, context["viewer"], digits)


def _duration(value: timedelta | float | None) -> str:
    return fmt.duration(value)


@cache
def environment() -> Environment:
    """The process's template environment."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        auto_reload=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(localtime=_localtime, number=_number, duration=_duration)
    env.globals.update(
        static_url=static_url,
        vendor_url=vendor_url,
        icon=icon,
        version=__version__,
        htmx_config=json.dumps(HTMX_CONFIG, separators=(",", ":")),
    )
    return env


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (it wants a fragment, not a whole page)."""
    return request.headers.get("hx-request") == "true"


def page_context(request: Request) -> dict[str, Any]:
    """What every template may use, besides its own context."""
    state = request.scope.get("state", {})
    active = state.get(SESSION_STATE_KEY)
    user = state.get(USER_STATE_KEY)
    manager = bool(getattr(user, "is_manager", False))
    return {
        "request": request,
        # Every form that changes something carries it; htmx sends it as X-CSRF-Token.
        "csrf_token": active.csrf_token if active is not None else "",
        "viewer": state.get(VIEWER_STATE_KEY) or fmt.Viewer(),
        "user": state.get(USER_STATE_KEY),
        "now": request.app.state.clock(),
        "sections": [s for s in built_sections(request.app) if manager or not s.managers_only],
        "path": request.url.path,
    }


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    csp: str = CONSOLE_CSP,
    frame_options: str | None = "DENY",
) -> HTMLResponse:
    """Render a page or fragment as a response with the console's security headers
    (`headers` added after, and winning)."""
    body = environment().get_template(template).render({**page_context(request), **(context or {})})
    merged = page_headers(csp, frame_options=frame_options)
    merged.update(headers or {})
    return HTMLResponse(body, status_code=status_code, headers=merged)
