"""A route class that authenticates a token route's caller before reading its body (401),
and refuses request bodies which are not JSON (415), hold too many values (413) or a NUL
character (422)."""

from __future__ import annotations

import email.message
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute

from carebase import jsonutil
from carebase.errors import UnsupportedMediaType, ValidationFailed
from carebase.http.deps import identify_before_body, requires_token
from carebase.recordtypes.validation import scan_hostile


def is_json_content_type(value: str) -> bool:
    """True for application/json and application/*+json (any parameters)."""
    message = email.message.Message()
    message["content-type"] = value
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


# Methods whose requests carry a body our handlers read.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def declares_body(request: Request) -> bool:
    """Whether the request says a body follows (a non-zero Content-Length, or chunked)."""
    return request.headers.get("content-length") not in (None, "0") or (
        "chunked" in request.headers.get("transfer-encoding", "")
    )


class JSONRoute(APIRoute):
    """An APIRoute that checks a token route's token before it reads a body, and whose
    JSON body, when sent, must be labelled as JSON, hold a bounded number of values and no
    NUL character."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        # FastAPI reads a declared body before it solves the route's dependencies, the
        # token among them; a raw-body route may read it in a dependency. Either way a
        # caller with no live token would make the server receive the whole body first.
        carries_body = bool((self.methods or set()) & _BODY_METHODS)
        token_first = carries_body and requires_token(self.dependant)
        if self.body_field is None and not token_first:
            return handler

        async def checked(request: Request) -> Response:
            has_body = declares_body(request)
            if has_body and token_first:
                await identify_before_body(request)
            if self.body_field is None:
                return await handler(request)
            content_type = request.headers.get("content-type")
            if has_body and (content_type is None or not is_json_content_type(content_type)):
                raise UnsupportedMediaType(
                    details={"content_type": content_type, "expected": "application/json"}
                )
            if has_body:
                _check_body(await request.body())
            # The body is cached on the request: the handler reads it again without I/O.
            return await handler(request)

        return checked


def _check_body(body: bytes) -> None:
    """Refuse an admin body with too many values (413) or a NUL in any string (422).

    PostgreSQL cannot store NUL in text: caught here, it is a 422 naming the field instead
    of a 500 at the first query. Ingestion batches, which have no JSONRoute body, reject
    such records one by one instead.
    """
    jsonutil.check_value_count(body)
    if b"\\u0000" not in body and b"\x00" not in body:
        return
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        return  # FastAPI's own decoding answers malformed_json
    hostile = scan_hostile(decoded, "body")
    if hostile is not None:
        raise ValidationFailed(details=[hostile])
