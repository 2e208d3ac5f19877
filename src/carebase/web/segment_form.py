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
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Literal
from zoneinfo import ZoneInfo

from carebase.segments import fields as f
from carebase.web.segment_values import condition_value, read_number

GROUPS = ("must", "should", "not")
GROUP_LABELS = {"must": "Must have", "should": "Should have", "not": "Not have"}
KINDS = ("attribute", "event")
KEY = re.compile(r"^[a-z0-9]{1,16}$")
FORM_LEVEL = "__form__"
MAX_ROWS = 30
MAX_JSON = 100_000


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
            node["window_days"] = read_number(row.window_days, whole=True)
        except ValueError as bad:
            errors[f"{row.key}.window_days"] = str(bad)
    try:
        node["count"] = {"op": row.count_op, "value": read_number(row.count_value, whole=True)}
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
            group["min"] = read_number(form.should_min or "1", whole=True)
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
