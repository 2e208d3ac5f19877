"""The Activity reports: response measures stamped on mentions and cases (with the bins
that make exact medians cheap), the indexes the reports scan, and CSV exports stored as
compressed chunks. Mentions and cases answered before this revision are measured here.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 01:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carebase.models.base import UTCDateTime
from carebase.models.types import JSONType

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MENTION_COLUMNS = (
    ("response_s", sa.Float()),
    ("action_s", sa.Float()),
    ("queue_s", sa.Float()),
    ("response_bin", sa.SmallInteger()),
    ("action_bin", sa.SmallInteger()),
    ("broke_sla", sa.Boolean()),
    ("broke_action_sla", sa.Boolean()),
    ("responded_in_private", sa.Boolean()),
)
_CASE_COLUMNS = (
    ("first_reply_s", sa.Float()),
    ("resolution_s", sa.Float()),
    ("first_reply_bin", sa.SmallInteger()),
    ("resolution_bin", sa.SmallInteger()),
)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "activity_exports",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("params", JSONType, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.String(length=120), nullable=True),
        sa.Column("job_id", sa.String(length=40), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("activity_exports", schema=None) as batch_op:
        batch_op.create_index("ix_activity_exports_expires", ["expires_at"], unique=False)
    op.create_table(
        "activity_export_chunks",
        sa.Column("export_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["export_id"], ["activity_exports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("export_id", "seq"),
    )
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        for name, kind in _MENTION_COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("agent_replies", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("agents_involved", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        for name, kind in _CASE_COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))
    _measure_existing()
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mentions_activity",
            [
                "published_at",
                "state",
                "assignee_id",
                "first_responder_id",
                "assigned_group_id",
                "response_s",
                "action_s",
                "broke_sla",
                "broke_action_sla",
                "responded_in_private",
                "id",
            ],
            unique=False,
        )
        batch_op.create_index(
            "ix_mentions_response_bin", ["response_bin", "published_at"], unique=False
        )
        batch_op.create_index(
            "ix_mentions_action_bin", ["action_bin", "published_at"], unique=False
        )
        batch_op.create_index(
            "ix_mentions_responder", ["first_responder_id", "published_at"], unique=False
        )
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.create_index("ix_responses_case", ["case_id"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_closed", ["closed_at"], unique=False)
        batch_op.create_index("ix_cases_opened", ["opened_at"], unique=False)
        batch_op.create_index(
            "ix_cases_first_reply_bin", ["first_reply_bin", "closed_at"], unique=False
        )
        batch_op.create_index(
            "ix_cases_resolution_bin", ["resolution_bin", "closed_at"], unique=False
        )


def _measure_existing() -> None:
    # With the application's own pure functions over plain rows (not the ORM classes, which
    # later revisions change), so old rows get the values new ones do.
    from types import SimpleNamespace

    from carebase.inbox import sla
    from carebase.kit.stats import bin_of

    bind = op.get_bind()
    meta = sa.MetaData()
    mentions = sa.Table(
        "mentions",
        meta,
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("published_at", UTCDateTime()),
        sa.Column("assigned_at", UTCDateTime()),
        sa.Column("first_response_at", UTCDateTime()),
        sa.Column("sla", JSONType),
        sa.Column("origin", sa.String(20)),
        sa.Column("source_type", sa.String(40)),
        *(sa.Column(name, kind) for name, kind in _MENTION_COLUMNS),
    )
    cases = sa.Table(
        "cases",
        meta,
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("opened_at", UTCDateTime()),
        sa.Column("first_reply_at", UTCDateTime()),
        sa.Column("last_agent_response_at", UTCDateTime()),
        sa.Column("agent_replies", sa.Integer()),
        sa.Column("agents_involved", sa.Integer()),
        *(sa.Column(name, kind) for name, kind in _CASE_COLUMNS),
    )
    responses = sa.Table(
        "responses",
        meta,
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("case_id", sa.String(40)),
        sa.Column("author_id", sa.Integer()),
        sa.Column("private", sa.Boolean()),
        sa.Column("status", sa.String(30)),
    )
    names = [name for name, _ in _MENTION_COLUMNS]
    read = sa.select(
        mentions.c.id,
        mentions.c.published_at,
        mentions.c.assigned_at,
        mentions.c.first_response_at,
        mentions.c.sla,
        mentions.c.origin,
        mentions.c.source_type,
    ).where(mentions.c.first_response_at.is_not(None))
    for row in bind.execute(read).mappings().all():
        mention = SimpleNamespace(**row, **dict.fromkeys(names))
        sla.stamp(mention)  # type: ignore[arg-type]
        stamped = {name: getattr(mention, name) for name in names}
        bind.execute(mentions.update().where(mentions.c.id == row["id"]).values(**stamped))
    for row in (
        bind.execute(
            sa.select(
                cases.c.id,
                cases.c.opened_at,
                cases.c.first_reply_at,
                cases.c.last_agent_response_at,
            )
        )
        .mappings()
        .all()
    ):
        counts = bind.execute(
            sa.select(sa.func.count(), sa.func.count(sa.func.distinct(responses.c.author_id)))
            .select_from(responses)
            .where(
                responses.c.case_id == row["id"],
                responses.c.private.is_(False),
                responses.c.status == "sent",
            )
        ).one()
        values: dict[str, object] = {"agent_replies": counts[0], "agents_involved": counts[1]}
        for column, end in (
            ("first_reply", "first_reply_at"),
            ("resolution", "last_agent_response_at"),
        ):
            if row[end] is not None:
                seconds = max((row[end] - row["opened_at"]).total_seconds(), 0.0)
                values[f"{column}_s"] = seconds
                values[f"{column}_bin"] = bin_of(seconds)
        bind.execute(cases.update().where(cases.c.id == row["id"]).values(**values))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_index("ix_responses_case")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name in (
            "ix_cases_resolution_bin",
            "ix_cases_first_reply_bin",
            "ix_cases_opened",
            "ix_cases_closed",
        ):
            batch_op.drop_index(name)
        for name, _ in reversed(_CASE_COLUMNS):
            batch_op.drop_column(name)
        batch_op.drop_column("agents_involved")
        batch_op.drop_column("agent_replies")
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        for name in (
            "ix_mentions_responder",
            "ix_mentions_action_bin",
            "ix_mentions_response_bin",
            "ix_mentions_activity",
        ):
            batch_op.drop_index(name)
        for name, _ in reversed(_MENTION_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table("activity_exports", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_exports_expires")
    op.drop_table("activity_export_chunks")
    op.drop_table("activity_exports")
