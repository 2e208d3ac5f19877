"""Lexer's record types, validated against Lexer's own published JSON Schemas.

Each type's schema ships in `ingest/spec/` as published. A record valid under either
generation (`NAME.json`, newer; `NAME.jsonschema`, older) is accepted. On load carebase adds
what Lexer's models enforce in code and the schemas cannot say (see `_ADDITIONS`), and the
`forget` and `unify` compliance types, which have example data but no schema.

Validation is two-tier: a compiled validator (fastjsonschema) decides, and only a rejected
record pays for the full list of problems (jsonschema), each naming its field.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any, Literal
from urllib.parse import urlsplit

import fastjsonschema
import jsonschema
import orjson
from pydantic import TypeAdapter, ValidationError

from carebase import jsonutil
from carebase.ingest.lexer_errors import explain
from carebase.ingest.tickets import Timestamp
from carebase.ingest.validation import scan_hostile

Kind = Literal["event", "customer", "entity", "forget", "unify"]
Problem = dict[str, str]
MAX_KEY = 255

_TIMESTAMP: TypeAdapter[datetime] = TypeAdapter(Timestamp)


def parse_timestamp(text: str) -> datetime | None:
    """An ISO 8601 timestamp in UTC (no offset means UTC), or None when it is not one.

    Python's own parser takes the common forms fast; what it refuses goes to pydantic's
    lenient parser, which is what Lexer's validator uses.
    """
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            return _TIMESTAMP.validate_python(text)
        except ValidationError:
            return None
    if parsed.tzinfo is None or parsed.utcoffset() == timedelta(0):
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        return None


def _is_timestamp(value: Any) -> bool:
    return not isinstance(value, str) or parse_timestamp(value) is not None


def _is_date(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _is_uri(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and (parts.netloc or parts.path))


FORMATS: dict[str, Callable[[Any], bool]] = {
    "date-time": _is_timestamp,
    "date": _is_date,
    "uri": _is_uri,
    # The schemas pair "email" with a pattern, which is what is checked.
    "email": lambda _value: True,
}
_FORMAT_CHECKER = jsonschema.FormatChecker(formats=())
for _name, _check in FORMATS.items():
    _FORMAT_CHECKER.checks(_name)(_check)


@dataclass(frozen=True, slots=True)
class RecordSpec:
    """One record type: what it is, its natural key, and its schema generations."""

    name: str
    kind: Kind
    key_field: str | None
    files: tuple[str, ...]  # newest generation first
    # Lexer's published examples of these types leave out a field their schema requires.
    optional: tuple[str, ...] = ()
    summary: str = ""


SPECS: dict[str, RecordSpec] = {
    spec.name: spec
    for spec in (
        RecordSpec(
            "customer_record",
            "customer",
            None,
            ("customer_record.json", "customer_record.jsonschema"),
            summary="CRM profile fields; keyed by its link.",
        ),
        RecordSpec(
            "purchase",
            "event",
            "purchase_id",
            ("purchase.json", "purchase.jsonschema"),
            summary="An order with its lines; keyed by purchase_id.",
        ),
        RecordSpec(
            "return",
            "event",
            "return_id",
            ("return.json", "return.jsonschema"),
            summary="A return (negative lines); keyed by return_id.",
        ),
        RecordSpec(
            "product",
            "entity",
            None,
            ("product.json", "product.jsonschema"),
            summary="A catalogue product; keyed by the field product_reference_type names.",
        ),
        RecordSpec(
            "category",
            "entity",
            "name",
            ("category.jsonschema",),
            summary="A product category; keyed by name.",
        ),
        RecordSpec(
            "email_send",
            "event",
            "email_id",
            ("email_send.jsonschema",),
            optional=("email_id",),
            summary="An email sent; keyed by email_id.",
        ),
        RecordSpec(
            "email_open",
            "event",
            "email_id",
            ("email_open.jsonschema",),
            summary="An email opened; keyed by email_id.",
        ),
        RecordSpec(
            "email_click",
            "event",
            "email_id",
            ("email_click.jsonschema",),
            summary="A link clicked in an email; keyed by email_id.",
        ),
        RecordSpec(
            "email_bounce",
            "event",
            "email_id",
            ("email_bounce.jsonschema",),
            summary="An email bounced; keyed by email_id.",
        ),
        RecordSpec(
            "email_subscribe",
            "event",
            "email_id",
            ("email_subscribe.json", "email_subscribe.jsonschema"),
            optional=("email_id",),
            summary="An email subscription change; keyed by email_id.",
        ),
        RecordSpec(
            "sms_send",
            "event",
            "sms_id",
            ("sms_send.jsonschema",),
            summary="An SMS sent; keyed by sms_id.",
        ),
        RecordSpec(
            "sms_click",
            "event",
            "sms_id",
            ("sms_click.jsonschema",),
            summary="A link clicked in an SMS; keyed by sms_id.",
        ),
        RecordSpec(
            "sms_subscribe",
            "event",
            "sms_id",
            ("sms_subscribe.json", "sms_subscribe.jsonschema"),
            summary="An SMS subscription change; keyed by sms_id.",
        ),
        RecordSpec(
            "forget",
            "forget",
            None,
            (),
            summary="Forget the profile owning one link (a bare link object, or {link}).",
        ),
        RecordSpec(
            "unify",
            "unify",
            None,
            (),
            summary="Two or more links that belong to one person: {records: [link, link, …]}.",
        ),
    )
}


def load_schema(file_name: str) -> dict[str, Any]:
    """One published schema, as shipped."""
    text = resources.files("carebase.ingest").joinpath("spec", file_name).read_bytes()
    schema: dict[str, Any] = orjson.loads(text)
    return schema


def _link_schema() -> dict[str, Any]:
    customer = load_schema("customer_record.json")
    return {"definitions": customer["definitions"], **_link_choice(customer)}


def _link_choice(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": schema["properties"]["link"]["anyOf"]}


def _schemas(spec: RecordSpec) -> list[dict[str, Any]]:
    if spec.kind == "forget":
        link = _link_schema()
        wrapped = {
            "type": "object",
            "definitions": link["definitions"],
            "properties": {"link": {"anyOf": link["anyOf"]}},
            "required": ["link"],
            "additionalProperties": False,
        }
        return [wrapped, link]
    if spec.kind == "unify":
        link = _link_schema()
        return [
            {
                "type": "object",
                "definitions": link["definitions"],
                "properties": {
                    "records": {"type": "array", "minItems": 2, "items": {"anyOf": link["anyOf"]}}
                },
                "required": ["records"],
            }
        ]
    schemas = []
    for file_name in spec.files:
        schema = load_schema(file_name)
        schema["required"] = [f for f in schema.get("required", []) if f not in spec.optional]
        if spec.name == "purchase":
            # The newest model requires at least one product line.
            schema["properties"]["products"]["minItems"] = 1
        schemas.append(schema)
    return schemas


@dataclass(frozen=True, slots=True)
class _Compiled:
    deciders: tuple[Callable[[Any], Any], ...]
    details: tuple[jsonschema.Draft7Validator, ...]


@cache
def _compiled(name: str) -> _Compiled:
    schemas = _schemas(SPECS[name])
    deciders = tuple(
        fastjsonschema.compile(schema, formats=FORMATS, detailed_exceptions=False)
        for schema in schemas
    )
    details = tuple(
        jsonschema.Draft7Validator(schema, format_checker=_FORMAT_CHECKER) for schema in schemas
    )
    return _Compiled(deciders, details)


@dataclass(slots=True)
class ParsedRecord:
    """A valid record, with what storage needs pulled out."""

    record: dict[str, Any]
    key: str | None
    action_at: datetime | None
    links: list[dict[str, Any]]
    content_hash: str


def parse(name: str, raw: Any) -> ParsedRecord | list[Problem]:
    """A ParsedRecord, or every `{field, reason}` problem that rejects it."""
    spec = SPECS[name]
    if not isinstance(raw, dict):
        return [{"field": "(record)", "reason": "must be a JSON object"}]
    # Always scanned whole, NUL or not: unnamed fields may sit anywhere (the schemas leave
    # most objects open), and nesting must stay bounded wherever it is.
    hostile = scan_hostile(raw)
    if hostile is not None:
        return [hostile]
    compiled = _compiled(name)
    if not any(_passes(decide, raw) for decide in compiled.deciders):
        # Explain against the newest generation; a forget written as a bare link object
        # is explained against the link schema.
        bare_link = spec.kind == "forget" and "link" not in raw
        detail = compiled.details[1 if bare_link else 0]
        return explain(detail, raw) or [
            {"field": "(record)", "reason": "does not match the record type's schema"}
        ]
    problems: list[Problem] = []
    key = _natural_key(spec, raw, problems)
    if problems:
        return problems
    action_at = parse_timestamp(raw["action_at"]) if spec.kind == "event" else None
    if spec.kind == "forget":
        links = [raw["link"] if "link" in raw and isinstance(raw["link"], dict) else raw]
    elif spec.kind == "unify":
        links = list(raw["records"])
    elif "link" in raw:
        links = [raw["link"]]
    else:
        links = []
    digest = hashlib.sha256(jsonutil.dumps(raw, sort_keys=True)).hexdigest()
    if key is None and spec.kind == "event":
        # No id to key on (Lexer's own examples omit email_id): the content is the key,
        # so a replay changes nothing and a changed record is a new event.
        key = f"sha256:{digest}"
    return ParsedRecord(raw, key, action_at, links, digest)


def _passes(decide: Callable[[Any], Any], raw: dict[str, Any]) -> bool:
    try:
        decide(raw)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _natural_key(spec: RecordSpec, raw: dict[str, Any], problems: list[Problem]) -> str | None:
    field = spec.key_field
    if spec.name == "product":
        field = raw.get("product_reference_type") or "product_id"
    if field is None:
        return None
    value = raw.get(field)
    if value is None and field in spec.optional:
        return None
    if not isinstance(value, str) or not value.strip():
        reason = "is required and must be a non-empty string"
        if spec.name == "product":
            reason = f"is required: product_reference_type names it ({field})"
        problems.append({"field": field, "reason": reason})
        return None
    if len(value) > MAX_KEY:
        problems.append({"field": field, "reason": f"must be at most {MAX_KEY} characters"})
        return None
    return value


def openapi_components(name: str) -> dict[str, Any]:
    """A record type's schema (newest generation, with carebase's additions) and its
    definitions, as OpenAPI components named `lexer_<type>` and `lexer_<type>__<definition>`."""
    schema = orjson.loads(orjson.dumps(_schemas(SPECS[name])[0]))
    definitions = schema.pop("definitions", {})
    prefix = f"lexer_{name}"

    def rewrite(value: Any) -> Any:
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/definitions/"):
                target = ref.removeprefix("#/definitions/")
                return {**value, "$ref": f"#/components/schemas/{prefix}__{target}"}
            return {key: rewrite(item) for key, item in value.items()}
        if isinstance(value, list):
            return [rewrite(item) for item in value]
        return value

    components = {prefix: rewrite(schema)}
    components.update({f"{prefix}__{key}": rewrite(item) for key, item in definitions.items()})
    return components


def schema_of(name: str) -> dict[str, Any]:
    """A record type's schema: the newest generation, with carebase's additions."""
    return _schemas(SPECS[name])[0]
