"""Every SQL statement of the connectors domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carebase.models import Connector, WebhookDelivery
from carebase.models.base import table

# A delivery in one of these states has been dealt with.
ENDED_STATUSES = ("done", "rejected", "skipped", "failed")


def add_connector(session: Session, connector: Connector) -> None:
    """Insert a connector."""
    session.add(connector)
    session.flush()


def get_connector(session: Session, connector_id: str) -> Connector | None:
    """One connector."""
    return session.get(Connector, connector_id)


def list_connectors(session: Session) -> Sequence[Connector]:
    """Every connector, oldest first."""
    return session.scalars(select(Connector).order_by(Connector.created_at, Connector.id)).all()


def delete_connector(session: Session, connector_id: str) -> bool:
    """Delete a connector and its deliveries; whether it existed."""
    result = session.execute(delete(Connector).where(Connector.id == connector_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def save_backfill_state(session: Session, connector_id: str, state: dict[str, Any]) -> None:
    """Remember where a backfill is."""
    session.execute(
        update(Connector).where(Connector.id == connector_id).values(backfill_state=state)
    )


def rearm_delivery(session: Session, delivery_id: str, now: datetime) -> bool:
    """Take an ended delivery in hand again (pending, a fresh attempt count); False when it
    has not ended (a concurrent twin re-armed it, or it is still being processed)."""
    deliveries = table(WebhookDelivery)
    result = session.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id, deliveries.c.status.in_(ENDED_STATUSES))
        .values(
            status="pending",
            attempts=0,
            next_attempt_at=now,
            received_at=now,
            processed_at=None,
            log_id=None,
            error=None,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def add_delivery(session: Session, row: dict[str, Any]) -> tuple[str, bool]:
    """Store a delivery unless one with its key is there: (the stored delivery's id, whether
    this call added it)."""
    deliveries = table(WebhookDelivery)
    find = select(deliveries.c.id).where(
        deliveries.c.connector_id == row["connector_id"],
        deliveries.c.delivery_key == row["delivery_key"],
    )
    existing = session.execute(find).scalar()
    if existing is not None:
        return str(existing), False
    try:
        # A savepoint: a concurrent twin that won the unique key leaves this transaction usable.
        with session.begin_nested():
            session.execute(insert(deliveries), [row])
    except IntegrityError:
        return str(session.execute(find).scalar_one()), False
    return str(row["id"]), True


def finish(session: Session, delivery_id: str, **values: Any) -> None:
    """Record how a delivery ended (or when to try it again)."""
    session.execute(
        update(table(WebhookDelivery))
        .where(table(WebhookDelivery).c.id == delivery_id)
        .values(**values)
    )


def get_delivery(session: Session, delivery_id: str) -> Any:
    """One delivery row."""
    deliveries = table(WebhookDelivery)
    return session.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()


def deliveries_page(
    session: Session,
    connector_id: str,
    status: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> Sequence[Any]:
    """A connector's deliveries, most recent first (then by id), after a keyset."""
    deliveries = table(WebhookDelivery)
    query = select(deliveries).where(deliveries.c.connector_id == connector_id)
    if status is not None:
        query = query.where(deliveries.c.status == status)
    if after is not None:
        received_at, delivery_id = after
        query = query.where(
            or_(
                deliveries.c.received_at < received_at,
                and_(deliveries.c.received_at == received_at, deliveries.c.id < delivery_id),
            )
        )
    query = query.order_by(deliveries.c.received_at.desc(), deliveries.c.id.desc()).limit(limit)
    return session.execute(query).all()


def delivery_counts(session: Session, connector_id: str) -> dict[str, int]:
    """{status: count} of a connector's deliveries."""
    deliveries = table(WebhookDelivery)
    rows = session.execute(
        select(deliveries.c.status, func.count())
        .where(deliveries.c.connector_id == connector_id)
        .group_by(deliveries.c.status)
    ).all()
    return {status: int(count) for status, count in rows}
