"""The catalogue: products and categories, on no profile; the last content wins."""

from __future__ import annotations

from carebase.recordtypes.lexer import LexerFormat
from carebase.recordtypes.registry import RecordType

_PRODUCT = LexerFormat(
    "product",
    "entity",
    "product_id",
    ("product.json", "product.jsonschema"),
    key_from="product_reference_type",
)
_CATEGORY = LexerFormat("category", "entity", "name", ("category.jsonschema",))

PRODUCT = RecordType(
    name="product",
    summary="A catalogue product; keyed by the field product_reference_type names.",
    kind="entity",
    parse=_PRODUCT.parse,
    openapi=_PRODUCT.openapi,
    schema=_PRODUCT.schema,
    id_field="product_id",
)
CATEGORY = RecordType(
    name="category",
    summary="A product category; keyed by name.",
    kind="entity",
    parse=_CATEGORY.parse,
    openapi=_CATEGORY.openapi,
    schema=_CATEGORY.schema,
    id_field="name",
)
