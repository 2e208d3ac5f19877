"""Inbox rules, pure: whether a rule's conditions match a message, what redaction does to
text, and whether a rule body is well formed. No database (the service is rules_service)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from carebase.errors import FieldProblem, problem
from carebase.inbox.workflow import CLOSING_STATES

CONDITIONS = ("terms", "source_types", "authors")
REDACT_KINDS = ("cards", "emails", "phones")
# What a rule may set: the closing states (assignment has its own action; working states
# follow from what agents do).
RULE_STATES = frozenset(CLOSING_STATES)
CARD_TEXT = "[CREDIT CARD REMOVED]"
EMAIL_TEXT = "[EMAIL REMOVED]"
PHONE_TEXT = "[PHONE REMOVED]"
MAX_TERMS = 200
MAX_TERM_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Message:
    """What rules look at in one inbound message."""

    body: str
    source_type: str
    author_key: str | None = None
    author_username: str | None = None
    author_fullname: str | None = None


def _term_pattern(term: str) -> re.Pattern[str]:
    # A word or phrase, whole: "refund" matches "Refund!" but not "refunded"; the spaces
    # of a phrase match any run of whitespace.
    words = [re.escape(word) for word in term.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def _author_names(message: Message) -> set[str]:
    names = set()
    for value in (message.author_key, message.author_username, message.author_fullname):
        if value:
            names.add(value.strip().lower())
            names.add(value.strip().lower().lstrip("@"))
    return names


def match(conditions: Mapping[str, Any], message: Message) -> bool:
    """Whether every condition given matches: any of the terms (a word or phrase, case
    insensitive) is in the body, the source type is one of those listed, the author is one
    of those listed (by key, handle with or without `@`, or full name). No condition: no
    match (a rule with nothing to look for never runs)."""
    terms = [t for t in conditions.get("terms") or [] if t.strip()]
    sources = [s.strip().lower() for s in conditions.get("source_types") or [] if s.strip()]
    authors = [a.strip().lower().lstrip("@") for a in conditions.get("authors") or [] if a.strip()]
    if not (terms or sources or authors):
        return False
    if terms and not any(_term_pattern(term).search(message.body) for term in terms):
        return False
    if sources and message.source_type.strip().lower() not in sources:
        return False
    return not (authors and not _author_names(message).intersection(authors))


# 13 to 19 digits, optionally grouped by single spaces or dashes; checked by Luhn after.
_CARD = re.compile(r"(?<![\d\w])\d(?:[ -]?\d){12,18}(?![\d\w])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# An international (+…) or local number of 8 to 15 digits, with the usual separators.
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d(?:[\s().-]{0,2}\d){7,14}(?!\w)")


def luhn(digits: str) -> bool:
    """Whether a string of digits passes the Luhn check (as card numbers do)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _cards(text: str) -> str:
    def replace(found: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", found.group())
        return CARD_TEXT if 13 <= len(digits) <= 19 and luhn(digits) else found.group()

    return _CARD.sub(replace, text)


def redact(text: str, kinds: Iterable[str]) -> str:
    """`text` with card numbers (that pass Luhn), emails and phone numbers replaced by
    `[CREDIT CARD REMOVED]`, `[EMAIL REMOVED]`, `[PHONE REMOVED]`, as `kinds` asks. Cards
    go first, so a card number is never mistaken for a phone number."""
    wanted = set(kinds)
    if "cards" in wanted:
        text = _cards(text)
    if "emails" in wanted:
        text = _EMAIL.sub(EMAIL_TEXT, text)
    if "phones" in wanted:
        text = _PHONE.sub(PHONE_TEXT, text)
    return text


@dataclass(frozen=True, slots=True)
class RuleView:
    """What running a rule needs: its id, conditions, actions, and whether it stops."""

    id: str
    conditions: Mapping[str, Any]
    actions: Mapping[str, Any]
    stop: bool = False


def plan(rules: Sequence[RuleView], message: Message) -> list[RuleView]:
    """The rules that match `message`, in order, up to the first matching one that stops."""
    matched: list[RuleView] = []
    for rule in rules:
        if match(rule.conditions, message):
            matched.append(rule)
            if rule.stop:
                break
    return matched


def check_conditions(conditions: Any) -> tuple[dict[str, list[str]], list[FieldProblem]]:
    """Conditions cleaned (lists of non-blank text), with a problem per bad field."""
    problems: list[FieldProblem] = []
    if not isinstance(conditions, dict):
        return {}, [problem("conditions", "must be an object")]
    cleaned: dict[str, list[str]] = {}
    for name in conditions:
        if name not in CONDITIONS:
            problems.append(
                problem(f"conditions.{name}", "is not a condition: " + ", ".join(CONDITIONS))
            )
    for name in CONDITIONS:
        values = conditions.get(name) or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            problems.append(problem(f"conditions.{name}", "must be a list of text"))
            continue
        values = [v.strip() for v in values if v.strip()]
        if len(values) > MAX_TERMS:
            problems.append(problem(f"conditions.{name}", f"holds at most {MAX_TERMS} items"))
        if any(len(v) > MAX_TERM_LENGTH for v in values):
            problems.append(
                problem(f"conditions.{name}", f"items are at most {MAX_TERM_LENGTH} characters")
            )
        cleaned[name] = values
    if not problems and not any(cleaned.values()):
        problems.append(problem("conditions", "give at least one of terms, source_types, authors"))
    return cleaned, problems


def check_actions(actions: Any) -> tuple[dict[str, Any], list[FieldProblem]]:
    """Actions cleaned, with a problem per malformed field (existence of classifications,
    users and groups is the service's to check)."""
    if not isinstance(actions, dict):
        return {}, [problem("actions", "must be an object")]
    problems: list[FieldProblem] = []
    for name in actions:
        if name not in ("classify", "state", "assign", "redact"):
            problems.append(
                problem(f"actions.{name}", "is not an action: classify, state, assign, redact")
            )
    classify = actions.get("classify") or []
    if not isinstance(classify, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in classify
    ):
        problems.append(problem("actions.classify", "must be a list of classification ids"))
        classify = []
    state = actions.get("state")
    if state is not None and state not in RULE_STATES:
        problems.append(
            problem("actions.state", "must be one of " + ", ".join(sorted(RULE_STATES)))
        )
    assign = actions.get("assign")
    if assign is not None and (
        not isinstance(assign, dict)
        or len(assign) != 1
        or next(iter(assign)) not in ("user_id", "group_id")
        or not isinstance(next(iter(assign.values())), int)
        or isinstance(next(iter(assign.values())), bool)
    ):
        problems.append(problem("actions.assign", 'must be {"user_id": id} or {"group_id": id}'))
        assign = None
    if state is not None and assign is not None:
        problems.append(problem("actions.state", "a rule that assigns cannot also close"))
    redact_kinds = actions.get("redact") or []
    if not isinstance(redact_kinds, list) or not set(redact_kinds) <= set(REDACT_KINDS):
        problems.append(problem("actions.redact", "must be a list of: " + ", ".join(REDACT_KINDS)))
        redact_kinds = []
    cleaned = {
        "classify": sorted(set(classify)),
        "state": state,
        "assign": assign,
        "redact": [kind for kind in REDACT_KINDS if kind in redact_kinds],
    }
    if not problems and not (cleaned["classify"] or state or assign or cleaned["redact"]):
        problems.append(problem("actions", "give at least one of classify, state, assign, redact"))
    return cleaned, problems
