"""A route class that refuses request bodies which are not JSON (415), hold too many
values (413) or a NUL character (422)."""

from __future__ import annotations

import email.message
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute

from carebase import jsonutil
from carebase.errors import UnsupportedMediaType, ValidationFailed
from carebase.recordtypes.validation import scan_hostile


def is_json_content_type(value: str) -> bool:
    """True for application/json and application/*+json (any parameters)."""
    message = email.message.Message()
    message["content-type"] = value
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


class JSONRoute(APIRoute):
    """An APIRoute whose JSON body, when sent, must be labelled as JSON, hold a bounded
    number of values and no NUL character."""

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
