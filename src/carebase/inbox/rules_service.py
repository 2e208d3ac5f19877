"""Inbox rules, stored: per queue, in position order, each enabled or not. Bodies are checked
(rules.check_conditions/check_actions) and what they name must exist: classifications not
archived, users and groups not archived."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.errors import FieldProblem, NotFound, ValidationFailed, problem
from carebase.ids import new_id
from carebase.inbox import intake_repository as repository
from carebase.inbox import queues
from carebase.inbox import rules as rulebook
from carebase.models import Classification, Group, InboxRule, User

MAX_NAME = 200


def _check_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise ValidationFailed.on("name", "must not be blank")
    if len(cleaned) > MAX_NAME:
        raise ValidationFailed.on("name", f"is at most {MAX_NAME} characters")
    return cleaned


def _references(session: Session, actions: dict[str, Any]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    for position, classification_id in enumerate(actions.get("classify") or []):
        found = session.get(Classification, classification_id)
        if found is None:
            problems.append(problem(f"actions.classify[{position}]", "no such classification"))
        elif found.archived_at is not None:
            problems.append(problem(f"actions.classify[{position}]", "is archived"))
    assign = actions.get("assign") or {}
    if "user_id" in assign:
        user = session.get(User, assign["user_id"])
        if user is None:
            problems.append(problem("actions.assign.user_id", "no such user"))
        elif user.archived:
            problems.append(problem("actions.assign.user_id", "is an archived user"))
    if "group_id" in assign:
        group = session.get(Group, assign["group_id"])
        if group is None:
            problems.append(problem("actions.assign.group_id", "no such group"))
        elif group.archived_at is not None:
            problems.append(problem("actions.assign.group_id", "is an archived group"))
    return problems


def validate(
    session: Session, conditions: Any, actions: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A rule's conditions and actions cleaned, or ValidationFailed naming every bad field."""
    clean_conditions, problems = rulebook.check_conditions(conditions)
    clean_actions, action_problems = rulebook.check_actions(actions)
    problems += action_problems
    if not action_problems:
        problems += _references(session, clean_actions)
    if problems:
        raise ValidationFailed(details=problems)
    return clean_conditions, clean_actions


def _queue(session: Session, queue_id: str, *, lock: bool = False) -> None:
    """The queue a request names in its body or query: unknown is bad input naming it."""
    if repository.queue(session, queue_id, lock=lock) is None:
        raise ValidationFailed.on("queue_id", "no such queue")


def get_rule(session: Session, rule_id: str, *, lock: bool = False) -> InboxRule:
    """One rule, or NotFound."""
    rule = repository.rule(session, rule_id, lock=lock)
    if rule is None:
        raise NotFound(f"No rule with id {rule_id!r}.")
    return rule


def list_rules(session: Session, queue_id: str | None = None) -> list[InboxRule]:
    """A queue's rules in run order (every queue's when none is given)."""
    if queue_id is None:
        return repository.all_rules(session)
    _queue(session, queue_id)
    return repository.rules_of(session, queue_id)


def create_rule(
    session: Session,
    queue_id: str,
    name: str,
    conditions: Any,
    actions: Any,
    now: datetime,
    *,
    enabled: bool = True,
    stop: bool = False,
    position: int | None = None,
) -> InboxRule:
    """A new rule, last in its queue's order (or at `position`, 0 first)."""
    # The queue's row orders concurrent edits of its rules.
    _queue(session, queue_id, lock=True)
    cleaned_name = _check_name(name)
    clean_conditions, clean_actions = validate(session, conditions, actions)
    existing = repository.rules_of(session, queue_id, lock=True)
    at = len(existing) if position is None else max(0, min(position, len(existing)))
    rule = InboxRule(
        id=new_id("rul"),
        queue_id=queue_id,
        name=cleaned_name,
        position=at,
        enabled=enabled,
        conditions=clean_conditions,
        actions=clean_actions,
        stop=stop,
        created_at=now,
        updated_at=now,
    )
    ordered = [*existing[:at], rule, *existing[at:]]
    repository.add(session, rule)
    _renumber(ordered, now)
    session.flush()
    return rule


def update_rule(
    session: Session,
    rule_id: str,
    now: datetime,
    *,
    name: str | None = None,
    conditions: Any = None,
    actions: Any = None,
    enabled: bool | None = None,
    stop: bool | None = None,
) -> InboxRule:
    """Change a rule's name, conditions, actions, or whether it runs or stops the others."""
    rule = get_rule(session, rule_id)
    queues.get_queue(session, rule.queue_id, lock=True)
    rule = get_rule(session, rule_id, lock=True)
    if name is not None:
        rule.name = _check_name(name)
    if conditions is not None or actions is not None:
        clean_conditions, clean_actions = validate(
            session,
            rule.conditions if conditions is None else conditions,
            rule.actions if actions is None else actions,
        )
        rule.conditions, rule.actions = clean_conditions, clean_actions
    if enabled is not None:
        rule.enabled = enabled
    if stop is not None:
        rule.stop = stop
    rule.updated_at = now
    session.flush()
    return rule


def set_enabled(session: Session, rule_id: str, enabled: bool, now: datetime) -> InboxRule:
    """Turn a rule on or off."""
    return update_rule(session, rule_id, now, enabled=enabled)


def delete_rule(session: Session, rule_id: str, now: datetime) -> None:
    """Delete a rule; the others close up."""
    rule = get_rule(session, rule_id)
    queues.get_queue(session, rule.queue_id, lock=True)
    rest = [r for r in repository.rules_of(session, rule.queue_id, lock=True) if r.id != rule_id]
    session.delete(rule)
    session.flush()
    _renumber(rest, now)
    session.flush()


def reorder(session: Session, queue_id: str, rule_ids: list[str], now: datetime) -> list[InboxRule]:
    """Put a queue's rules in the order given: every rule of the queue, once."""
    _queue(session, queue_id, lock=True)
    existing = {rule.id: rule for rule in repository.rules_of(session, queue_id, lock=True)}
    if len(set(rule_ids)) != len(rule_ids) or set(rule_ids) != set(existing):
        raise ValidationFailed.on("rule_ids", "must list every rule of the queue exactly once")
    ordered = [existing[rule_id] for rule_id in rule_ids]
    _renumber(ordered, now)
    session.flush()
    return ordered


def _renumber(ordered: list[InboxRule], now: datetime) -> None:
    for position, rule in enumerate(ordered):
        if rule.position != position:
            rule.position = position
            rule.updated_at = now
