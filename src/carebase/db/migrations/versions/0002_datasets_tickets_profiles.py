"""Datasets, ingestion logs, profiles, links, merges, suppressions, tickets, attributes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from carebase.models.base import UTCDateTime

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
    )
    op.create_table(
        "profile_merges",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("survivor_id", sa.String(length=40), nullable=False),
        sa.Column("merged_id", sa.String(length=40), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column(
            "links",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("ingestion_log_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_merges")),
    )
    with op.batch_alter_table("profile_merges", schema=None) as batch_op:
        batch_op.create_index("ix_profile_merges_merged_id", ["merged_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_profile_merges_survivor_id"), ["survivor_id"], unique=False
        )

    op.create_table(
        "profiles",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("merged_into_id", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profiles")),
    )
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_profiles_merged_into_id"), ["merged_into_id"], unique=False
        )

    op.create_table(
        "suppressions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("link_type", sa.String(length=32), nullable=False),
        sa.Column("link_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppressions")),
        sa.UniqueConstraint("link_type", "link_hash", name=op.f("uq_suppressions_link_type")),
    )
    op.create_table(
        "ingestion_logs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("dataset_id", sa.String(length=40), nullable=False),
        sa.Column("token_id", sa.String(length=40), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("duration_ms", sa.Double(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column(
            "rejections",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "warnings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_ingestion_logs_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingestion_logs")),
    )
    with op.batch_alter_table("ingestion_logs", schema=None) as batch_op:
        batch_op.create_index("ix_ingestion_logs_dataset_id_id", ["dataset_id", "id"], unique=False)

    op.create_table(
        "profile_links",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("link_type", sa.String(length=32), nullable=False),
        sa.Column("system_name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_profile_links_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_links")),
        sa.UniqueConstraint(
            "value", "link_type", "system_name", name=op.f("uq_profile_links_value")
        ),
    )
    with op.batch_alter_table("profile_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_profile_links_profile_id"), ["profile_id"], unique=False
        )

    op.create_table(
        "support_attributes",
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("ticket_count", sa.Integer(), nullable=False),
        sa.Column("open_ticket_count", sa.Integer(), nullable=False),
        sa.Column("first_ticket_date", UTCDateTime(), nullable=True),
        sa.Column("last_ticket_date", UTCDateTime(), nullable=True),
        sa.Column("last_ticket_status", sa.String(length=100), nullable=True),
        sa.Column(
            "last_satisfaction_score",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("avg_first_reply_time", sa.Double(), nullable=True),
        sa.Column("avg_duration", sa.Double(), nullable=True),
        sa.Column(
            "channel_types",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "agents",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.Column("first_reply_time_sum", sa.Double(), nullable=False),
        sa.Column("first_reply_time_n", sa.Integer(), nullable=False),
        sa.Column("duration_sum", sa.Double(), nullable=False),
        sa.Column("duration_n", sa.Integer(), nullable=False),
        sa.Column("last_ticket_action_at", UTCDateTime(), nullable=True),
        sa.Column("last_ticket_id", sa.String(length=255), nullable=True),
        sa.Column("last_satisfaction_at", UTCDateTime(), nullable=True),
        sa.Column("last_satisfaction_ticket_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_support_attributes_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("profile_id", name=op.f("pk_support_attributes")),
    )
    op.create_table(
        "tickets",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("dataset_id", sa.String(length=40), nullable=False),
        sa.Column("ticket_id", sa.String(length=255), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("action_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("duration", sa.Double(), nullable=True),
        sa.Column("reply_time", sa.Double(), nullable=True),
        sa.Column("first_reply_time", sa.Double(), nullable=True),
        sa.Column("status", sa.String(length=100), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("ticket_url", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "channel_types",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "channel_names",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "agents",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "satisfaction_score",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "custom_fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "link",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_tickets_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_tickets_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_tickets")),
        sa.UniqueConstraint("dataset_id", "ticket_id", name=op.f("uq_tickets_dataset_id")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tickets_profile_id_created_at", ["profile_id", "created_at"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_profile_id_created_at")

    op.drop_table("tickets")
    op.drop_table("support_attributes")
    with op.batch_alter_table("profile_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_profile_links_profile_id"))

    op.drop_table("profile_links")
    with op.batch_alter_table("ingestion_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_ingestion_logs_dataset_id_id")

    op.drop_table("ingestion_logs")
    op.drop_table("suppressions")
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_profiles_merged_into_id"))

    op.drop_table("profiles")
    with op.batch_alter_table("profile_merges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_profile_merges_survivor_id"))
        batch_op.drop_index("ix_profile_merges_merged_id")

    op.drop_table("profile_merges")
    op.drop_table("datasets")
