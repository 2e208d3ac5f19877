"""Undoing merges: the merged profile's links kept in the ledger, undo marks, merge blocks.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 08:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from carebase.models.base import UTCDateTime

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("profile_merges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_links", _JSON, nullable=True))
        batch_op.add_column(sa.Column("undone_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("undone_by", sa.String(length=64), nullable=True))
    op.create_table(
        "merge_blocks",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("other_id", sa.String(length=40), nullable=False),
        sa.Column("merge_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["profile_id"], ["profiles.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["other_id"], ["profiles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("profile_id", "other_id"),
    )
    op.create_index("ix_merge_blocks_other_id", "merge_blocks", ["other_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_merge_blocks_other_id", table_name="merge_blocks")
    op.drop_table("merge_blocks")
    with op.batch_alter_table("profile_merges", schema=None) as batch_op:
        batch_op.drop_column("undone_by")
        batch_op.drop_column("undone_at")
        batch_op.drop_column("merged_links")
