"""The one place errors become responses: `{"error": {"code", "message", "details"}}`, or,
for a person in a browser, an HTML page rendered by the console (`HtmlErrors`)."""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import Scope

from carebase.errors import (
    CLIENT_CLOSED_REQUEST,
    CarebaseError,
    FieldProblem,
    MalformedJSON,
    Overloaded,
    ValidationFailed,
    code_for_status,
    problem,
)

logger = logging.getLogger("carebase.http")

_STATUS_MESSAGES = {
    404: "No such route.",
    405: "Method not allowed on this route.",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The JSON shape of every error carebase answers."""
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A JSONResponse in the error shape."""
    return JSONResponse(
        error_body(code, message, details), status_code=status_code, headers=headers
    )


class HtmlErrors(Protocol):
    """The console's rendering of errors for people (`carebase.web.errors.ConsoleErrors`)."""

    def wants_html(self, request: Request) -> bool:
        """Whether this request's errors are answered in HTML."""
        ...

    def response(
        self,
        request: Request,
        status_code: int,
        code: str,
        message: str,
        details: Any,
        headers: dict[str, str],
    ) -> Response:
        """The error as HTML."""
        ...


_HTML_ERRORS_STATE_KEY = "html_errors"


def _answer(
    request: Request,
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The error in the one JSON shape, or as HTML when the request is a person's."""
    html: HtmlErrors | None = getattr(request.app.state, _HTML_ERRORS_STATE_KEY, None)
    if html is not None and html.wants_html(request):
        return html.response(request, status_code, code, message, details, dict(headers or {}))
    return error_response(status_code, code, message, details, headers)


def html_response_for(scope: Scope, error: CarebaseError) -> Response | None:
    """`error` as HTML when the request is a person's (for middleware, which answers before
    any route is matched); None for the API, or when the page cannot be rendered."""
    app = scope.get("app")
    html: HtmlErrors | None = getattr(getattr(app, "state", None), _HTML_ERRORS_STATE_KEY, None)
    if html is None:
        return None
    request = Request(scope)
    try:
        if not html.wants_html(request):
            return None
        return html.response(
            request, error.status_code, error.code, error.message, error.details, error.headers
        )
    except Exception:
        logger.exception("an HTML error page could not be rendered; answering JSON")
        return None


def _field_path(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in location]
    return ".".join(parts)


def validation_details(errors: list[Any]) -> list[FieldProblem]:
    """Pydantic errors as `{field, reason}` problems; the offending input is never echoed."""
    return [
        problem(_field_path(error.get("loc", ())), str(error.get("msg", "invalid")))
        for error in errors
    ]


async def _carebase_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CarebaseError)
    return _answer(request, exc.status_code, exc.code, exc.message, exc.details, exc.headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in errors):
        position = next(
            (e["loc"][-1] for e in errors if e.get("type") == "json_invalid" and e.get("loc")),
            None,
        )
        return _answer(
            request,
            MalformedJSON.status_code,
            MalformedJSON.code,
            MalformedJSON.default_message,
            {"position": position} if isinstance(position, int) else None,
        )
    return _answer(
        request,
        ValidationFailed.status_code,
        ValidationFailed.code,
        ValidationFailed.default_message,
        validation_details(errors),
    )


_ROUTE_TABLE_STATE_KEY = "route_methods"


def _route_table(app: FastAPI) -> list[tuple[re.Pattern[str], bool, frozenset[str]]]:
    """Each route's path pattern, whether the path is templated, and its methods, flattened
    through included routers."""
    table: list[tuple[re.Pattern[str], bool, frozenset[str]]] | None = getattr(
        app.state, _ROUTE_TABLE_STATE_KEY, None
    )
    if table is None:
        table = []
        for context in iter_route_contexts(app.routes):
            if context.path:
                pattern, _format, convertors = compile_path(context.path)
                table.append((pattern, bool(convertors), frozenset(context.methods or ())))
        setattr(app.state, _ROUTE_TABLE_STATE_KEY, table)
    return table


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method the resource at `path` accepts, sorted; empty when no route has the path.

    As in OpenAPI, a concrete path is matched before templated ones: when a route without
    parameters has the path (`/v1/connectors/zendesk-trigger-template`), its methods are the
    resource's, not those of a templated route it also fits (`/v1/connectors/{connector_id}`).
    """
    concrete: set[str] = set()
    templated: set[str] = set()
    for pattern, is_templated, route_methods in _route_table(app):
        if pattern.match(path):
            (templated if is_templated else concrete).update(route_methods)
    return sorted(concrete or templated)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == CLIENT_CLOSED_REQUEST:
        # The client is gone: nothing to render, and the access log's line says so.
        return Response(status_code=CLIENT_CLOSED_REQUEST)
    message = _STATUS_MESSAGES.get(exc.status_code)
    if message is None:
        message = exc.detail if isinstance(exc.detail, str) else "HTTP error."
    headers = dict(exc.headers or {})
    details = None
    if exc.status_code == 405:
        # Starlette's Allow names only the first route matching the path; several routes
        # can share a path (GET and POST /v1/tokens are two), so ask them all. A mounted
        # app (the static files) is no route here: its own Allow stands.
        allowed = allowed_methods(request.app, request.url.path)
        if allowed or "Allow" not in headers:
            headers["Allow"] = ", ".join(allowed)
    elif exc.status_code == 404:
        # Trailing slashes are not redirected (a redirect would be built from the client's
        # Host header); the 404 says where the route is instead.
        path = request.url.path
        if path.endswith("/") and path != "/" and allowed_methods(request.app, path.rstrip("/")):
            message = f"No such route; drop the trailing slash: {path.rstrip('/')}"
            details = {"path": path.rstrip("/")}
    return _answer(
        request, exc.status_code, code_for_status(exc.status_code), message, details, headers
    )


async def _unhandled_error(request: Request, exc: Exception) -> Response:
    request_id = request.scope.get("state", {}).get("request_id", "")
    # The traceback stays in the server log; the client gets only the request id.
    logger.error(
        "unhandled error in %s %s (request %s)",
        request.method,
        _route_template(request),
        request_id,
        exc_info=exc,
    )
    return _answer(
        request,
        500,
        "internal_error",
        f"Internal server error. Quote request id {request_id} when reporting it.",
        headers={"X-Request-Id": request_id} if request_id else None,
    )


def _route_template(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", "<unmatched>"))


async def _pool_exhausted(request: Request, _exc: Exception) -> Response:
    # No pooled connection came free in time: the server is busy, not broken.
    problem = Overloaded()
    return _answer(
        request, problem.status_code, problem.code, problem.message, headers={"Retry-After": "1"}
    )


def install_error_handlers(app: FastAPI, *, html: HtmlErrors | None = None) -> None:
    """Render every failure the server can produce in the one error shape, or with `html`
    as a page for the requests it claims (a person's, not the API's)."""
    setattr(app.state, _HTML_ERRORS_STATE_KEY, html)
    app.add_exception_handler(PoolTimeout, _pool_exhausted)
    app.add_exception_handler(CarebaseError, _carebase_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unhandled_error)
