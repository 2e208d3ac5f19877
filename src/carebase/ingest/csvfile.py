"""CSV rows to records: dotted headers become nested objects, typed by the record's schema.

Column mapping (also in docs/ingestion.md):
- `link.email`, `custom_fields.loyalty_points`: a dot nests one object in another.
- `products.0.price_paid` (or `products[0].price_paid`): a number is a position in a list.
- An empty cell leaves the field out.
- Cells are typed by the record type's JSON Schema: numbers, integers and booleans
  (`true/false`, `yes/no`, `1/0`) are converted; a cell for a list or object holds JSON
  (`["menswear","knits"]`), or for a list of strings, values separated by `|`.
- Fields the schema leaves open (custom_fields) stay text, unless the header names a type:
  `custom_fields.churn_risk:number`, `:integer`, `:boolean` or `:json`.
A cell that cannot be converted is passed on as text, so validation names the field.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import IO, Any

import orjson

_INDEX = re.compile(r"\[(\d+)\]")
_TRUE, _FALSE = {"true", "yes", "1", "y", "t"}, {"false", "no", "0", "n", "f"}
_HINTS = {"number", "integer", "boolean", "json", "string"}


class CSVError(ValueError):
    """The file is not CSV carebase can read."""


def rows(handle: IO[str], schema: dict[str, Any] | None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for each data row of a CSV file."""
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        return
    except UnicodeDecodeError as error:
        raise CSVError(f"not UTF-8 text ({error.reason})") from error
    columns = [_column(name, schema) for name in header]
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            yield reader.line_num, _record(columns, cells)
    except UnicodeDecodeError as error:
        raise CSVError(f"not UTF-8 text at line {reader.line_num + 1} ({error.reason})") from error
    except csv.Error as error:
        raise CSVError(f"line {reader.line_num}: {error}") from error


def _column(name: str, schema: dict[str, Any] | None) -> tuple[list[str | int], set[str]]:
    text = name.strip().lstrip("\ufeff")
    hint = None
    if ":" in text and text.rsplit(":", 1)[1] in _HINTS:
        text, hint = text.rsplit(":", 1)
    path: list[str | int] = [
        int(part) if part.isdigit() else part for part in _INDEX.sub(r".\1", text).split(".")
    ]
    types = {hint} if hint else _types_at(schema, schema, path) if schema else set()
    return path, types


def _resolve(root: dict[str, Any], node: Any) -> list[dict[str, Any]]:
    if not isinstance(node, dict):
        return []
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        return _resolve(root, root.get("definitions", {}).get(ref.removeprefix("#/definitions/")))
    found = [node]
    for combinator in ("anyOf", "allOf", "oneOf"):
        for option in node.get(combinator, []):
            found.extend(_resolve(root, option))
    return found


def _types_at(root: Any, node: Any, path: list[str | int]) -> set[str]:
    nodes = _resolve(root, node)
    if not path:
        return {t for n in nodes for t in _as_list(n.get("type"))}
    head, rest = path[0], path[1:]
    children: list[Any] = []
    for candidate in nodes:
        if isinstance(head, int):
            children.append(candidate.get("items"))
        else:
            properties = candidate.get("properties", {})
            children.append(properties.get(head, candidate.get("additionalProperties")))
    return {t for child in children if child for t in _types_at(root, child, rest)}


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in value or [] if isinstance(item, str)]


def _record(columns: list[tuple[list[str | int], set[str]]], cells: list[str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for (path, types), cell in zip(columns, cells, strict=False):
        if cell == "":
            continue
        _place(record, path, _convert(cell, types))
    return record


def _convert(cell: str, types: set[str]) -> Any:
    text = cell.strip()
    if "json" in types or types & {"array", "object"}:
        if text[:1] in "[{":
            try:
                return orjson.loads(text)
            except orjson.JSONDecodeError:
                return cell
        if "array" in types:
            return [part.strip() for part in text.split("|") if part.strip()]
    if "boolean" in types and text.lower() in _TRUE | _FALSE:
        return text.lower() in _TRUE
    if "integer" in types and re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if "number" in types:
        try:
            number = float(text)
        except ValueError:
            return cell
        return int(number) if number.is_integer() and "." not in text else number
    return cell


def _place(record: dict[str, Any], path: list[str | int], value: Any) -> None:
    node: Any = record
    for position, part in enumerate(path):
        last = position == len(path) - 1
        following = None if last else path[position + 1]
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(part, int):
            if not isinstance(node, list):
                return
            while len(node) <= part:
                node.append(None)
            if last:
                node[part] = value
            else:
                if node[part] is None:
                    node[part] = empty
                node = node[part]
        else:
            if not isinstance(node, dict):
                return
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, empty)
