"""The compliance types: forget a person, or say that several links are one person."""

from __future__ import annotations

from carebase.recordtypes.lexer import LexerFormat
from carebase.recordtypes.registry import RecordType

_FORGET = LexerFormat("forget", "forget", None)
_UNIFY = LexerFormat("unify", "unify", None)

FORGET = RecordType(
    name="forget",
    summary="Forget the profile owning one link (a bare link object, or {link}).",
    kind="forget",
    parse=_FORGET.parse,
    openapi=_FORGET.openapi,
    schema=_FORGET.schema,
)
UNIFY = RecordType(
    name="unify",
    summary="Two or more links that belong to one person: {records: [link, link, …]}.",
    kind="unify",
    parse=_UNIFY.parse,
    openapi=_UNIFY.openapi,
    schema=_UNIFY.schema,
    link_field="records",
)
