"""A route class that refuses request bodies which are not JSON (415)."""

from __future__ import annotations

import email.message
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from carebase.errors import UnsupportedMediaType


def is_json_content_type(value: str) -> bool:
    """True for application/json and application/*+json (any parameters)."""
    message = email.message.Message()
    message["content-type"] = value
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


class JSONRoute(APIRoute):
    """An APIRoute whose JSON body, when sent, must be labelled as JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def checked(request: Request) -> Response:
            content_type = request.headers.get("content-type")
            has_body = request.headers.get("content-length") not in (None, "0") or (
                "chunked" in request.headers.get("transfer-encoding", "")
            )
            if has_body and (content_type is None or not is_json_content_type(content_type)):
                raise UnsupportedMediaType(
                    details={"content_type": content_type, "expected": "application/json"}
                )
            return await handler(request)

        return checked
