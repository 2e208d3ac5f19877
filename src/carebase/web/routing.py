"""Routes for people, not programs: `PageRoute` and `page_router()`.

A page route is left out of the OpenAPI document, its errors render as HTML pages (or, for
htmx, as a toast) through the same handlers that answer the API's JSON (`http/errors.py`
asks `carebase.web.errors.ConsoleErrors`), and every HTML answer it gives carries the
console's security headers unless the handler chose its own.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from carebase.web.security import add_missing, page_headers


class PageRoute(APIRoute):
    """An APIRoute for an HTML page or fragment."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        kwargs["include_in_schema"] = False
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        defaults = page_headers()

        async def with_headers(request: Request) -> Response:
            response = await handler(request)
            if response.headers.get("content-type", "").startswith("text/html"):
                response.headers.update(add_missing(response.headers, defaults))
            return response

        return with_headers


def page_router(**kwargs: Any) -> APIRouter:
    """An APIRouter whose routes are `PageRoute`s."""
    return APIRouter(route_class=PageRoute, include_in_schema=False, **kwargs)
