"""A segment definition in words, for its page: the Must / Should / Not groups as sentences
("Ticket count is at least 3"; "At least 2 support tickets in the last 120 days where
Satisfaction score is bad"), or, for a definition the builder's rows cannot hold, its JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from carebase.segments import fields as f
from carebase.web import segment_form as sf
from carebase.web import segment_load as sl
from carebase.web import segment_values as sv


@dataclass(frozen=True)
class Words:
    """The definition's groups as sentences, or its JSON when it does not fit them."""

    groups: list[tuple[str, str, list[str]]]
    json_text: str
    fits: bool


def _attribute_label(name: str) -> tuple[str, str]:
    known = f.attribute_field(name)
    return (known.label, known.type) if known else (name, f.STRING)


def condition_words(row: sf.ConditionRow) -> str:
    """One builder row as a sentence."""
    if row.kind == "attribute":
        label, kind = _attribute_label(row.field)
        value = "" if row.op in f.PRESENCE else f" {row.value}"
        if row.op == f.WITHIN_LAST_DAYS:
            return f"{label} is within the last {row.value} days"
        return f"{label} {sv.operator_word(kind, row.op)}{value}"
    event = f.event_type(row.event)
    label = event.label if event else row.event
    window = f"in the last {row.window_days} days" if row.window_days else "in the event window"
    count = f"{sv.COUNT_WORDS.get(row.count_op, row.count_op)} {row.count_value}"
    text = f"{label}: {count} {window}"
    tests = []
    for sub in row.where:
        known = event.field(sub.field) if event else None
        kind = known.type if known else f.STRING
        name = known.label if known else sub.field
        value = "" if sub.op in f.PRESENCE else f" {sub.value}"
        tests.append(f"{name} {sv.operator_word(kind, sub.op)}{value}")
    return text + (f", where {' and '.join(tests)}" if tests else "")


def describe(definition: dict[str, Any]) -> Words:
    """The definition's groups in words (label, help, sentences), and its JSON."""
    text = json.dumps(definition, indent=2, ensure_ascii=False)
    form = sl.from_definition(definition)
    if form is None:
        return Words([], text, fits=False)
    groups = []
    for group in sf.GROUPS:
        rows = form.group_rows(group)
        if not rows:
            continue
        help_text = {
            "must": "all of these",
            "should": f"at least {form.should_min} of these",
            "not": "none of these",
        }[group]
        groups.append((sf.GROUP_LABELS[group], help_text, [condition_words(r) for r in rows]))
    return Words(groups, text, fits=True)
