"""One cursor pagination for every list carebase answers.

A list takes `?cursor=…&limit=…` and answers `{"items": [...], "next_cursor": "…"}`;
`next_cursor` is null on the last page, and passing it back as `cursor` gives the next page.
Pages are keyset pages over a total order with a tie-break (a timestamp, then an id), so a
row inserted or deleted meanwhile never makes a page repeat or skip another row. Cursors are
opaque: a keyset is encoded as URL-safe base64 of a JSON array, checked when it comes back.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel, Field

from carebase.errors import ValidationFailed, problem

T = TypeVar("T")
R = TypeVar("R")
NOT_A_CURSOR = "is not a cursor this API gave"

Cursor = Annotated[
    str | None,
    Query(max_length=512, description="`next_cursor` of the previous page; omit for the first."),
]


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


def encode(*key: str | int | float | datetime) -> str:
    """An opaque cursor for a keyset (datetimes as ISO 8601)."""
    values = [value.isoformat() if isinstance(value, datetime) else value for value in key]
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode("ascii").rstrip("=")


def decode(cursor: str, *types: type) -> tuple[Any, ...]:
    """The keyset a cursor holds, each value converted to `types` (str, int, float, datetime);
    a 422 naming `cursor` when it is not one this API gave."""
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(types):
            raise ValueError("wrong shape")
        return tuple(_convert(value, kind) for value, kind in zip(raw, types, strict=True))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as error:
        raise ValidationFailed(details=[problem("cursor", NOT_A_CURSOR)]) from error


def _convert(value: Any, kind: type) -> Any:
    if kind is datetime:
        if not isinstance(value, str):
            raise TypeError("not a timestamp")
        return datetime.fromisoformat(value)
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError("not an integer")
    if kind is str and not isinstance(value, str):
        raise TypeError("not a string")
    if kind is float and not isinstance(value, int | float):
        raise TypeError("not a number")
    return value


def split(rows: Sequence[R], limit: int, key: Callable[[R], str]) -> tuple[list[R], str | None]:
    """A page from `limit + 1` fetched rows: the first `limit`, and the cursor after the last
    of them when there is more."""
    if len(rows) > limit:
        return list(rows[:limit]), key(rows[limit - 1])
    return list(rows), None
