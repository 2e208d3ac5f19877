"""The segment builder's form and a segment definition, each to the other, without a request
or a database: what `pages/segments_builder.py` posts, previews and saves.

The builder has Lexer's three groups — **Must have** (all of them), **Should have** (at least
N of them) and **Not have** (none of them) — each a list of condition rows, an attribute
(field, operator, value) or an event (type, window, count, and `where` rows over the event's
fields). Its definition is always

    group and [ must rows…, group at_least(min N) [should rows…], not (group or [not rows…]) ]

(a lone Not row is `not` of the row itself). A saved definition of another shape (deeper
nesting, `or` inside Must, a segment reference…) does not fit the rows: `from_definition`
answers None and the page opens it in the JSON editor instead.

Form names: `row` lists the row keys in order; a row's inputs are `<key>.group`,
`<key>.kind`, `<key>.field`, `<key>.op`, `<key>.value`, `<key>.event`, `<key>.window_days`,
`<key>.count_op`, `<key>.count_value`, and `<key>.where` lists its where-row keys, whose
inputs are `<key>.<sub>.field`, `.op`, `.value`. Validation is `parse_definition`'s: its
problems (`definition.children[2].children[0].value`) come back beside the row they name.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date, datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

from carebase.segments import fields as f

GROUPS = ("must", "should", "not")
GROUP_LABELS = {"must": "Must have", "should": "Should have", "not": "Not have"}
KINDS = ("attribute", "event")
KEY = re.compile(r"^[a-z0-9]{1,16}$")
FORM_LEVEL = "__form__"
MAX_ROWS = 30
MAX_JSON = 100_000

# Operators as people read them, after the field's label.
OPERATOR_WORDS: dict[str, str] = {
    f.EQ: "is",
    f.NE: "is not",
    f.IN: "is one of",
    f.CONTAINS: "contains",
    f.GT: "is more than",
    f.GTE: "is at least",
    f.LT: "is less than",
    f.LTE: "is at most",
    f.BETWEEN: "is between",
    f.IS_SET: "is known",
    f.IS_NOT_SET: "is not known",
    f.WITHIN_LAST_DAYS: "is within the last … days",
}
# Times read better as before and after.
TIME_WORDS: dict[str, str] = {
    f.GT: "is after",
    f.GTE: "is on or after",
    f.LT: "is before",
    f.LTE: "is on or before",
}
COUNT_WORDS: dict[str, str] = {
    f.GTE: "at least",
    f.GT: "more than",
    f.EQ: "exactly",
    f.NE: "not exactly",
    f.LTE: "at most",
    f.LT: "fewer than",
}


def operator_word(kind: str, op: str) -> str:
    """`gt` on a timestamp → `is after`; on a number → `is more than`."""
    if kind in (f.TIMESTAMP, f.DATE) and op in TIME_WORDS:
        return TIME_WORDS[op]
    return OPERATOR_WORDS.get(op, op)


def value_hint(kind: str, op: str) -> str:
    """What to type in the value box, for its label's description."""
    if op in f.PRESENCE:
        return ""
    if op == f.WITHIN_LAST_DAYS:
        return "a number of days"
    if op == f.IN:
        return "values separated by commas"
    pair = op == f.BETWEEN
    single = {
        f.TIMESTAMP: "a date, YYYY-MM-DD",
        f.DATE: "a date, YYYY-MM-DD",
        f.INTEGER: "a whole number",
        f.NUMBER: "a number",
        f.MONEY: "an amount and currency, like 500 AUD",
        f.BOOLEAN: "yes or no",
    }.get(kind, "")
    if pair:
        return f"two of: {single or 'text'}, separated by a comma"
    return single


def new_key() -> str:
    """A fresh row key (unique within a form by chance: 2⁴⁰ of them); it starts with a
    letter, so `#<key>-field` is a valid CSS selector."""
    return "k" + secrets.token_hex(5)


@dataclass
class WhereRow:
    """A test on one field of the row's event."""

    key: str
    field: str = ""
    op: str = ""
    value: str = ""


@dataclass
class ConditionRow:
    """One condition of a group: an attribute or an event, as typed."""

    key: str
    group: str = "must"
    kind: str = "attribute"
    field: str = ""
    op: str = ""
    value: str = ""
    event: str = ""
    window_days: str = ""
    count_op: str = f.GTE
    count_value: str = "1"
    where: list[WhereRow] = dc_field(default_factory=list)


@dataclass
class BuilderForm:
    """The whole builder: name, description, the rows, Should's N, or the JSON editor."""

    name: str = ""
    description: str = ""
    should_min: str = "1"
    rows: list[ConditionRow] = dc_field(default_factory=list)
    mode: Literal["builder", "json"] = "builder"
    json_text: str = ""

    def group_rows(self, group: str) -> list[ConditionRow]:
        """The rows of one group, in order."""
        return [row for row in self.rows if row.group == group]


@dataclass
class Built:
    """A form as a definition (None when the form itself is wrong), the form-level problems,
    and which row (or row input) each definition path came from."""

    definition: dict[str, Any] | None
    errors: dict[str, str] = dc_field(default_factory=dict)
    paths: dict[str, str] = dc_field(default_factory=dict)


# ---- reading a posted form ---------------------------------------------------------------


def _values(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    collected: dict[str, list[str]] = {}
    for name, value in pairs:
        collected.setdefault(name, []).append(value.replace("\x00", ""))
    return collected


def read_form(pairs: Iterable[tuple[str, str]]) -> BuilderForm:
    """The builder as posted (names as this module's docstring); unknown keys are ignored."""
    values = _values(pairs)

    def one(name: str, default: str = "") -> str:
        found = values.get(name)
        return found[-1] if found else default

    rows: list[ConditionRow] = []
    for key in dict.fromkeys(values.get("row", [])):
        if not KEY.match(key) or len(rows) >= MAX_ROWS:
            continue
        where = [
            WhereRow(
                sub,
                one(f"{key}.{sub}.field"),
                one(f"{key}.{sub}.op"),
                one(f"{key}.{sub}.value"),
            )
            for sub in dict.fromkeys(values.get(f"{key}.where", []))
            if KEY.match(sub)
        ]
        group = one(f"{key}.group", "must")
        kind = one(f"{key}.kind", "attribute")
        rows.append(
            ConditionRow(
                key=key,
                group=group if group in GROUPS else "must",
                kind=kind if kind in KINDS else "attribute",
                field=one(f"{key}.field"),
                op=one(f"{key}.op"),
                value=one(f"{key}.value"),
                event=one(f"{key}.event"),
                window_days=one(f"{key}.window_days"),
                count_op=one(f"{key}.count_op", f.GTE),
                count_value=one(f"{key}.count_value", "1"),
                where=where[:MAX_ROWS],
            )
        )
    mode: Literal["builder", "json"] = "json" if one("mode") == "json" else "builder"
    return BuilderForm(
        name=one("name"),
        description=one("description"),
        should_min=one("should_min", "1"),
        rows=rows,
        mode=mode,
        json_text=one("definition_json"),
    )


# ---- form → definition -------------------------------------------------------------------


class _Bad(ValueError):
    """A value that cannot be read; its message is for the person who typed it."""


def _number(text: str, *, whole: bool) -> int | float:
    cleaned = text.strip().replace(",", "").replace(" ", "")
    try:
        number = float(cleaned)
    except ValueError:
        raise _Bad("Enter a whole number." if whole else "Enter a number.") from None
    if not math.isfinite(number):
        raise _Bad("Enter a number.")
    if number.is_integer():
        return int(number)
    if whole:
        raise _Bad("Enter a whole number.")
    return number


def _money(text: str) -> dict[str, Any]:
    parts = text.replace(",", "").split()
    amounts = [p for p in parts if re.fullmatch(r"-?\d+(\.\d+)?", p)]
    currencies = [p for p in parts if re.fullmatch(r"[A-Za-z]{3}", p)]
    if len(parts) != 2 or len(amounts) != 1 or len(currencies) != 1:
        raise _Bad("Enter an amount and a currency, like 500 AUD.")
    return {"currency": currencies[0].upper(), "amount": _number(amounts[0], whole=False)}


def _timestamp(text: str, zone: ZoneInfo) -> str:
    cleaned = text.strip()
    try:
        day = date.fromisoformat(cleaned)
    except ValueError:
        try:
            moment = datetime.fromisoformat(cleaned)
        except ValueError:
            raise _Bad("Enter a date, like 2026-01-31.") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.isoformat()
    # A day means its start in the viewer's time zone.
    return datetime.combine(day, time(0), tzinfo=zone).isoformat()


def _scalar(kind: str, text: str, zone: ZoneInfo) -> Any:
    cleaned = text.strip()
    if not cleaned:
        raise _Bad("Enter a value.")
    if kind == f.INTEGER:
        return _number(cleaned, whole=True)
    if kind == f.NUMBER:
        return _number(cleaned, whole=False)
    if kind == f.STRING_OR_NUMBER:
        try:
            return _number(cleaned, whole=False)
        except _Bad:
            return cleaned
    if kind == f.BOOLEAN:
        lowered = cleaned.lower()
        if lowered in {"yes", "true"}:
            return True
        if lowered in {"no", "false"}:
            return False
        raise _Bad("Choose yes or no.")
    if kind == f.MONEY:
        return _money(cleaned)
    if kind == f.TIMESTAMP:
        return _timestamp(cleaned, zone)
    return cleaned


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def condition_value(kind: str, op: str, text: str, zone: ZoneInfo) -> Any:
    """The JSON value of `op` on a field of type `kind`, from what was typed; ValueError with
    a message for people when it cannot be read."""
    if op in f.PRESENCE:
        return None
    if op == f.WITHIN_LAST_DAYS:
        return _number(text, whole=True) if text.strip() else _raise("Enter a number of days.")
    element = f.STRING if kind == f.STRING_LIST else kind
    if op == f.IN:
        parts = _split(text)
        if not parts:
            raise _Bad("Enter one or more values, separated by commas.")
        return [_scalar(element, part, zone) for part in parts]
    if op == f.BETWEEN:
        parts = _split(text.replace(" and ", ",")) if kind != f.MONEY else _split(text)
        if len(parts) != 2:
            raise _Bad("Enter two values separated by a comma, low first.")
        return [_scalar(element, part, zone) for part in parts]
    return _scalar(element, text, zone)


def _raise(message: str) -> Any:
    raise _Bad(message)


def _attribute(row: ConditionRow, zone: ZoneInfo, errors: dict[str, str]) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "attribute", "field": row.field, "op": row.op}
    known = f.attribute_field(row.field)
    if not row.field:
        errors[f"{row.key}.field"] = "Choose an attribute, or remove this condition."
        return node
    if known is None or row.op not in known.operators:
        return node  # parse_definition names the problem
    try:
        node["value"] = condition_value(known.type, row.op, row.value, zone)
    except ValueError as bad:
        errors[f"{row.key}.value"] = str(bad)
    return node


def _event(row: ConditionRow, zone: ZoneInfo, errors: dict[str, str]) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "event", "event": row.event}
    if not row.event:
        errors[f"{row.key}.event"] = "Choose an event type, or remove this condition."
        return node
    if row.window_days.strip():
        try:
            node["window_days"] = _number(row.window_days, whole=True)
        except ValueError as bad:
            errors[f"{row.key}.window_days"] = str(bad)
    try:
        node["count"] = {"op": row.count_op, "value": _number(row.count_value, whole=True)}
    except ValueError as bad:
        errors[f"{row.key}.count_value"] = str(bad)
    event = f.event_type(row.event)
    children = []
    for sub in row.where:
        child: dict[str, Any] = {"type": "event_field", "field": sub.field, "op": sub.op}
        prefix = f"{row.key}.{sub.key}"
        known = event.field(sub.field) if event is not None else None
        if not sub.field:
            errors[f"{prefix}.field"] = "Choose a field, or remove this line."
        elif known is not None and sub.op in known.operators:
            try:
                child["value"] = condition_value(known.type, sub.op, sub.value, zone)
            except ValueError as bad:
                errors[f"{prefix}.value"] = str(bad)
        children.append(child)
    if children:
        node["where"] = {"type": "group", "op": "and", "children": children}
    return node


def _row_node(row: ConditionRow, zone: ZoneInfo, errors: dict[str, str]) -> dict[str, Any]:
    return _attribute(row, zone, errors) if row.kind == "attribute" else _event(row, zone, errors)


def _row_paths(row: ConditionRow, path: str, paths: dict[str, str]) -> None:
    paths[path] = row.key
    for index, sub in enumerate(row.where):
        paths[f"{path}.where.children[{index}]"] = f"{row.key}.{sub.key}"


def to_definition(form: BuilderForm, zone: ZoneInfo) -> Built:
    """The form's rows as a definition (builder mode), with the form's own problems (a value
    that is not a number…) by input name; `paths` maps each definition path to its row."""
    errors: dict[str, str] = {}
    paths: dict[str, str] = {}
    children: list[dict[str, Any]] = []
    for row in form.group_rows("must"):
        _row_paths(row, f"definition.children[{len(children)}]", paths)
        children.append(_row_node(row, zone, errors))
    should = form.group_rows("should")
    if should:
        at = f"definition.children[{len(children)}]"
        paths[f"{at}.min"] = "should_min"
        group: dict[str, Any] = {"type": "group", "op": "at_least", "children": []}
        try:
            group["min"] = _number(form.should_min or "1", whole=True)
        except ValueError as bad:
            errors["should_min"] = str(bad)
        for index, row in enumerate(should):
            _row_paths(row, f"{at}.children[{index}]", paths)
            group["children"].append(_row_node(row, zone, errors))
        children.append(group)
    nots = form.group_rows("not")
    if len(nots) == 1:
        _row_paths(nots[0], f"definition.children[{len(children)}].child", paths)
        children.append({"type": "not", "child": _row_node(nots[0], zone, errors)})
    elif nots:
        at = f"definition.children[{len(children)}].child"
        either = [_row_node(row, zone, errors) for row in nots]
        for index, row in enumerate(nots):
            _row_paths(row, f"{at}.children[{index}]", paths)
        children.append({"type": "not", "child": {"type": "group", "op": "or", "children": either}})
    if not children:
        errors[FORM_LEVEL] = "Add at least one condition."
    definition = {"type": "group", "op": "and", "children": children}
    return Built(None if errors else definition, errors, paths)


def json_definition(form: BuilderForm) -> Built:
    """The JSON editor's text as a definition, or a message beside the editor."""
    text = form.json_text.strip()
    if not text:
        return Built(None, {"definition_json": "Enter the definition as JSON."})
    if len(text) > MAX_JSON:
        return Built(None, {"definition_json": f"Use at most {MAX_JSON:,} characters."})
    try:
        data = json.loads(text)
    except ValueError as bad:
        return Built(None, {"definition_json": f"This is not JSON: {bad}."})
    if not isinstance(data, dict):
        return Built(None, {"definition_json": "The definition must be a JSON object."})
    return Built(data)


def problem_messages(
    problems: Sequence[Mapping[str, Any]], paths: Mapping[str, str], *, json_mode: bool = False
) -> dict[str, str]:
    """`parse_definition`'s problems as messages by input name: the deepest row a path
    starts with, and its input (`field`, `op`, `value`…) when the path names one. In the
    JSON editor every problem goes beside the editor, path first."""
    messages: dict[str, str] = {}
    for item in problems:
        path = str(item.get("field", ""))
        reason = _sentence(str(item.get("reason", "is not valid")))
        if json_mode:
            line = f"{path}: {reason}" if path else reason
            messages["definition_json"] = " ".join(
                filter(None, [messages.get("definition_json"), line])
            )
            continue
        name = _input_for(path, paths)
        messages.setdefault(name, reason)
    return messages


_SUFFIXES = {
    "field": "field",
    "op": "op",
    "value": "value",
    "event": "event",
    "window_days": "window_days",
    "count.op": "count_op",
    "count.value": "count_value",
    "count": "count_value",
}


def _input_for(path: str, paths: Mapping[str, str]) -> str:
    if path in paths and paths[path] == "should_min":
        return "should_min"
    best = ""
    for prefix in paths:
        if (path == prefix or path.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    if not best:
        return FORM_LEVEL
    target = paths[best]
    rest = path[len(best) + 1 :]
    suffix = _SUFFIXES.get(rest)
    return f"{target}.{suffix}" if suffix else target


def _sentence(reason: str) -> str:
    text = reason.strip() or "is not valid"
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


# ---- definition → form -------------------------------------------------------------------


def _text(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_text(kind, each) for each in value)
    if isinstance(value, dict) and set(value) == {"currency", "amount"}:
        return f"{_text(f.NUMBER, value['amount'])} {value['currency']}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _fits_value(value: Any) -> bool:
    """Whether a value can be written back into one text box and read the same."""
    if isinstance(value, list):
        return all(_fits_value(each) and not isinstance(each, list) for each in value) and not (
            any(isinstance(each, str) and "," in each for each in value)
        )
    return not isinstance(value, dict) or set(value) == {"currency", "amount"}


def _row(node: Any, group: str) -> ConditionRow | None:
    if not isinstance(node, dict):
        return None
    if node.get("type") == "attribute":
        # Only the catalogue's own attributes are in the builder's list (not `loyalty.<key>`).
        known = next((a for a in f.attribute_fields() if a.name == node.get("field")), None)
        if known is None or not _fits_value(node.get("value")):
            return None
        return ConditionRow(
            new_key(),
            group,
            "attribute",
            field=known.name,
            op=str(node.get("op", "")),
            value=_text(known.type, node.get("value")),
        )
    if node.get("type") == "event":
        event = f.event_type(str(node.get("event")))
        if event is None:
            return None
        count = node.get("count") or {}
        where = _where_rows(node.get("where"), event)
        if where is None or not isinstance(count, dict):
            return None
        window = node.get("window_days")
        return ConditionRow(
            new_key(),
            group,
            "event",
            event=event.name,
            window_days="" if window is None else str(window),
            count_op=str(count.get("op", f.GTE)),
            count_value=str(count.get("value", 1)),
            where=where,
        )
    return None


def _where_rows(where: Any, event: f.EventType) -> list[WhereRow] | None:
    if where is None:
        return []
    if not isinstance(where, dict):
        return None
    leaves = [where] if where.get("type") == "event_field" else None
    if where.get("type") == "group" and where.get("op") == "and":
        leaves = list(where.get("children") or [])
    if leaves is None:
        return None
    rows = []
    for leaf in leaves:
        if not isinstance(leaf, dict) or leaf.get("type") != "event_field":
            return None
        known = event.field(str(leaf.get("field")))
        if known is None or not _fits_value(leaf.get("value")):
            return None
        rows.append(
            WhereRow(
                new_key(),
                known.name,
                str(leaf.get("op", "")),
                _text(known.type, leaf.get("value")),
            )
        )
    return rows


def _rows(nodes: Iterable[Any], group: str) -> list[ConditionRow] | None:
    rows = []
    for node in nodes:
        row = _row(node, group)
        if row is None:
            return None
        rows.append(row)
    return rows


def from_definition(definition: Mapping[str, Any]) -> BuilderForm | None:
    """The builder's rows for a saved definition, or None when it does not fit Must /
    Should / Not (the page opens the JSON editor instead)."""
    root = {key: value for key, value in definition.items() if key != "version"}
    children: list[Any]
    if root.get("type") == "group" and root.get("op") == "and":
        children = list(root.get("children") or [])
    else:
        children = [root]
    form = BuilderForm()
    seen_should = False
    for child in children:
        kind, op = child.get("type"), child.get("op")
        if kind == "group" and op in {"at_least", "or"} and not seen_should:
            rows = _rows(child.get("children") or [], "should")
            if rows is None:
                return None
            seen_should = True
            form.should_min = str(child.get("min") or 1)
            form.rows.extend(rows)
        elif kind == "not":
            inner = child.get("child") or {}
            nodes = inner.get("children") if inner.get("type") == "group" else [inner]
            if inner.get("type") == "group" and inner.get("op") != "or":
                return None
            rows = _rows(nodes or [], "not")
            if rows is None:
                return None
            form.rows.extend(rows)
        else:
            row = _row(child, "must")
            if row is None:
                return None
            form.rows.append(row)
    # Must rows first, as the builder shows them.
    form.rows.sort(key=lambda row: GROUPS.index(row.group))
    return form


def json_form(
    definition: Mapping[str, Any], *, name: str = "", description: str = ""
) -> BuilderForm:
    """The JSON editor holding a definition (pretty-printed)."""
    return BuilderForm(
        name=name,
        description=description,
        mode="json",
        json_text=json.dumps(definition, indent=2, ensure_ascii=False),
    )


# ---- the builder's buttons without script --------------------------------------------------


def apply_action(form: BuilderForm, action: str) -> ConditionRow | None:
    """Do what a builder button asks (`add:<group>:<kind>`, `remove:<row>`,
    `add_where:<row>`, `remove_where:<row>:<sub>`) to the form in place; the row added, if
    one was. Anything else (save, update) leaves the rows as they are."""
    verb, _, rest = action.partition(":")
    parts = rest.split(":")
    if verb == "add" and len(parts) == 2 and parts[0] in GROUPS and parts[1] in KINDS:
        if len(form.rows) >= MAX_ROWS:
            return None
        row = new_row(parts[0], parts[1])
        form.rows.append(row)
        return row
    if verb == "remove" and len(parts) == 1:
        form.rows = [row for row in form.rows if row.key != parts[0]]
    elif verb == "add_where" and len(parts) == 1:
        for row in form.rows:
            if row.key == parts[0] and len(row.where) < MAX_ROWS:
                row.where.append(WhereRow(new_key()))
    elif verb == "remove_where" and len(parts) == 2:
        for row in form.rows:
            if row.key == parts[0]:
                row.where = [sub for sub in row.where if sub.key != parts[1]]
    return None


def new_row(group: str, kind: str) -> ConditionRow:
    """An empty row of a group: an attribute, or a ticket event over the whole window."""
    if kind == "event":
        return ConditionRow(new_key(), group, "event", event=f.TICKET)
    return ConditionRow(new_key(), group, "attribute")


def fit_operators(row: ConditionRow) -> None:
    """Give each test an operator its field allows (the first) after the field changed."""
    if row.kind == "attribute":
        known = f.attribute_field(row.field) if row.field else None
        if known is not None and row.op not in known.operators:
            row.op = known.operators[0]
        return
    event = f.event_type(row.event)
    if row.count_op not in f.COUNT_OPERATORS:
        row.count_op = f.GTE
    for sub in row.where:
        field = event.field(sub.field) if event and sub.field else None
        if event is not None and sub.field and field is None:
            sub.field, sub.op = "", ""
        elif field is not None and sub.op not in field.operators:
            sub.op = field.operators[0]
