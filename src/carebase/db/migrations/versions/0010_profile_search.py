"""Profile search: name keys on customer attributes, and link values compared bytewise.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 11:10:00.000000
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def _fold(text: str) -> str:
    # A copy of carebase.kit.searchkey.fold as of this revision: migrations do not import
    # code that may change after them.
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def upgrade() -> None:
    """Apply this revision."""
    bind = op.get_bind()
    with op.batch_alter_table("customer_attributes") as batch:
        batch.add_column(sa.Column("name_key", _KEY, nullable=True))
        batch.add_column(sa.Column("last_name_key", _KEY, nullable=True))
    op.create_index("ix_customer_attributes_name_key", "customer_attributes", ["name_key"])
    op.create_index(
        "ix_customer_attributes_last_name_key", "customer_attributes", ["last_name_key"]
    )
    table = sa.table(
        "customer_attributes",
        sa.column("profile_id", sa.String),
        sa.column("first_name", sa.Text),
        sa.column("last_name", sa.Text),
        sa.column("name_key", sa.Text),
        sa.column("last_name_key", sa.Text),
    )
    rows = bind.execute(
        sa.select(table.c.profile_id, table.c.first_name, table.c.last_name).where(
            sa.or_(table.c.first_name.is_not(None), table.c.last_name.is_not(None))
        )
    ).all()
    updates = [
        {
            "id": profile_id,
            "name": _fold(f"{first or ''} {last or ''}") or None,
            "last": _fold(last or "") or None,
        }
        for profile_id, first, last in rows
    ]
    for start in range(0, len(updates), 5000):
        bind.execute(
            table.update()
            .where(table.c.profile_id == sa.bindparam("id"))
            .values(name_key=sa.bindparam("name"), last_name_key=sa.bindparam("last")),
            updates[start : start + 5000],
        )
    if bind.dialect.name == "postgresql":
        # Equality (and so the unique key) is unchanged; ordering becomes bytewise, so a
        # typed prefix is an index range whatever the database's collation.
        op.execute('ALTER TABLE profile_links ALTER COLUMN value TYPE VARCHAR(512) COLLATE "C"')


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE profile_links ALTER COLUMN value TYPE VARCHAR(512)")
    op.drop_index("ix_customer_attributes_last_name_key", "customer_attributes")
    op.drop_index("ix_customer_attributes_name_key", "customer_attributes")
    with op.batch_alter_table("customer_attributes") as batch:
        batch.drop_column("last_name_key")
        batch.drop_column("name_key")
