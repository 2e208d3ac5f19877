"""Indexes for the 120-day event window: segment counts and the event search.

A segment's event condition and the event search read the tickets (or other events) of a
time window, filtered on a few small fields. Both engines then scan the index alone (an
index-only scan) instead of fetching every row of the window: on SQLite the fields follow
the key (SQLite has no INCLUDE); on PostgreSQL the small ones are INCLUDEd. `pk` follows the
time, so the event search's newest-first order with its tie-break is the index order.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 14:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The ticket fields most segment and event-search filters name; a filter on another field
# (title, agents, …) reads the rows of the window as before. PostgreSQL includes the small
# ones only: a B-tree entry must stay under ~2.7 kB, and tag lists may be longer.
_INCLUDED = ["profile_id", "satisfaction_score", "status"]
_KEYED = ["tags", "channel_types"]


def upgrade() -> None:
    """Apply this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_tickets_window", "tickets", ["created_at", "pk"], postgresql_include=_INCLUDED
        )
        op.create_index(
            "ix_events_window",
            "events",
            ["record_type", "action_at", "pk"],
            postgresql_include=["profile_id"],
        )
    else:
        op.create_index(
            "ix_tickets_window_covering", "tickets", ["created_at", "pk", *_INCLUDED, *_KEYED]
        )
        op.create_index(
            "ix_events_window_covering", "events", ["record_type", "action_at", "pk", "profile_id"]
        )


def downgrade() -> None:
    """Revert this revision."""
    suffix = "" if op.get_bind().dialect.name == "postgresql" else "_covering"
    op.drop_index(f"ix_events_window{suffix}", table_name="events")
    op.drop_index(f"ix_tickets_window{suffix}", table_name="tickets")
