"""CRM attributes materialised per profile, backfilled from its customer records.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from carebase.models.base import UTCDateTime

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
# Frozen here, as they were when this revision was written: later code may change.
_CRM_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "email_sha256",
    "mobile",
    "customer_id",
    "gender",
    "date_of_birth",
    "country",
    "state",
    "city",
    "postcode",
    "zip",
    "address_1",
    "address_2",
    "customer_type",
    "employee_flag",
)
_BATCH = 1000


def _columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        *(sa.Column(name, sa.Text(), nullable=True) for name in _CRM_FIELDS[:-1]),
        sa.Column("employee_flag", sa.Boolean(), nullable=True),
        sa.Column("loyalty", _JSON, nullable=False),
        sa.Column("custom_fields", _JSON, nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "customer_attributes",
        *_columns(),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_customer_attributes_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("profile_id", name=op.f("pk_customer_attributes")),
    )
    _backfill()


def _backfill() -> None:
    """One row per profile with customer records, by the read-time precedence it replaces:
    per field, the most recently changed record giving a value wins."""
    connection = op.get_bind()
    target = sa.table("customer_attributes", *(sa.column(c.name, c.type) for c in _columns()))
    records = sa.table(
        "customer_records",
        sa.column("pk", sa.Integer()),
        sa.column("profile_id", sa.String()),
        sa.column("record", _JSON),
        sa.column("updated_at", UTCDateTime()),
    )
    query = sa.select(records.c.profile_id, records.c.record).order_by(
        records.c.profile_id, records.c.updated_at, records.c.pk
    )
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for profile_id, record in connection.execute(query.execution_options(yield_per=_BATCH)):
        if current is None or current["profile_id"] != profile_id:
            if current is not None:
                rows.append(current)
            if len(rows) >= _BATCH:
                connection.execute(sa.insert(target), rows)
                rows = []
            current = {
                "profile_id": profile_id,
                **dict.fromkeys(_CRM_FIELDS),
                "loyalty": {},
                "custom_fields": {},
                "record_count": 0,
                "computed_at": now,
            }
        current["record_count"] += 1
        current.update({name: record[name] for name in _CRM_FIELDS if record.get(name) is not None})
        extra = record.get("custom_fields")
        if isinstance(extra, dict):
            current["custom_fields"].update({k: v for k, v in extra.items() if v is not None})
            current["loyalty"] = {
                k: v for k, v in current["custom_fields"].items() if k.startswith("loyalty")
            }
    if current is not None:
        rows.append(current)
    if rows:
        connection.execute(sa.insert(target), rows)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("customer_attributes")
