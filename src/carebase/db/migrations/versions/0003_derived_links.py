"""Derived links: the SHA-256 and MD5 of each email, so hashed and plain emails meet;
suppression groups, so an email and its hashes are lifted together.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add profile_links.derived and derive the hashes of the emails already stored."""
    with op.batch_alter_table("profile_links", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("derived", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("suppressions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_id", sa.String(length=40), nullable=True))
    links = sa.table(
        "profile_links",
        sa.column("profile_id", sa.String),
        sa.column("link_type", sa.String),
        sa.column("system_name", sa.String),
        sa.column("value", sa.String),
        sa.column("derived", sa.Boolean),
        # Untyped: passed through as read (a timestamp on PostgreSQL, text on SQLite).
        sa.column("created_at"),
    )
    connection = op.get_bind()
    emails = connection.execute(
        sa.select(links.c.profile_id, links.c.value, links.c.created_at).where(
            links.c.link_type == "email"
        )
    ).all()
    rows = []
    for profile_id, value, created_at in emails:
        encoded = value.encode("utf-8")
        for link_type, digest in (
            ("email_sha256", hashlib.sha256(encoded).hexdigest()),
            ("email_md5", hashlib.md5(encoded, usedforsecurity=False).hexdigest()),
        ):
            rows.append(
                {
                    "profile_id": profile_id,
                    "link_type": link_type,
                    "system_name": "",
                    "value": digest,
                    "derived": True,
                    "created_at": created_at,
                }
            )
    if rows:
        op.bulk_insert(links, rows)


def downgrade() -> None:
    """Drop derived links and the column."""
    with op.batch_alter_table("suppressions", schema=None) as batch_op:
        batch_op.drop_column("group_id")
    op.execute("DELETE FROM profile_links WHERE derived")
    with op.batch_alter_table("profile_links", schema=None) as batch_op:
        batch_op.drop_column("derived")
