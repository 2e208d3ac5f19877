"""Lexer records: events (purchase, return, email_*, sms_*), customer records, catalogue
items, and the commerce and engagement attributes folded from them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:38:37.365317
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from carebase.models.base import UTCDateTime

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "catalog_items",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("dataset_id", sa.String(length=40), nullable=False),
        sa.Column("record_type", sa.String(length=40), nullable=False),
        sa.Column("item_key", sa.String(length=320), nullable=False),
        sa.Column("product_id", sa.String(length=320), nullable=True),
        sa.Column("sku", sa.String(length=320), nullable=True),
        sa.Column("upc", sa.String(length=320), nullable=True),
        sa.Column(
            "record",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_catalog_items_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_catalog_items")),
        sa.UniqueConstraint("dataset_id", "item_key", name=op.f("uq_catalog_items_dataset_id")),
    )
    with op.batch_alter_table("catalog_items", schema=None) as batch_op:
        batch_op.create_index("ix_catalog_items_product_id", ["product_id"], unique=False)
        batch_op.create_index("ix_catalog_items_sku", ["sku"], unique=False)
        batch_op.create_index("ix_catalog_items_upc", ["upc"], unique=False)

    op.create_table(
        "commerce_attributes",
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("order_count", sa.Integer(), nullable=False),
        sa.Column("return_count", sa.Integer(), nullable=False),
        sa.Column("first_order_date", UTCDateTime(), nullable=True),
        sa.Column("last_order_date", UTCDateTime(), nullable=True),
        sa.Column("last_return_date", UTCDateTime(), nullable=True),
        sa.Column(
            "spend",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "orders_by_currency",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "returned",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "products",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_commerce_attributes_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("profile_id", name=op.f("pk_commerce_attributes")),
    )
    op.create_table(
        "customer_records",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("dataset_id", sa.String(length=40), nullable=False),
        sa.Column("link_type", sa.String(length=20), nullable=False),
        sa.Column("system_name", sa.String(length=100), nullable=False),
        sa.Column("link_value", sa.String(length=320), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column(
            "record",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_customer_records_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_customer_records_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_customer_records")),
        sa.UniqueConstraint(
            "dataset_id",
            "link_type",
            "system_name",
            "link_value",
            name=op.f("uq_customer_records_dataset_id"),
        ),
    )
    with op.batch_alter_table("customer_records", schema=None) as batch_op:
        batch_op.create_index("ix_customer_records_profile_id", ["profile_id"], unique=False)

    op.create_table(
        "engagement_attributes",
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("last_email_send_at", UTCDateTime(), nullable=True),
        sa.Column("last_email_open_at", UTCDateTime(), nullable=True),
        sa.Column("last_email_click_at", UTCDateTime(), nullable=True),
        sa.Column("last_email_bounce_at", UTCDateTime(), nullable=True),
        sa.Column("last_sms_send_at", UTCDateTime(), nullable=True),
        sa.Column("last_sms_click_at", UTCDateTime(), nullable=True),
        sa.Column(
            "counts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "subscriptions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_engagement_attributes_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("profile_id", name=op.f("pk_engagement_attributes")),
    )
    op.create_table(
        "events",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("dataset_id", sa.String(length=40), nullable=False),
        sa.Column("record_type", sa.String(length=40), nullable=False),
        sa.Column("event_key", sa.String(length=320), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("action_at", UTCDateTime(), nullable=False),
        sa.Column(
            "record",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_events_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_events_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_events")),
        sa.UniqueConstraint("dataset_id", "event_key", name=op.f("uq_events_dataset_id")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_profile_id_action_at", ["profile_id", "action_at"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_profile_id_action_at")

    op.drop_table("events")
    op.drop_table("engagement_attributes")
    with op.batch_alter_table("customer_records", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_records_profile_id")

    op.drop_table("customer_records")
    op.drop_table("commerce_attributes")
    with op.batch_alter_table("catalog_items", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_items_upc")
        batch_op.drop_index("ix_catalog_items_sku")
        batch_op.drop_index("ix_catalog_items_product_id")

    op.drop_table("catalog_items")
