"""Lexer's record types, validated against Lexer's own published JSON Schemas.

Each type's schema ships in `recordtypes/spec/` as published. A record valid under either
generation (`NAME.json`, newer; `NAME.jsonschema`, older) is accepted. On load carebase adds
what Lexer's models enforce in code and the schemas cannot say (`LexerFormat.additions`), and the
`forget` and `unify` compliance types, which have example data but no schema.

Validation is two-tier: a compiled validator (fastjsonschema) decides, and only a rejected
record pays for the full list of problems (jsonschema), each naming its field.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any, Literal
from urllib.parse import urlsplit

import fastjsonschema
import jsonschema
import orjson
from pydantic import TypeAdapter, ValidationError

from carebase import jsonutil
from carebase.recordtypes.lexer_errors import explain
from carebase.recordtypes.registry import Parsed
from carebase.recordtypes.timestamps import Timestamp
from carebase.recordtypes.validation import scan_hostile

Shape = Literal["event", "customer", "entity", "forget", "unify"]
Problem = dict[str, str]
MAX_KEY = 255
# A JSON Schema pattern (searched, not anchored): the string has a character that is not blank.
NOT_BLANK = r"[^\s\x1c-\x1f\x85]"

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


def load_schema(file_name: str) -> dict[str, Any]:
    """One published schema, as shipped."""
    text = resources.files("carebase.recordtypes").joinpath("spec", file_name).read_bytes()
    schema: dict[str, Any] = orjson.loads(text)
    return schema


def _link_schema() -> dict[str, Any]:
    customer = load_schema("customer_record.json")
    return {"definitions": customer["definitions"], **_link_choice(customer)}


def _link_choice(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": schema["properties"]["link"]["anyOf"]}


@dataclass(slots=True)
class _Compiled:
    deciders: tuple[Callable[[Any], Any], ...]
    details: tuple[jsonschema.Draft7Validator, ...]


@dataclass(slots=True)
class LexerFormat:
    """A record type validated by Lexer's published JSON Schema(s): which files, what shape of
    record (`shape`), its natural key field, and what carebase changes in the schema."""

    name: str
    shape: Shape
    key_field: str | None
    files: tuple[str, ...] = ()  # newest generation first
    # Lexer's published examples of these types leave out a field their schema requires.
    optional: tuple[str, ...] = ()
    # Schema changes Lexer's models enforce in code: (JSON path of keys, key, value).
    additions: tuple[tuple[tuple[str, ...], str, Any], ...] = ()
    # The product's key is the field its `product_reference_type` names.
    key_from: str | None = None
    _compiled: _Compiled | None = None
    _openapi: tuple[dict[str, Any], dict[str, Any]] | None = None

    def schemas(self) -> list[dict[str, Any]]:
        """Every accepted generation, newest first, with carebase's additions."""
        if self.shape == "forget":
            link = _link_schema()
            wrapped = {
                "type": "object",
                "definitions": link["definitions"],
                "properties": {"link": {"anyOf": link["anyOf"]}},
                "required": ["link"],
                "additionalProperties": False,
            }
            return [wrapped, link]
        if self.shape == "unify":
            link = _link_schema()
            records = {"type": "array", "minItems": 2, "items": {"anyOf": link["anyOf"]}}
            return [
                {
                    "type": "object",
                    "definitions": link["definitions"],
                    "properties": {"records": records},
                    "required": ["records"],
                }
            ]
        schemas = []
        for file_name in self.files:
            schema = load_schema(file_name)
            schema["required"] = [f for f in schema.get("required", []) if f not in self.optional]
            for path, key, value in self.additions:
                node = schema
                for part in path:
                    node = node[part]
                node[key] = value
            schemas.append(schema)
        return schemas

    def schema(self) -> dict[str, Any]:
        """The newest generation, with carebase's additions."""
        return self.schemas()[0]

    def _compile(self) -> _Compiled:
        if self._compiled is None:
            schemas = self.schemas()
            deciders = tuple(
                fastjsonschema.compile(schema, formats=FORMATS, detailed_exceptions=False)
                for schema in schemas
            )
            details = tuple(
                jsonschema.Draft7Validator(schema, format_checker=_FORMAT_CHECKER)
                for schema in schemas
            )
            self._compiled = _Compiled(deciders, details)
        return self._compiled

    def parse(self, raw: Any, may_contain_nul: bool = True) -> Parsed | list[Problem]:
        """A Parsed record, or every `{field, reason}` problem that rejects it."""
        del may_contain_nul  # always scanned: see below
        if not isinstance(raw, dict):
            return [{"field": "(record)", "reason": "must be a JSON object"}]
        # Always scanned whole, NUL or not: unnamed fields may sit anywhere (the schemas
        # leave most objects open), and nesting must stay bounded wherever it is.
        hostile = scan_hostile(raw)
        if hostile is not None:
            return [hostile]
        compiled = self._compile()
        if not any(_passes(decide, raw) for decide in compiled.deciders):
            # Explain against the newest generation; a forget written as a bare link
            # object is explained against the link schema.
            bare_link = self.shape == "forget" and "link" not in raw
            detail = compiled.details[1 if bare_link else 0]
            return explain(detail, raw) or [
                {"field": "(record)", "reason": "does not match the record type's schema"}
            ]
        problems: list[Problem] = []
        key = self._natural_key(raw, problems)
        if problems:
            return problems
        action_at = parse_timestamp(raw["action_at"]) if self.shape == "event" else None
        if self.shape == "forget":
            links = [raw["link"] if "link" in raw and isinstance(raw["link"], dict) else raw]
        elif self.shape == "unify":
            links = list(raw["records"])
        elif "link" in raw:
            links = [raw["link"]]
        else:
            links = []
        digest = hashlib.sha256(jsonutil.dumps(raw, sort_keys=True)).hexdigest()
        if key is None and self.shape == "event":
            # No id to key on (Lexer's own examples omit email_id): the content is the
            # key, so a replay changes nothing and a changed record is a new event.
            key = f"sha256:{digest}"
        return Parsed(raw, key, action_at, links, digest)

    def _natural_key(self, raw: dict[str, Any], problems: list[Problem]) -> str | None:
        field = self.key_field
        if self.key_from is not None:
            field = raw.get(self.key_from) or field
        if field is None:
            return None
        value = raw.get(field)
        if value is None and field in self.optional:
            return None
        if not isinstance(value, str) or not value.strip():
            reason = "is required and must be a non-empty string"
            if self.key_from is not None:
                reason = f"is required: {self.key_from} names it ({field})"
            problems.append({"field": field, "reason": reason})
            return None
        if len(value) > MAX_KEY:
            problems.append({"field": field, "reason": f"must be at most {MAX_KEY} characters"})
            return None
        return value

    def openapi(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(batch body schema, components): the newest generation and its definitions, as
        OpenAPI components named `lexer_<type>` and `lexer_<type>__<definition>`."""
        if self._openapi is not None:
            return self._openapi
        batch = {
            "type": "array",
            "minItems": 1,
            "maxItems": 1000,
            "title": f"{self.name} batch",
            "items": {"$ref": f"#/components/schemas/lexer_{self.name}"},
        }
        schema = self.schema()
        self._document_key(schema)
        self._openapi = (batch, openapi_components(self.name, schema))
        return self._openapi

    def _document_key(self, schema: dict[str, Any]) -> None:
        """State in the document what `_natural_key` enforces and the published schema leaves
        open: the key is a string that is not blank, at most MAX_KEY characters, and required
        unless Lexer's own examples leave it out. (A product's key field depends on its
        `product_reference_type`, which the document's schema does not tie.)"""
        if self.key_field is None or self.key_from is not None:
            return
        prop = schema.get("properties", {}).get(self.key_field)
        if not isinstance(prop, dict):
            return
        # Not only blanks: a character that is whitespace neither to JSON Schema's regex
        # (ECMA-262 \s) nor to Python's str.strip (which also strips \x1c-\x1f and \x85).
        prop.update({"type": "string", "minLength": 1, "maxLength": MAX_KEY, "pattern": NOT_BLANK})
        required = schema.setdefault("required", [])
        if self.key_field not in self.optional and self.key_field not in required:
            required.append(self.key_field)


def _passes(decide: Callable[[Any], Any], raw: dict[str, Any]) -> bool:
    try:
        decide(raw)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def openapi_components(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A schema and its definitions as OpenAPI components `lexer_<name>[__<definition>]`."""
    schema = orjson.loads(orjson.dumps(schema))
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
