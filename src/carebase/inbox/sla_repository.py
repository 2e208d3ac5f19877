"""Every SQL statement about SLA policies, business hours and the inbox settings row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from carebase.models import BusinessHours, InboxSettings, Queue, SlaPolicy

_POLICY = SlaPolicy.__table__.c
_HOURS = BusinessHours.__table__.c
_QUEUE = Queue.__table__.c


def queue_policy_id(session: Session, queue_id: str) -> str | None:
    """The SLA policy a queue names (None: none, or no such queue)."""
    value: str | None = session.execute(
        select(_QUEUE.sla_policy_id).where(_QUEUE.id == queue_id)
    ).scalar_one_or_none()
    return value


def get_policy(session: Session, policy_id: str, *, lock: bool = False) -> SlaPolicy | None:
    """One policy (locked FOR UPDATE when asked)."""
    statement = select(SlaPolicy).where(_POLICY.id == policy_id)
    if lock:
        statement = statement.with_for_update()
    return session.execute(statement).scalar_one_or_none()


def default_policy(session: Session, *, lock: bool = False) -> SlaPolicy | None:
    """The default policy, if one exists."""
    statement = select(SlaPolicy).where(_POLICY.is_default.is_(True)).order_by(_POLICY.id).limit(1)
    if lock:
        statement = statement.with_for_update()
    return session.execute(statement).scalar_one_or_none()


def policy_named(session: Session, name: str) -> SlaPolicy | None:
    """The policy with that name."""
    return session.execute(select(SlaPolicy).where(_POLICY.name == name)).scalar_one_or_none()


def list_policies(session: Session) -> list[SlaPolicy]:
    """Every policy, by name."""
    return list(session.execute(select(SlaPolicy).order_by(_POLICY.name, _POLICY.id)).scalars())


def add_policy(session: Session, values: dict[str, Any]) -> None:
    """Store a new policy."""
    session.execute(insert(SlaPolicy).values(**values))


def update_policy(session: Session, policy_id: str, values: dict[str, Any]) -> None:
    """Change a policy's columns."""
    session.execute(update(SlaPolicy).where(_POLICY.id == policy_id).values(**values))


def clear_default(session: Session, except_id: str) -> None:
    """Make every other policy non-default (at most one default)."""
    session.execute(
        update(SlaPolicy)
        .where(_POLICY.is_default.is_(True), _POLICY.id != except_id)
        .values(is_default=False)
    )


def delete_policy(session: Session, policy_id: str) -> None:
    """Remove a policy."""
    session.execute(delete(SlaPolicy).where(_POLICY.id == policy_id))


def queues_using_policy(session: Session, policy_id: str) -> list[str]:
    """Names of the queues measured against a policy."""
    return list(
        session.execute(
            select(_QUEUE.name).where(_QUEUE.sla_policy_id == policy_id).order_by(_QUEUE.name)
        ).scalars()
    )


def get_hours(session: Session, hours_id: str, *, lock: bool = False) -> BusinessHours | None:
    """One business hours row (locked FOR UPDATE when asked)."""
    statement = select(BusinessHours).where(_HOURS.id == hours_id)
    if lock:
        statement = statement.with_for_update()
    return session.execute(statement).scalar_one_or_none()


def hours_named(session: Session, name: str) -> BusinessHours | None:
    """The business hours with that name."""
    return session.execute(select(BusinessHours).where(_HOURS.name == name)).scalar_one_or_none()


def list_hours(session: Session) -> list[BusinessHours]:
    """Every business hours row, by name."""
    return list(session.execute(select(BusinessHours).order_by(_HOURS.name, _HOURS.id)).scalars())


def add_hours(session: Session, values: dict[str, Any]) -> None:
    """Store new business hours."""
    session.execute(insert(BusinessHours).values(**values))


def update_hours(session: Session, hours_id: str, values: dict[str, Any]) -> None:
    """Change business hours' columns."""
    session.execute(update(BusinessHours).where(_HOURS.id == hours_id).values(**values))


def delete_hours(session: Session, hours_id: str) -> None:
    """Remove business hours."""
    session.execute(delete(BusinessHours).where(_HOURS.id == hours_id))


def policies_using_hours(session: Session, hours_id: str) -> list[str]:
    """Names of the policies measured in these hours."""
    return list(
        session.execute(
            select(_POLICY.name).where(_POLICY.business_hours_id == hours_id).order_by(_POLICY.name)
        ).scalars()
    )


def count_policies(session: Session) -> int:
    """How many policies exist."""
    return int(session.execute(select(func.count()).select_from(SlaPolicy)).scalar_one())


def get_settings(session: Session, *, lock: bool = False) -> InboxSettings | None:
    """The settings row (id 1)."""
    statement = select(InboxSettings).where(InboxSettings.__table__.c.id == 1)
    if lock:
        statement = statement.with_for_update()
    return session.execute(statement).scalar_one_or_none()


def add_settings(session: Session, values: dict[str, Any]) -> None:
    """Store the settings row."""
    session.execute(insert(InboxSettings).values(**values))


def update_settings(session: Session, values: dict[str, Any]) -> None:
    """Change the settings row."""
    session.execute(update(InboxSettings).where(InboxSettings.__table__.c.id == 1).values(**values))
