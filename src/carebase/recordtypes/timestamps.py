"""The timestamp type every record format shares: ISO 8601 text, UTC when no offset is given."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator


def _must_be_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 timestamp string")
    return value


def _utc(value: datetime) -> datetime:
    # Lexer's formatting rules: a timestamp without an offset is UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as error:
        raise ValueError("is out of the representable range once converted to UTC") from error


Timestamp = Annotated[datetime, BeforeValidator(_must_be_text), AfterValidator(_utc)]
