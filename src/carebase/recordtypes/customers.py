"""Customer records: CRM profile fields, keyed by their link; the last content wins."""

from __future__ import annotations

from carebase.recordtypes.lexer import LexerFormat
from carebase.recordtypes.registry import RecordType

_FORM = LexerFormat(
    "customer_record", "customer", None, ("customer_record.json", "customer_record.jsonschema")
)

CUSTOMER_RECORD = RecordType(
    name="customer_record",
    summary="CRM profile fields; keyed by its link.",
    kind="customer",
    parse=_FORM.parse,
    openapi=_FORM.openapi,
    schema=_FORM.schema,
    feeds=("customer",),
)
