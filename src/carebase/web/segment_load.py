"""A saved segment definition as the builder's rows (`from_definition`), or in the JSON
editor when it does not fit Must / Should / Not (`json_form`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from carebase.segments import fields as f
from carebase.web.segment_form import GROUPS, BuilderForm, ConditionRow, WhereRow, new_key
from carebase.web.segment_values import fits_text_box, value_text


def _row(node: Any, group: str) -> ConditionRow | None:
    if not isinstance(node, dict):
        return None
    if node.get("type") == "attribute":
        # Only the catalogue's own attributes are in the builder's list (not `loyalty.<key>`).
        known = next((a for a in f.attribute_fields() if a.name == node.get("field")), None)
        if known is None or not fits_text_box(node.get("value")):
            return None
        return ConditionRow(
            new_key(),
            group,
            "attribute",
            field=known.name,
            op=str(node.get("op", "")),
            value=value_text(known.type, node.get("value")),
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
        if known is None or not fits_text_box(leaf.get("value")):
            return None
        rows.append(
            WhereRow(
                new_key(),
                known.name,
                str(leaf.get("op", "")),
                value_text(known.type, leaf.get("value")),
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
