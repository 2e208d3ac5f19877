"""SLA policies and business hours: create, change, delete, list.

A mention keeps a snapshot of its policy (Mention.sla), so changing a policy or its hours
changes how new mentions are measured, never old ones. One policy is the default (queues
naming none use it); making another the default moves the flag. A policy a queue uses, the
default policy, and hours a policy uses cannot be deleted (409 in_use naming them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.db.locks import lock_keys
from carebase.errors import FieldProblem, InUse, NameTaken, NotFound, ValidationFailed, problem
from carebase.ids import new_id
from carebase.inbox import sla
from carebase.inbox import sla_repository as repository
from carebase.inbox.business_hours import validate
from carebase.models import BusinessHours, SlaPolicy

# A target from a minute to a year.
SECONDS_RANGE = (60, 366 * 86400)
MAX_NAME = 200


def _name_problems(name: Any) -> list[FieldProblem]:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
        return [problem("name", f"must be 1 to {MAX_NAME} characters")]
    return []


def _seconds_problems(values: dict[str, Any]) -> list[FieldProblem]:
    problems = []
    low, high = SECONDS_RANGE
    for name in ("customer_sla_seconds", "agent_sla_seconds"):
        if name not in values:
            continue
        value = values[name]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            problems.append(problem(name, f"must be a whole number of seconds, {low} to {high}"))
    return problems


# --- SLA policies -------------------------------------------------------------------------


def get_policy(session: Session, policy_id: str) -> SlaPolicy:
    """One policy, or NotFound."""
    policy = repository.get_policy(session, policy_id)
    if policy is None:
        raise NotFound(f"SLA policy {policy_id} not found")
    return policy


def list_policies(session: Session) -> list[SlaPolicy]:
    """Every policy, the default one created first if there is none yet."""
    sla.default_policy(session)
    return repository.list_policies(session)


def _check_policy(session: Session, values: dict[str, Any], *, policy_id: str | None) -> str | None:
    problems = _seconds_problems(values)
    name: str | None = None
    if "name" in values:
        bad_name = _name_problems(values["name"])
        problems += bad_name
        if not bad_name:
            name = str(values["name"]).strip()
    hours_id = values.get("business_hours_id")
    if hours_id is not None and (
        not isinstance(hours_id, str) or repository.get_hours(session, hours_id) is None
    ):
        problems.append(problem("business_hours_id", "no business hours with this id"))
    if problems:
        raise ValidationFailed(details=problems)
    if name is not None:
        lock_keys(session, [f"sla-policy-name:{name}"])
        other = repository.policy_named(session, name)
        if other is not None and other.id != policy_id:
            raise NameTaken(f"another SLA policy is named {name!r}")
    return name


def create_policy(session: Session, values: dict[str, Any], now: datetime) -> SlaPolicy:
    """A new policy from {name, customer_sla_seconds, agent_sla_seconds, business_hours_id,
    is_default}; 422 naming the field, NameTaken for a name in use."""
    missing = [
        problem(field, "is required")
        for field in ("name", "customer_sla_seconds", "agent_sla_seconds")
        if field not in values
    ]
    if missing:
        raise ValidationFailed(details=missing)
    sla.default_policy(session, now)
    name = _check_policy(session, values, policy_id=None)
    policy_id = new_id("sla")
    is_default = bool(values.get("is_default", False))
    if is_default:
        _lock_default(session)
    repository.add_policy(
        session,
        {
            "id": policy_id,
            "name": name,
            "customer_sla_seconds": values["customer_sla_seconds"],
            "agent_sla_seconds": values["agent_sla_seconds"],
            "business_hours_id": values.get("business_hours_id"),
            "is_default": is_default,
            "created_at": now,
            "updated_at": now,
        },
    )
    if is_default:
        repository.clear_default(session, policy_id)
    return get_policy(session, policy_id)


def _lock_default(session: Session) -> None:
    # Moving the default flag serialises on one key, so two moves at once leave one default.
    lock_keys(session, ["sla:default-policy"])


def update_policy(
    session: Session, policy_id: str, changes: dict[str, Any], now: datetime
) -> SlaPolicy:
    """Change some of a policy's fields. Mentions already measured keep their snapshot.
    `is_default: true` makes it the default; the default cannot be un-made directly."""
    policy = repository.get_policy(session, policy_id, lock=True)
    if policy is None:
        raise NotFound(f"SLA policy {policy_id} not found")
    if changes.get("is_default") is False and policy.is_default:
        raise ValidationFailed.on(
            "is_default", "one policy is always the default: make another policy the default"
        )
    name = _check_policy(session, changes, policy_id=policy_id)
    values: dict[str, Any] = {"updated_at": now}
    if name is not None:
        values["name"] = name
    for field in ("customer_sla_seconds", "agent_sla_seconds", "business_hours_id"):
        if field in changes:
            values[field] = changes[field]
    if changes.get("is_default") is True and not policy.is_default:
        _lock_default(session)
        values["is_default"] = True
        repository.clear_default(session, policy_id)
    repository.update_policy(session, policy_id, values)
    session.expire_all()
    return get_policy(session, policy_id)


def delete_policy(session: Session, policy_id: str) -> None:
    """Delete a policy no queue uses and that is not the default (409 in_use otherwise)."""
    policy = repository.get_policy(session, policy_id, lock=True)
    if policy is None:
        raise NotFound(f"SLA policy {policy_id} not found")
    if policy.is_default:
        raise InUse("This is the default SLA policy: make another policy the default first.")
    queues = repository.queues_using_policy(session, policy_id)
    if queues:
        raise InUse(
            "Queues use this SLA policy: " + ", ".join(queues) + ".", details={"queues": queues}
        )
    repository.delete_policy(session, policy_id)


# --- Business hours -----------------------------------------------------------------------


def _normalised(values: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    intervals = sorted(
        (
            {"weekday": item["weekday"], "start": item["start"], "end": item["end"]}
            for item in values["intervals"]
        ),
        key=lambda item: (item["weekday"], item["start"]),
    )
    holidays = sorted(
        (
            {
                "date": item["date"],
                "name": str(item.get("name") or "")[:200],
                "start": item.get("start"),
                "end": item.get("end"),
            }
            for item in values["holidays"]
        ),
        key=lambda item: (item["date"], item["start"] or ""),
    )
    return intervals, holidays


def _check_hours(session: Session, values: dict[str, Any], *, hours_id: str | None) -> str:
    problems = _name_problems(values.get("name"))
    problems += validate(values.get("timezone"), values.get("intervals"), values.get("holidays"))
    if problems:
        raise ValidationFailed(details=problems)
    name = str(values["name"]).strip()
    lock_keys(session, [f"business-hours-name:{name}"])
    other = repository.hours_named(session, name)
    if other is not None and other.id != hours_id:
        raise NameTaken(f"other business hours are named {name!r}")
    return name


def get_hours(session: Session, hours_id: str) -> BusinessHours:
    """One business hours row, or NotFound."""
    hours = repository.get_hours(session, hours_id)
    if hours is None:
        raise NotFound(f"business hours {hours_id} not found")
    return hours


def list_hours(session: Session) -> list[BusinessHours]:
    """Every business hours row, by name."""
    return repository.list_hours(session)


def create_hours(session: Session, values: dict[str, Any], now: datetime) -> BusinessHours:
    """New business hours from {name, timezone, intervals, holidays}: an IANA zone,
    intervals {weekday 0-6, start, end HH:MM} that do not overlap (end <= start runs past
    midnight), holidays {date YYYY-MM-DD, name, start/end HH:MM or null for the whole day}."""
    values = {"holidays": [], **values}
    name = _check_hours(session, values, hours_id=None)
    intervals, holidays = _normalised(values)
    hours_id = new_id("bhr")
    repository.add_hours(
        session,
        {
            "id": hours_id,
            "name": name,
            "timezone": values["timezone"],
            "intervals": intervals,
            "holidays": holidays,
            "created_at": now,
            "updated_at": now,
        },
    )
    return get_hours(session, hours_id)


def update_hours(
    session: Session, hours_id: str, changes: dict[str, Any], now: datetime
) -> BusinessHours:
    """Change business hours (fields absent stay as they are), validated as on create.
    Mentions already measured keep their snapshot."""
    hours = repository.get_hours(session, hours_id, lock=True)
    if hours is None:
        raise NotFound(f"business hours {hours_id} not found")
    merged = {
        "name": hours.name,
        "timezone": hours.timezone,
        "intervals": hours.intervals,
        "holidays": hours.holidays,
        **{k: v for k, v in changes.items() if k in ("name", "timezone", "intervals", "holidays")},
    }
    name = _check_hours(session, merged, hours_id=hours_id)
    intervals, holidays = _normalised(merged)
    repository.update_hours(
        session,
        hours_id,
        {
            "name": name,
            "timezone": merged["timezone"],
            "intervals": intervals,
            "holidays": holidays,
            "updated_at": now,
        },
    )
    session.expire_all()
    return get_hours(session, hours_id)


def delete_hours(session: Session, hours_id: str) -> None:
    """Delete business hours no policy uses (409 in_use naming the policies otherwise)."""
    hours = repository.get_hours(session, hours_id, lock=True)
    if hours is None:
        raise NotFound(f"business hours {hours_id} not found")
    policies = repository.policies_using_hours(session, hours_id)
    if policies:
        raise InUse(
            "SLA policies use these hours: " + ", ".join(policies) + ".",
            details={"policies": policies},
        )
    repository.delete_hours(session, hours_id)
