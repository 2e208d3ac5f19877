"""Errors for people: the HTML side of `carebase.http.errors`.

The error handlers there stay the one place a failure becomes a response. Each asks
`ConsoleErrors.wants_html`: yes for a `PageRoute`, and for a request that matched no route
(a 404 or 405, a missing static file) outside the API when the client accepts `text/html`
(a browser) or is htmx. Then the failure is a page in the console's layout, or for htmx a
toast swapped into `#flash`; the API (`/v1/…`, `/openapi.json`) always answers JSON.

- 401 on a page: 303 to `/sign-in?next=<the page>` (htmx: `HX-Redirect`).
- 5xx: the request id to quote, never the cause.
- Anything else: what went wrong, in the error's own words, and the status code.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import escape

from carebase.web.render import is_htmx, render
from carebase.web.routing import PageRoute
from carebase.web.security import page_headers

logger = logging.getLogger("carebase.web")

SIGN_IN_PATH = "/sign-in"

_TITLES = {
    400: "That request could not be read",
    401: "Sign in to continue",
    403: "Not allowed",
    404: "Page not found",
    405: "Not available this way",
    408: "That took too long",
    409: "That changed meanwhile",
    410: "This link cannot be used",
    413: "That is too large",
    415: "That format is not accepted",
    422: "Some of that needs fixing",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "carebase is busy",
}


def title_for(status_code: int) -> str:
    """A page title for an error status."""
    if status_code in _TITLES:
        return _TITLES[status_code]
    if status_code >= 500:
        return _TITLES[500]
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Something went wrong"


def is_api_path(path: str) -> bool:
    """Paths that answer JSON whatever the client accepts."""
    return path.startswith("/v1/") or path in {"/v1", "/openapi.json"}


def accepts_html(accept: str) -> bool:
    """Whether an Accept header names HTML with a non-zero quality (`*/*` alone does not)."""
    for media_range in accept.split(","):
        media, _, parameters = media_range.partition(";")
        if media.strip().lower() not in {"text/html", "application/xhtml+xml"}:
            continue
        quality = "1"
        for parameter in parameters.split(";"):
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                quality = value.strip()
        try:
            if float(quality) > 0:
                return True
        except ValueError:
            continue
    return False


def safe_next(value: str | None, default: str = "/") -> str:
    """A `next=` target only if it is a path on this site (`/profiles?q=a`), else `default`:
    never `//host`, `/\\host`, a scheme, or control characters (an open redirect)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(char) < 0x20 or char == "\\" for char in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def sign_in_url(request: Request) -> str:
    """`/sign-in?next=…` back to the page asked for (for htmx, the page it was sent from)."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method not in {"GET", "HEAD"}:
        # A form posted after the session ended: come back to the page it was on (a GET
        # of the form's action would be a 405), or to the start.
        target = "/"
        referer = urlsplit(request.headers.get("referer", ""))
        if referer.netloc == request.url.netloc:
            target = referer.path + (f"?{referer.query}" if referer.query else "")
    current = request.headers.get("hx-current-url")
    if is_htmx(request) and current:
        parts = urlsplit(current)
        if parts.netloc == request.url.netloc:
            target = parts.path + (f"?{parts.query}" if parts.query else "")
    target = safe_next(target)
    if target in {"/", SIGN_IN_PATH}:
        return SIGN_IN_PATH
    return f"{SIGN_IN_PATH}?{urlencode({'next': target})}"


class ConsoleErrors:
    """Renders errors as console pages; plugged into `install_error_handlers`."""

    def wants_html(self, request: Request) -> bool:
        """Whether this request's errors are answered in HTML."""
        if is_api_path(request.scope["path"]):
            return False
        route = request.scope.get("route")
        if route is not None:
            return isinstance(route, PageRoute)
        return is_htmx(request) or accepts_html(request.headers.get("accept", ""))

    def response(
        self,
        request: Request,
        status_code: int,
        code: str,
        message: str,
        details: Any,
        headers: dict[str, str],
    ) -> Response:
        """The error as a page, a toast, or (401) a way to sign in."""
        if status_code == 401:
            location = sign_in_url(request)
            if is_htmx(request):
                return Response(status_code=401, headers={**headers, "HX-Redirect": location})
            return RedirectResponse(location, status_code=303)
        request_id = str(request.scope.get("state", {}).get("request_id", ""))
        if status_code >= 500:
            message = "Something went wrong on our side. If it happens again, quote the request id."
        elif status_code == 404 and request.scope.get("route") is None:
            message = "There is no page at this address."
        title = title_for(status_code)
        context = {
            "status_code": status_code,
            "code": code,
            "title": title,
            "message": message,
            "problems": details if code == "validation_error" and isinstance(details, list) else [],
            "request_id": request_id,
        }
        if is_htmx(request):
            headers = {**headers, "HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
            template = "partials/toast.html"
        else:
            template = "errors/error.html"
        try:
            return render(request, template, context, status_code=status_code, headers=headers)
        except Exception:
            # A broken template must not hide the original error behind a second one.
            logger.exception("the error page for %s could not be rendered", status_code)
            return _plain_page(status_code, title, message, request_id, headers)


def _plain_page(
    status_code: int, title: str, message: str, request_id: str, headers: dict[str, str]
) -> HTMLResponse:
    body = (
        f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<main><h1>{escape(title)}</h1><p>{escape(message)}</p>"
        f"<p>Request id: {escape(request_id)}</p></main></html>"
    )
    return HTMLResponse(body, status_code=status_code, headers={**page_headers(), **headers})
