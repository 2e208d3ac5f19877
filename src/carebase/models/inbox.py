"""The agent inbox: queues, mentions (inbound customer messages), their append-only workflow
events, responses, classifications, rules, cases, SLA policies and business hours, message
templates, agents' presence, and forms with their invitations and answers.

Reports (the Activity API) read these tables only: every figure is recomputable from
`mention_events`, `responses`, `cases` and `form_responses`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from carebase.models.base import Base, UTCDateTime
from carebase.models.types import BigIntegerKey, JSONType


class BusinessHours(Base):
    """When a team works, for SLAs measured in business time: an IANA zone, intervals per
    weekday (an interval whose end is not after its start runs past midnight) and holidays
    (a whole day, or some hours of it)."""

    __tablename__ = "business_hours"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    # [{"weekday": 0..6 (Monday 0), "start": "HH:MM", "end": "HH:MM"}, ...]
    intervals: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    # [{"date": "YYYY-MM-DD", "name": str, "start": "HH:MM" | None, "end": "HH:MM" | None}]
    holidays: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SlaPolicy(Base):
    """Targets a mention is measured against: the customer SLA (published → first response)
    and the agent SLA (assigned → first response), in calendar time or in business hours.
    A mention keeps a snapshot of the policy it was measured against."""

    __tablename__ = "sla_policies"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    customer_sla_seconds: Mapped[int] = mapped_column(Integer)
    agent_sla_seconds: Mapped[int] = mapped_column(Integer)
    # None: calendar time.
    business_hours_id: Mapped[str | None] = mapped_column(
        ForeignKey("business_hours.id", ondelete="RESTRICT"), index=True
    )
    # The policy of queues that name none; at most one (the service keeps it so).
    is_default: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Queue(Base):
    """Where mentions wait. A mention belongs to one queue; rules run per queue, in order."""

    __tablename__ = "inbox_queues"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, server_default=text("''"))
    # None: the default SLA policy.
    sla_policy_id: Mapped[str | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="RESTRICT"), index=True
    )
    # Mentions that name no queue land in the default queue (exactly one).
    is_default: Mapped[bool] = mapped_column(Boolean, server_default=false())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Classification(Base):
    """A label agents and rules put on mentions. Archived ones stay on old mentions and
    cannot be applied anew."""

    __tablename__ = "classifications"

    # Numeric, as the Activity API's classifications are.
    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, server_default=text("''"))
    # `#rrggbb`.
    colour: Mapped[str] = mapped_column(String(7))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Case(Base):
    """A conversation with one customer: from the earliest unanswered customer message to
    the last agent response. It exists from the first agent response; it closes after the
    inactivity timeout once every customer mention in it is in a closed state; a customer
    message after closing starts a new case, and a reply to a closed mention re-opens it."""

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        Index("ix_cases_key_status", "case_key", "status"),
        Index("ix_cases_status_activity", "status", "last_activity_at"),
        Index("ix_cases_profile", "profile_id"),
        # The Activity case reports: cases closed (or opened) in a window, and exact
        # medians by bin (kit/stats.py).
        Index("ix_cases_closed", "closed_at"),
        Index("ix_cases_opened", "opened_at"),
        Index("ix_cases_first_reply_bin", "first_reply_bin", "closed_at"),
        Index("ix_cases_resolution_bin", "resolution_bin", "closed_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The profile id, else `author:<author_key>` for a sender no profile is known for.
    case_key: Mapped[str | None] = mapped_column(String(300))
    profile_id: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_agent_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopened_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # Kept by inbox/cases.py on each agent response, for the Activity case reports: public
    # agent replies in the case, distinct agents who replied, seconds opened → first reply
    # and opened → last agent response (the resolution time), and their kit.stats.bin_of bins.
    agent_replies: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    agents_involved: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    first_reply_s: Mapped[float | None] = mapped_column(Float)
    resolution_s: Mapped[float | None] = mapped_column(Float)
    first_reply_bin: Mapped[int | None] = mapped_column(SmallInteger)
    resolution_bin: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Mention(Base):
    """One inbound customer message. Its current state, assignment and first response are
    kept here for the inbox; how it got there is in `mention_events`. Forgetting the profile
    empties its content and personal fields and keeps the timings (identity/owned.py)."""

    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("origin", "origin_key", "external_id", name="uq_mentions_origin"),
        Index("ix_mentions_queue_state", "queue_id", "state", "published_at"),
        Index("ix_mentions_assignee_state", "assignee_id", "state"),
        Index("ix_mentions_group_key", "group_key", "published_at"),
        Index("ix_mentions_case", "case_id"),
        Index("ix_mentions_profile", "profile_id"),
        Index("ix_mentions_published", "published_at"),
        # The Activity reports' scans: the cohort by publish time with every column the
        # mention reports read, so both engines answer from the index alone.
        Index(
            "ix_mentions_activity",
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
            # SQLite's secondary indexes hold the rowid, not this text key: with it here a
            # join to mention_classifications reads the index alone.
            "id",
        ),
        # Exact medians and percentiles (kit/stats.py): values counted per bin.
        Index("ix_mentions_response_bin", "response_bin", "published_at"),
        Index("ix_mentions_action_bin", "action_bin", "published_at"),
        Index("ix_mentions_responder", "first_responder_id", "published_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    queue_id: Mapped[str] = mapped_column(ForeignKey("inbox_queues.id", ondelete="RESTRICT"))
    # api | zendesk | gorgias | freshdesk | console
    origin: Mapped[str] = mapped_column(String(20))
    # The dataset (api) or connector (helpdesk) it came through; '' for the console.
    origin_key: Mapped[str] = mapped_column(String(40))
    # Its id where it came from (the API's mention id, the helpdesk comment's id).
    external_id: Mapped[str] = mapped_column(String(200))
    # The helpdesk ticket (or the API's conversation) a reply is posted back to.
    conversation_ref: Mapped[str | None] = mapped_column(String(200))
    # twitter, facebook, instagram, email, chat, ... (free text, lower case).
    source_type: Mapped[str] = mapped_column(String(40))
    # The brand's account the message reached (`@acme_help`, `support@acme.com`).
    account: Mapped[str | None] = mapped_column(String(300))
    # `<network>_<id>` (`twitter_219…`), the author's handle, name, avatar and profile URL.
    author_key: Mapped[str | None] = mapped_column(String(300))
    author_username: Mapped[str | None] = mapped_column(String(300))
    author_fullname: Mapped[str | None] = mapped_column(String(300))
    author_avatar: Mapped[str | None] = mapped_column(Text)
    author_url: Mapped[str | None] = mapped_column(Text)
    profile_id: Mapped[str | None] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    # Set when a rule or an agent redacted the body (permanently), or the profile was forgotten.
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    forgotten: Mapped[bool] = mapped_column(Boolean, server_default=false())
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The conversation it belongs to where it came from (thread, post, replied-to message).
    thread_key: Mapped[str | None] = mapped_column(String(300))
    # Messages group by author, then thread: one group is claimed and answered together.
    group_key: Mapped[str] = mapped_column(String(700))
    # new | assigned | in_progress | responded | awaiting_approval | redirected | irrelevant
    # | duplicate | closed | no_response_required | closed_thread (inbox/workflow.py).
    state: Mapped[str] = mapped_column(String(30))
    state_at: Mapped[datetime] = mapped_column(UTCDateTime())
    follow_up: Mapped[bool] = mapped_column(Boolean, server_default=false())
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    # The first assignment (the agent SLA's clock starts here).
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_responder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))
    # The policy it is measured against, as it was when the mention arrived:
    # {"id", "name", "customer_sla_seconds", "agent_sla_seconds", "business_hours": {...}|None}
    sla: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # Bumped on every change: an optimistic guard for bulk and concurrent edits.
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    # Stamped when the first public response is sent (inbox/sla.py::stamp), for the
    # Activity reports: calendar seconds published → response (the customer's wait),
    # assignment → response (the agent's), published → assignment (in queue); their
    # kit.stats.bin_of bins; whether either SLA (calendar or business time, per `sla`) broke;
    # whether the message came on a private channel (a DM, email, chat, a helpdesk ticket).
    response_s: Mapped[float | None] = mapped_column(Float)
    action_s: Mapped[float | None] = mapped_column(Float)
    queue_s: Mapped[float | None] = mapped_column(Float)
    response_bin: Mapped[int | None] = mapped_column(SmallInteger)
    action_bin: Mapped[int | None] = mapped_column(SmallInteger)
    broke_sla: Mapped[bool | None] = mapped_column(Boolean)
    broke_action_sla: Mapped[bool | None] = mapped_column(Boolean)
    responded_in_private: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MentionEvent(Base):
    """One thing that happened to a mention, append-only: a state change, an assignment, a
    classification, a response, a redaction. Never carries message text."""

    __tablename__ = "mention_events"
    __table_args__ = (
        Index("ix_mention_events_mention", "mention_id", "at", "id"),
        Index("ix_mention_events_at_kind", "at", "kind"),
    )

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    mention_id: Mapped[str] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # received | state | assign | unassign | classify | unclassify | response | redact
    # | follow_up | case
    kind: Mapped[str] = mapped_column(String(20))
    # user | rule | system | helpdesk
    actor_type: Mapped[str] = mapped_column(String(10))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The rule's id, the helpdesk's name, or the system job's name.
    actor_ref: Mapped[str | None] = mapped_column(String(60))
    from_value: Mapped[str | None] = mapped_column(String(200))
    to_value: Mapped[str | None] = mapped_column(String(200))
    # Ids only (group id, classification id, response id, case id), never text.
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)


class MentionClassification(Base):
    """A classification on a mention (its history is in `mention_events`)."""

    __tablename__ = "mention_classifications"

    mention_id: Mapped[str] = mapped_column(
        ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True
    )
    classification_id: Mapped[int] = mapped_column(
        ForeignKey("classifications.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    # user | rule
    applied_by_type: Mapped[str] = mapped_column(String(10))
    applied_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    applied_by_rule_id: Mapped[str | None] = mapped_column(String(40))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MessageTemplate(Base):
    """A reply template; `{{ profile.first_name }}`-style variables are filled from the
    customer's profile when an agent uses it."""

    __tablename__ = "message_templates"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    body: Mapped[str] = mapped_column(Text)
    # Groups that see it; empty: everyone.
    group_ids: Mapped[list[int]] = mapped_column(JSONType)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Response(Base):
    """An agent's reply to a mention (or a private note on it): a draft, submitted for
    approval where the group requires it, approved or rejected, then sent (posted back to
    the helpdesk, or delivered to the reply webhook). Replies written in a helpdesk arrive
    as sent responses."""

    __tablename__ = "responses"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'awaiting_approval', 'sending', 'sent', 'failed', 'rejected')",
            name="status",
        ),
        UniqueConstraint("origin", "origin_key", "external_id", name="uq_responses_origin"),
        Index("ix_responses_mention", "mention_id", "created_at"),
        Index("ix_responses_sent", "sent_at"),
        Index("ix_responses_profile", "profile_id"),
        # A case's replies (cases.measure on every response, the Activity case filters).
        Index("ix_responses_case", "case_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    mention_id: Mapped[str] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))
    # The mention's profile, so forgetting it empties the text too.
    profile_id: Mapped[str | None] = mapped_column(String(40))
    # None for a helpdesk reply by someone who is not a carebase user (agent_name says who).
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    agent_name: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # A private note: never sent to the customer, not a response for SLA.
    private: Mapped[bool] = mapped_column(Boolean, server_default=false())
    status: Mapped[str] = mapped_column(String(20))
    # console | api | zendesk | gorgias | freshdesk
    origin: Mapped[str] = mapped_column(String(20))
    origin_key: Mapped[str] = mapped_column(String(40), server_default=text("''"))
    # The helpdesk comment's id, once posted or when it came from the helpdesk.
    external_id: Mapped[str | None] = mapped_column(String(200))
    template_id: Mapped[str | None] = mapped_column(
        ForeignKey("message_templates.id", ondelete="SET NULL")
    )
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_comment: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(40))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InboxRule(Base):
    """Run on each new mention of its queue, in position order: when every condition given
    matches (terms, source types, authors), do its actions (classify, set a state, assign
    to a user or by group and capacity, redact cards, emails or phones)."""

    __tablename__ = "inbox_rules"
    __table_args__ = (Index("ix_inbox_rules_queue_position", "queue_id", "position"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    queue_id: Mapped[str] = mapped_column(ForeignKey("inbox_queues.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean)
    # {"terms": [str], "source_types": [str], "authors": [str]}
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # {"classify": [int], "state": str|None, "assign": {"user_id"|"group_id": int}|None,
    #  "redact": ["cards", "emails", "phones"]}
    actions: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # Stop running later rules after this one matched.
    stop: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IgnoredSender(Base):
    """A sender whose messages arrive as `irrelevant`: an author key, handle or email, or a
    pattern with `*` (`*@noreply.example.com`)."""

    __tablename__ = "ignored_senders"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    pattern: Mapped[str] = mapped_column(String(300), unique=True)
    comment: Mapped[str] = mapped_column(Text, server_default=text("''"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AgentPresence(Base):
    """Whether an agent is online, and how much work assignment by capacity may give them."""

    __tablename__ = "agent_presence"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    online: Mapped[bool] = mapped_column(Boolean)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Open mentions assigned at most, for assignment by capacity.
    capacity: Mapped[int] = mapped_column(Integer, server_default=text("10"))


class InboxSettings(Base):
    """The workflow's installation-wide settings (one row, id 1)."""

    __tablename__ = "inbox_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_timeout_seconds: Mapped[int] = mapped_column(Integer, server_default=text("86400"))
    idle_offline_seconds: Mapped[int] = mapped_column(Integer, server_default=text("1800"))
    # The activation webhook destination replies to API-origin mentions are delivered to.
    reply_destination_id: Mapped[str | None] = mapped_column(
        ForeignKey("destinations.id", ondelete="SET NULL")
    )
    # The NPS form a case's survey link invites to (None: no surveys).
    nps_form_id: Mapped[int | None] = mapped_column(ForeignKey("forms.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Form(Base):
    """A survey (NPS or other). `public_key` makes its `form_url`; one-time links come from
    invitations."""

    __tablename__ = "forms"

    # Numeric, as the Activity API's forms are.
    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    nps: Mapped[bool] = mapped_column(Boolean)
    # The question asked beside the 0-10 score, for the comment.
    comment_prompt: Mapped[str] = mapped_column(Text, server_default=text("''"))
    group_ids: Mapped[list[int]] = mapped_column(JSONType)
    public_key: Mapped[str] = mapped_column(String(60), unique=True)
    archived: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FormInvitation(Base):
    """A one-time link to a form, sent for one case. Only the token's hash is kept."""

    __tablename__ = "form_invitations"
    __table_args__ = (
        UniqueConstraint("form_id", "case_id", name="uq_form_invitations_case"),
        Index("ix_form_invitations_sent", "sent_at"),
        Index("ix_form_invitations_profile", "profile_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"))
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))
    mention_id: Mapped[str | None] = mapped_column(ForeignKey("mentions.id", ondelete="SET NULL"))
    profile_id: Mapped[str | None] = mapped_column(String(40))
    # The agent the survey is about (the case's last agent) and their groups then.
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    group_ids: Mapped[list[int]] = mapped_column(JSONType)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FormResponse(Base):
    """One answer to a form: through an invitation (once), or through the form's URL."""

    __tablename__ = "form_responses"
    __table_args__ = (
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 10)", name="score"),
        Index("ix_form_responses_form_answered", "form_id", "answered_at"),
        Index("ix_form_responses_profile", "profile_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"))
    invitation_id: Mapped[str | None] = mapped_column(
        ForeignKey("form_invitations.id", ondelete="SET NULL"), unique=True
    )
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))
    profile_id: Mapped[str | None] = mapped_column(String(40))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    group_ids: Mapped[list[int]] = mapped_column(JSONType)
    # 0-10 for NPS forms.
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())
