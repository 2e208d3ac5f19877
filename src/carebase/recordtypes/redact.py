"""Field paths without personal data: a record's own free-form keys (custom_fields keys,
unexpected fields, a field named by a value) may be an email or a name, and a rejection is
kept in the ingestion log, which outlives a forget. Known schema field names are kept; any
other key is shown as `<key>`."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import orjson

PLACEHOLDER = "<key>"
_INDEX = re.compile(r"\[\d+\]")


def _properties(schema: Any, names: set[str]) -> None:
    if isinstance(schema, dict):
        properties = schema.get("properties")
        if isinstance(properties, dict):
            names.update(str(name) for name in properties)
        for value in schema.values():
            _properties(value, names)
    elif isinstance(schema, list):
        for value in schema:
            _properties(value, names)


@cache
def known_fields() -> frozenset[str]:
    """Every field name a record-type schema (Lexer's or the ticket model's) declares."""
    # Imported here: the ticket model imports the validation helpers this module sits beside.
    from carebase.recordtypes.mention import MentionRecord
    from carebase.recordtypes.tickets import TicketEvent

    names: set[str] = {"(record)", "link", "records"}
    spec = resources.files("carebase.recordtypes").joinpath("spec")
    for entry in spec.iterdir():
        if entry.name.endswith((".json", ".jsonschema")):
            _properties(orjson.loads(entry.read_bytes()), names)
    _properties(TicketEvent.model_json_schema(by_alias=True), names)
    _properties(TicketEvent.model_json_schema(by_alias=False), names)
    _properties(MentionRecord.model_json_schema(), names)
    return frozenset(names)


def safe_field(path: str, raw: Any) -> str:
    """`path` with every key that is not a known field name replaced by `<key>`.

    The path is walked along the record, so a key holding dots or brackets (an email) is
    recognised whole rather than split at its dots."""
    known = known_fields()
    out: list[str] = []
    node, rest = raw, path
    while rest:
        index = _INDEX.match(rest)
        if index:
            out.append(index.group())
            position = int(index.group()[1:-1])
            node = node[position] if isinstance(node, list) and position < len(node) else None
            rest = rest[index.end() :]
            continue
        rest = rest.removeprefix(".")
        key = _record_key(node, rest)
        if key is None:
            # Not in the record (a missing field): up to the next separator.
            match = re.match(r"[^.\[]*", rest)
            key = match.group() if match else rest
            node = None
        else:
            node = node[key]
        part = key if key in known else PLACEHOLDER
        if not (part == PLACEHOLDER and out and out[-1] == "." + PLACEHOLDER):
            out.append(("." if out else "") + part)
        rest = rest[len(key) :]
    return "".join(out)


def _record_key(node: Any, rest: str) -> str | None:
    """The longest key of `node` that `rest` begins with, as a whole path segment."""
    if not isinstance(node, dict):
        return None
    best: str | None = None
    for key in node:
        if (
            isinstance(key, str)
            and key
            and rest.startswith(key)
            and (len(rest) == len(key) or rest[len(key)] in ".[")
            and (best is None or len(key) > len(best))
        ):
            best = key
    return best
