"""Lock rows for ingestion keys (row locks instead of advisory locks on PostgreSQL).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 09:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    # Losing these rows in a crash loses nothing: they only carry locks.
    unlogged = ["UNLOGGED"] if op.get_bind().dialect.name == "postgresql" else []
    op.create_table(
        "lock_keys",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("key"),
        prefixes=unlogged,
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("lock_keys")
