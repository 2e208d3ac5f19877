"""Activation: destinations, orchestrations, runs with their per-record items, diff state.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 17:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carebase.models.base import UTCDateTime
from carebase.models.types import JSONType

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "destinations",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("config", JSONType, nullable=False),
        sa.Column("secrets", sa.Text(), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=True),
        sa.Column("check_ok", sa.Boolean(), nullable=True),
        sa.Column("check_report", JSONType, nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_destinations")),
        sa.UniqueConstraint("name", name=op.f("uq_destinations_name")),
    )
    op.create_table(
        "orchestrations",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("destination_id", sa.String(40), nullable=False),
        sa.Column("source_type", sa.String(20), nullable=False),
        sa.Column("source_id", sa.String(40), nullable=False),
        sa.Column("attributes", JSONType, nullable=False),
        sa.Column("mapping", JSONType, nullable=False),
        sa.Column("sync_mode", sa.String(20), nullable=False),
        sa.Column("schedule_cron", sa.String(120), nullable=True),
        sa.Column("schedule_timezone", sa.String(64), nullable=False),
        sa.Column("next_run_at", UTCDateTime(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("active_run_id", sa.String(40), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["destination_id"],
            ["destinations.id"],
            name=op.f("fk_orchestrations_destination_id_destinations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orchestrations")),
        sa.UniqueConstraint("name", name=op.f("uq_orchestrations_name")),
    )
    op.create_index("ix_orchestrations_destination_id", "orchestrations", ["destination_id"])
    op.create_table(
        "activation_state",
        sa.Column("orchestration_id", sa.String(40), nullable=False),
        sa.Column("record_key", sa.String(500), nullable=False),
        sa.Column("profile_id", sa.String(40), nullable=True),
        sa.Column("payload_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("remote_id", sa.String(120), nullable=True),
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["orchestration_id"],
            ["orchestrations.id"],
            name=op.f("fk_activation_state_orchestration_id_orchestrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("orchestration_id", "record_key", name=op.f("pk_activation_state")),
    )
    op.create_index("ix_activation_state_profile", "activation_state", ["profile_id"])
    counts = ("queried", "invalid", "new", "changed", "unchanged", "sent", "succeeded", "rejected")
    op.create_table(
        "orchestration_runs",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("orchestration_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("full_resync", sa.Boolean(), nullable=False),
        sa.Column("only_failed", sa.Boolean(), nullable=False),
        sa.Column("job_id", sa.String(40), nullable=True),
        sa.Column("requested_by", sa.String(200), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in counts],
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("details", JSONType, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["orchestration_id"],
            ["orchestrations.id"],
            name=op.f("fk_orchestration_runs_orchestration_id_orchestrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orchestration_runs")),
    )
    op.create_index(
        "ix_orchestration_runs_orch_created",
        "orchestration_runs",
        ["orchestration_id", "created_at"],
    )
    op.create_table(
        "activation_run_items",
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("record_key", sa.String(500), nullable=False),
        sa.Column("profile_id", sa.String(40), nullable=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("payload", JSONType, nullable=True),
        sa.Column("payload_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("handle", sa.String(120), nullable=True),
        sa.Column("remote_id", sa.String(120), nullable=True),
        sa.Column("error_code", sa.String(120), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["orchestration_runs.id"],
            name=op.f("fk_activation_run_items_run_id_orchestration_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "seq", name=op.f("pk_activation_run_items")),
    )
    op.create_index(
        "ix_activation_run_items_run_status", "activation_run_items", ["run_id", "status", "seq"]
    )
    op.create_index("ix_activation_run_items_profile", "activation_run_items", ["profile_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("activation_run_items")
    op.drop_table("orchestration_runs")
    op.drop_table("activation_state")
    op.drop_table("orchestrations")
    op.drop_table("destinations")
