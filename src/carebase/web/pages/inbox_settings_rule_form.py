"""The rule form of Settings > Inbox (`inbox_settings_rules`): what the form sends, turned
into the rules service's conditions and actions and back, and a rule in words for the list."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from carebase.inbox import classifications
from carebase.inbox.workflow import LABELS
from carebase.models.inbox import InboxRule
from carebase.web.pages.inbox_settings_lookups import group_choices, user_choices

REDACT_LABELS = {"cards": "Card numbers", "emails": "Email addresses", "phones": "Phone numbers"}
_SPLIT = re.compile(r"[\n,]")
_ASSIGN = re.compile(r"(user|group):\d{1,18}")


class RuleForm(BaseModel):
    """A rule's fields as the form sends them."""

    name: str = Field(min_length=1, max_length=200)
    enabled: Literal["", "on"] = ""
    stop: Literal["", "on"] = ""
    terms: str = Field(default="", max_length=40_000)
    source_types: str = Field(default="", max_length=8_000)
    authors: str = Field(default="", max_length=40_000)
    classify: list[int] = Field(default_factory=list, max_length=200)
    state: str = Field(default="", max_length=40)
    assign: str = Field(default="", max_length=40)
    redact: list[Literal["cards", "emails", "phones"]] = Field(default_factory=list)

    @field_validator("assign")
    @classmethod
    def _person_or_group(cls, value: str) -> str:
        if value and not _ASSIGN.fullmatch(value):
            raise ValueError("Choose a person or a group from the list.")
        return value


@dataclass(frozen=True)
class RuleRow:
    """A rule in its queue's list, in words."""

    id: str
    queue_id: str
    name: str
    position: int
    enabled: bool
    stop: bool
    conditions: list[tuple[str, str]]
    actions: list[tuple[str, str]]


def _lines(text: str) -> list[str]:
    return [part.strip() for part in _SPLIT.split(text) if part.strip()]


def rule_body(data: RuleForm) -> tuple[dict[str, Any], dict[str, Any]]:
    """The service's conditions and actions from the form."""
    conditions = {
        "terms": [t.strip() for t in data.terms.splitlines() if t.strip()],
        "source_types": [s.lower() for s in _lines(data.source_types)],
        "authors": _lines(data.authors),
    }
    assign: dict[str, int] | None = None
    if data.assign:
        kind, _, number = data.assign.partition(":")
        assign = {f"{kind}_id": int(number)}
    actions = {
        "classify": data.classify,
        "state": data.state or None,
        "assign": assign,
        "redact": list(data.redact),
    }
    return conditions, actions


def form_values(rule: InboxRule) -> dict[str, Any]:
    """The form's values for a stored rule."""
    assign = rule.actions.get("assign") or {}
    chosen = next(iter(assign.items()), None)
    return {
        "name": rule.name,
        "enabled": "on" if rule.enabled else "",
        "stop": "on" if rule.stop else "",
        "terms": "\n".join(rule.conditions.get("terms") or []),
        "source_types": ", ".join(rule.conditions.get("source_types") or []),
        "authors": "\n".join(rule.conditions.get("authors") or []),
        "classify": [str(c) for c in rule.actions.get("classify") or []],
        "state": rule.actions.get("state") or "",
        "assign": f"{chosen[0].removesuffix('_id')}:{chosen[1]}" if chosen else "",
        "redact": list(rule.actions.get("redact") or []),
    }


def rule_row(rule: InboxRule, names: dict[str, str]) -> RuleRow:
    conditions = [
        (label, ", ".join(rule.conditions.get(key) or []))
        for key, label in (
            ("terms", "Mentions"),
            ("source_types", "From"),
            ("authors", "By"),
        )
        if rule.conditions.get(key)
    ]
    actions: list[tuple[str, str]] = []
    if rule.actions.get("classify"):
        labels = [names.get(f"c{c}", f"#{c}") for c in rule.actions["classify"]]
        actions.append(("Classify", ", ".join(labels)))
    if rule.actions.get("state"):
        actions.append(("Set state", LABELS.get(rule.actions["state"], rule.actions["state"])))
    for kind, number in (rule.actions.get("assign") or {}).items():
        key = ("u" if kind == "user_id" else "g") + str(number)
        actions.append(("Assign to", names.get(key, f"#{number}")))
    if rule.actions.get("redact"):
        kinds = [REDACT_LABELS.get(k, k).lower() for k in rule.actions["redact"]]
        actions.append(("Redact", ", ".join(kinds)))
    return RuleRow(
        id=rule.id,
        queue_id=rule.queue_id,
        name=rule.name,
        position=rule.position,
        enabled=rule.enabled,
        stop=rule.stop,
        conditions=conditions,
        actions=actions,
    )


def rule_names(session: Session) -> dict[str, str]:
    """Classifications (archived too), users and groups by a prefixed id, for the list."""
    names = {f"c{c.id}": c.name for c in classifications.list_classifications(session)}
    names.update({f"u{v}": label for v, label in user_choices(session)})
    names.update({f"g{v}": f"{label} (group)" for v, label in group_choices(session)})
    return names
