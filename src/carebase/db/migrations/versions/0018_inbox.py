"""The agent inbox: queues, mentions and their workflow events, responses, classifications,
rules, ignored senders, cases, SLA policies and business hours, templates, presence, settings,
forms with invitations and answers; groups may require approval of replies.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 20:58:42.808260
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carebase.models.base import UTCDateTime
from carebase.models.types import JSONType

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    """Apply this revision."""
    op.create_table(
        "business_hours",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("intervals", JSONType, nullable=False),
        sa.Column("holidays", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_hours")),
        sa.UniqueConstraint("name", name=op.f("uq_business_hours_name")),
    )
    op.create_table(
        "classifications",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("colour", sa.String(length=7), nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classifications")),
        sa.UniqueConstraint("name", name=op.f("uq_classifications_name")),
    )
    op.create_table(
        "forms",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("nps", sa.Boolean(), nullable=False),
        sa.Column("comment_prompt", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("group_ids", JSONType, nullable=False),
        sa.Column("public_key", sa.String(length=60), nullable=False),
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forms")),
        sa.UniqueConstraint("name", name=op.f("uq_forms_name")),
        sa.UniqueConstraint("public_key", name=op.f("uq_forms_public_key")),
    )
    op.create_table(
        "ignored_senders",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("pattern", sa.String(length=300), nullable=False),
        sa.Column("comment", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ignored_senders")),
        sa.UniqueConstraint("pattern", name=op.f("uq_ignored_senders_pattern")),
    )
    op.create_table(
        "message_templates",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("group_ids", JSONType, nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint("name", name=op.f("uq_message_templates_name")),
    )
    op.create_table(
        "agent_presence",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("capacity", sa.Integer(), server_default=sa.text("10"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_agent_presence_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_agent_presence")),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("case_key", sa.String(length=300), nullable=True),
        sa.Column("profile_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("first_reply_at", UTCDateTime(), nullable=True),
        sa.Column("last_agent_response_at", UTCDateTime(), nullable=True),
        sa.Column(
            "last_agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("last_activity_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("reopened_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_cases_status")),
        sa.ForeignKeyConstraint(
            ["last_agent_id"], ["users.id"], name=op.f("fk_cases_last_agent_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_key_status", ["case_key", "status"], unique=False)
        batch_op.create_index("ix_cases_profile", ["profile_id"], unique=False)
        batch_op.create_index(
            "ix_cases_status_activity", ["status", "last_activity_at"], unique=False
        )

    op.create_table(
        "inbox_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "case_timeout_seconds", sa.Integer(), server_default=sa.text("86400"), nullable=False
        ),
        sa.Column(
            "idle_offline_seconds", sa.Integer(), server_default=sa.text("1800"), nullable=False
        ),
        sa.Column("reply_destination_id", sa.String(length=40), nullable=True),
        sa.Column(
            "nps_form_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["nps_form_id"],
            ["forms.id"],
            name=op.f("fk_inbox_settings_nps_form_id_forms"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reply_destination_id"],
            ["destinations.id"],
            name=op.f("fk_inbox_settings_reply_destination_id_destinations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_settings")),
    )
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("customer_sla_seconds", sa.Integer(), nullable=False),
        sa.Column("agent_sla_seconds", sa.Integer(), nullable=False),
        sa.Column("business_hours_id", sa.String(length=40), nullable=True),
        sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_hours_id"],
            ["business_hours.id"],
            name=op.f("fk_sla_policies_business_hours_id_business_hours"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint("name", name=op.f("uq_sla_policies_name")),
    )
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sla_policies_business_hours_id"), ["business_hours_id"], unique=False
        )

    op.create_table(
        "inbox_queues",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("sla_policy_id", sa.String(length=40), nullable=True),
        sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sla_policy_id"],
            ["sla_policies.id"],
            name=op.f("fk_inbox_queues_sla_policy_id_sla_policies"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_queues")),
        sa.UniqueConstraint("name", name=op.f("uq_inbox_queues_name")),
    )
    with op.batch_alter_table("inbox_queues", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbox_queues_sla_policy_id"), ["sla_policy_id"], unique=False
        )

    op.create_table(
        "inbox_rules",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("queue_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("conditions", JSONType, nullable=False),
        sa.Column("actions", JSONType, nullable=False),
        sa.Column("stop", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["inbox_queues.id"],
            name=op.f("fk_inbox_rules_queue_id_inbox_queues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_rules")),
    )
    with op.batch_alter_table("inbox_rules", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inbox_rules_queue_position", ["queue_id", "position"], unique=False
        )

    op.create_table(
        "mentions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("queue_id", sa.String(length=40), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("origin_key", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("conversation_ref", sa.String(length=200), nullable=True),
        sa.Column("source_type", sa.String(length=40), nullable=False),
        sa.Column("account", sa.String(length=300), nullable=True),
        sa.Column("author_key", sa.String(length=300), nullable=True),
        sa.Column("author_username", sa.String(length=300), nullable=True),
        sa.Column("author_fullname", sa.String(length=300), nullable=True),
        sa.Column("author_avatar", sa.Text(), nullable=True),
        sa.Column("author_url", sa.Text(), nullable=True),
        sa.Column("profile_id", sa.String(length=40), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("redacted_at", UTCDateTime(), nullable=True),
        sa.Column("forgotten", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("thread_key", sa.String(length=300), nullable=True),
        sa.Column("group_key", sa.String(length=700), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("state_at", UTCDateTime(), nullable=False),
        sa.Column("follow_up", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "assignee_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "assigned_group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("assigned_at", UTCDateTime(), nullable=True),
        sa.Column("first_response_at", UTCDateTime(), nullable=True),
        sa.Column(
            "first_responder_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("case_id", sa.String(length=40), nullable=True),
        sa.Column("sla", JSONType, nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_group_id"], ["groups.id"], name=op.f("fk_mentions_assigned_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_mentions_assignee_id_users")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_mentions_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["first_responder_id"], ["users.id"], name=op.f("fk_mentions_first_responder_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["inbox_queues.id"],
            name=op.f("fk_mentions_queue_id_inbox_queues"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentions")),
        sa.UniqueConstraint("origin", "origin_key", "external_id", name="uq_mentions_origin"),
    )
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.create_index("ix_mentions_assignee_state", ["assignee_id", "state"], unique=False)
        batch_op.create_index("ix_mentions_case", ["case_id"], unique=False)
        batch_op.create_index("ix_mentions_group_key", ["group_key", "published_at"], unique=False)
        batch_op.create_index("ix_mentions_profile", ["profile_id"], unique=False)
        batch_op.create_index("ix_mentions_published", ["published_at"], unique=False)
        batch_op.create_index(
            "ix_mentions_queue_state", ["queue_id", "state", "published_at"], unique=False
        )

    op.create_table(
        "form_invitations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("form_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=True),
        sa.Column("mention_id", sa.String(length=40), nullable=True),
        sa.Column("profile_id", sa.String(length=40), nullable=True),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("group_ids", JSONType, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f("fk_form_invitations_agent_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_form_invitations_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["forms.id"],
            name=op.f("fk_form_invitations_form_id_forms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mention_id"],
            ["mentions.id"],
            name=op.f("fk_form_invitations_mention_id_mentions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_invitations")),
        sa.UniqueConstraint("form_id", "case_id", name="uq_form_invitations_case"),
        sa.UniqueConstraint("token_hash", name=op.f("uq_form_invitations_token_hash")),
    )
    with op.batch_alter_table("form_invitations", schema=None) as batch_op:
        batch_op.create_index("ix_form_invitations_profile", ["profile_id"], unique=False)
        batch_op.create_index("ix_form_invitations_sent", ["sent_at"], unique=False)

    op.create_table(
        "mention_classifications",
        sa.Column("mention_id", sa.String(length=40), nullable=False),
        sa.Column(
            "classification_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("applied_by_type", sa.String(length=10), nullable=False),
        sa.Column(
            "applied_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("applied_by_rule_id", sa.String(length=40), nullable=True),
        sa.Column("applied_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["applied_by_user_id"],
            ["users.id"],
            name=op.f("fk_mention_classifications_applied_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["classification_id"],
            ["classifications.id"],
            name=op.f("fk_mention_classifications_classification_id_classifications"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["mention_id"],
            ["mentions.id"],
            name=op.f("fk_mention_classifications_mention_id_mentions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "mention_id", "classification_id", name=op.f("pk_mention_classifications")
        ),
    )
    with op.batch_alter_table("mention_classifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mention_classifications_classification_id"),
            ["classification_id"],
            unique=False,
        )

    op.create_table(
        "mention_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("mention_id", sa.String(length=40), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("actor_type", sa.String(length=10), nullable=False),
        sa.Column(
            "actor_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("actor_ref", sa.String(length=60), nullable=True),
        sa.Column("from_value", sa.String(length=200), nullable=True),
        sa.Column("to_value", sa.String(length=200), nullable=True),
        sa.Column("detail", JSONType, nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_mention_events_actor_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["mention_id"],
            ["mentions.id"],
            name=op.f("fk_mention_events_mention_id_mentions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mention_events")),
    )
    with op.batch_alter_table("mention_events", schema=None) as batch_op:
        batch_op.create_index("ix_mention_events_at_kind", ["at", "kind"], unique=False)
        batch_op.create_index("ix_mention_events_mention", ["mention_id", "at", "id"], unique=False)

    op.create_table(
        "responses",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("mention_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=True),
        sa.Column("profile_id", sa.String(length=40), nullable=True),
        sa.Column("author_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("agent_name", sa.String(length=300), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("private", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("origin_key", sa.String(length=40), server_default=sa.text("''"), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("template_id", sa.String(length=40), nullable=True),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column(
            "reviewed_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("reviewed_at", UTCDateTime(), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("job_id", sa.String(length=40), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'awaiting_approval', 'sending', 'sent', 'failed', 'rejected')",
            name=op.f("ck_responses_status"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_responses_author_id_users")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_responses_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["mention_id"],
            ["mentions.id"],
            name=op.f("fk_responses_mention_id_mentions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"], ["users.id"], name=op.f("fk_responses_reviewed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["message_templates.id"],
            name=op.f("fk_responses_template_id_message_templates"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responses")),
        sa.UniqueConstraint("origin", "origin_key", "external_id", name="uq_responses_origin"),
    )
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.create_index("ix_responses_mention", ["mention_id", "created_at"], unique=False)
        batch_op.create_index("ix_responses_profile", ["profile_id"], unique=False)
        batch_op.create_index("ix_responses_sent", ["sent_at"], unique=False)

    op.create_table(
        "form_responses",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("form_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("invitation_id", sa.String(length=40), nullable=True),
        sa.Column("case_id", sa.String(length=40), nullable=True),
        sa.Column("profile_id", sa.String(length=40), nullable=True),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("group_ids", JSONType, nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "score IS NULL OR (score >= 0 AND score <= 10)", name=op.f("ck_form_responses_score")
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f("fk_form_responses_agent_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_form_responses_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["forms.id"],
            name=op.f("fk_form_responses_form_id_forms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["form_invitations.id"],
            name=op.f("fk_form_responses_invitation_id_form_invitations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_responses")),
        sa.UniqueConstraint("invitation_id", name=op.f("uq_form_responses_invitation_id")),
    )
    with op.batch_alter_table("form_responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_form_responses_form_answered", ["form_id", "answered_at"], unique=False
        )
        batch_op.create_index("ix_form_responses_profile", ["profile_id"], unique=False)

    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("requires_approval", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_column("requires_approval")

    with op.batch_alter_table("form_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_form_responses_profile")
        batch_op.drop_index("ix_form_responses_form_answered")

    op.drop_table("form_responses")
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_index("ix_responses_sent")
        batch_op.drop_index("ix_responses_profile")
        batch_op.drop_index("ix_responses_mention")

    op.drop_table("responses")
    with op.batch_alter_table("mention_events", schema=None) as batch_op:
        batch_op.drop_index("ix_mention_events_mention")
        batch_op.drop_index("ix_mention_events_at_kind")

    op.drop_table("mention_events")
    with op.batch_alter_table("mention_classifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mention_classifications_classification_id"))

    op.drop_table("mention_classifications")
    with op.batch_alter_table("form_invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_form_invitations_sent")
        batch_op.drop_index("ix_form_invitations_profile")

    op.drop_table("form_invitations")
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_index("ix_mentions_queue_state")
        batch_op.drop_index("ix_mentions_published")
        batch_op.drop_index("ix_mentions_profile")
        batch_op.drop_index("ix_mentions_group_key")
        batch_op.drop_index("ix_mentions_case")
        batch_op.drop_index("ix_mentions_assignee_state")

    op.drop_table("mentions")
    with op.batch_alter_table("inbox_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_rules_queue_position")

    op.drop_table("inbox_rules")
    with op.batch_alter_table("inbox_queues", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_queues_sla_policy_id"))

    op.drop_table("inbox_queues")
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_policies_business_hours_id"))

    op.drop_table("sla_policies")
    op.drop_table("inbox_settings")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_status_activity")
        batch_op.drop_index("ix_cases_profile")
        batch_op.drop_index("ix_cases_key_status")

    op.drop_table("cases")
    op.drop_table("agent_presence")
    op.drop_table("message_templates")
    op.drop_table("ignored_senders")
    op.drop_table("forms")
    op.drop_table("classifications")
    op.drop_table("business_hours")
