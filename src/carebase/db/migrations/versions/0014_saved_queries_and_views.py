"""Saved queries, and the published views user SQL reads (schema sql_api on PostgreSQL).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 14:30:00.000000
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carebase.models.base import UTCDateTime
from carebase.query import views

logger = logging.getLogger(__name__)

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "saved_queries",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("sql", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_queries")),
        sa.UniqueConstraint("name", name=op.f("uq_saved_queries_name")),
    )
    # The views as the code running this migration defines them; every start (and
    # `carebase migrate`) brings them up to date after that. A later version's views may read
    # tables a later migration creates: then they wait for that start (savepoint, logged).
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            views.sync_views(bind)
    except Exception:
        logger.warning("the SQL views will be created when carebase starts", exc_info=True)


def downgrade() -> None:
    """Revert this revision."""
    bind = op.get_bind()
    views.drop_views(bind)
    if bind.dialect.name == "postgresql":
        op.execute(f"DROP SCHEMA IF EXISTS {views.PG_SCHEMA} CASCADE")
    op.drop_table("saved_queries")
