"""Every SQL statement of the profiles domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, delete, select
from sqlalchemy.orm import Session

from carebase.db import bulk
from carebase.models import CommerceAttributes, EngagementAttributes, SupportAttributes
from carebase.models.base import table

# Prebuilt: building a statement per batch costs more than running it.
_DELETE_IN = {
    model: delete(table(model)).where(
        table(model).c.profile_id.in_(bindparam("ids", expanding=True))
    )
    for model in (SupportAttributes, CommerceAttributes, EngagementAttributes)
}
AttributeModel = type[SupportAttributes] | type[CommerceAttributes] | type[EngagementAttributes]


def _replace(session: Session, model: AttributeModel, rows: dict[str, dict[str, Any]]) -> None:
    ids = sorted(rows)
    for chunk in bulk.chunks(ids):
        session.connection().execute(_DELETE_IN[model], {"ids": list(chunk)})
    bulk.insert_rows(session, table(model), [{"profile_id": pid, **rows[pid]} for pid in ids])


def replace_attributes(session: Session, rows: dict[str, dict[str, Any]]) -> None:
    """Store freshly computed support attributes, replacing the old ones."""
    _replace(session, SupportAttributes, rows)


def attribute_rows(session: Session, profile_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Stored attribute rows of `profile_ids`, by profile id."""
    attributes = table(SupportAttributes)
    rows = bulk.select_in(
        session, attributes, [c.name for c in attributes.columns], "profile_id", profile_ids
    )
    return {row["profile_id"]: row for row in rows}


_GET_ATTRIBUTES = select(table(SupportAttributes)).where(
    table(SupportAttributes).c.profile_id == bindparam("profile_id")
)


def get_attributes(session: Session, profile_id: str) -> Row[Any] | None:
    """One profile's stored attributes."""
    params = {"profile_id": profile_id}
    return session.connection().execute(_GET_ATTRIBUTES, params).one_or_none()


FoldedModel = type[CommerceAttributes] | type[EngagementAttributes]
_GET_FOLDED = {
    model: select(table(model)).where(table(model).c.profile_id == bindparam("profile_id"))
    for model in (CommerceAttributes, EngagementAttributes)
}


def replace_folded(session: Session, model: FoldedModel, rows: dict[str, dict[str, Any]]) -> None:
    """Store freshly folded commerce or engagement attributes, replacing the old ones."""
    _replace(session, model, rows)


def folded_rows(
    session: Session, model: FoldedModel, profile_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """Stored commerce or engagement rows of `profile_ids`, by profile id."""
    columns = [c.name for c in table(model).columns]
    rows = bulk.select_in(session, table(model), columns, "profile_id", profile_ids)
    return {row["profile_id"]: row for row in rows}


def get_folded(session: Session, model: FoldedModel, profile_id: str) -> dict[str, Any] | None:
    """One profile's stored commerce or engagement row."""
    row = session.connection().execute(_GET_FOLDED[model], {"profile_id": profile_id}).first()
    return dict(row._mapping) if row is not None else None
