"""Activation: destinations, orchestrations (a source pushed to a destination), their runs,
each run's work list with per-record results, and the diff state of what each orchestration
last delivered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from carebase.models.base import Base, UTCDateTime
from carebase.models.types import JSONType


class Destination(Base):
    """Where profiles are pushed: a Zendesk account's Users API, an SFTP directory, or a
    webhook URL. Credentials are encrypted and never shown again."""

    __tablename__ = "destinations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # zendesk | sftp | webhook (carebase.activation.kinds).
    kind: Mapped[str] = mapped_column(String(20))
    # The kind's non-secret settings (subdomain, host, url, file pattern …), as validated.
    config: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # Fernet ciphertext of the kind's secrets (JSON), key derived from CAREBASE_SECRET_KEY.
    secrets: Mapped[str] = mapped_column(Text)
    # The last "test connection": when, whether it passed, and each step's report.
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    check_ok: Mapped[bool | None] = mapped_column(Boolean)
    check_report: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Orchestration(Base):
    """A source (a saved segment with chosen attributes, or a saved query) pushed to one
    destination, with a field mapping, a sync mode and a schedule."""

    __tablename__ = "orchestrations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # A destination in use cannot be deleted (its orchestrations go first).
    destination_id: Mapped[str] = mapped_column(
        ForeignKey("destinations.id", ondelete="RESTRICT"), index=True
    )
    # segment | query, and the saved segment's or saved query's id.
    source_type: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[str] = mapped_column(String(40))
    # Segment sources: the attributes sent for each member (customer_360 column names).
    attributes: Mapped[list[str]] = mapped_column(JSONType)
    # {destination field: source column}; source columns named like the field need no entry.
    mapping: Mapped[dict[str, str]] = mapped_column(JSONType)
    # upsert | update_only.
    sync_mode: Mapped[str] = mapped_column(String(20))
    # A five-field cron expression in an IANA time zone; None: runs only when asked.
    schedule_cron: Mapped[str | None] = mapped_column(String(120))
    schedule_timezone: Mapped[str] = mapped_column(String(64))
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enabled: Mapped[bool] = mapped_column(Boolean)
    # The run in progress: set and cleared by compare-and-set, so one runs at a time
    # whatever the number of processes.
    active_run_id: Mapped[str | None] = mapped_column(String(40))
    # Bumped on every edit (a schedule tick queued before an edit checks it).
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OrchestrationRun(Base):
    """One run: waiting_to_start -> querying -> sending -> completed | completed_with_errors
    | failed | cancelled, with its counts. Runs run as jobs on the job runner."""

    __tablename__ = "orchestration_runs"
    __table_args__ = (
        Index("ix_orchestration_runs_orch_created", "orchestration_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    orchestration_id: Mapped[str] = mapped_column(
        ForeignKey("orchestrations.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(30))
    # manual | schedule | retry.
    trigger: Mapped[str] = mapped_column(String(20))
    dry_run: Mapped[bool] = mapped_column(Boolean)
    full_resync: Mapped[bool] = mapped_column(Boolean)
    # Send only the records that failed or were rejected by earlier runs.
    only_failed: Mapped[bool] = mapped_column(Boolean)
    job_id: Mapped[str | None] = mapped_column(String(40))
    requested_by: Mapped[str | None] = mapped_column(String(200))
    cancel_requested: Mapped[bool] = mapped_column(Boolean)
    queried: Mapped[int] = mapped_column(Integer)
    invalid: Mapped[int] = mapped_column(Integer)
    new: Mapped[int] = mapped_column(Integer)
    changed: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    sent: Mapped[int] = mapped_column(Integer)
    succeeded: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    # Why the run failed (the run, not a record), or what a dry run found; no record fields.
    error: Mapped[str | None] = mapped_column(Text)
    # What a resumed run needs (a file's name), and a dry run's summary.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RunItem(Base):
    """One record of one run: its work (the mapped fields, until the destination has
    answered for it) and then its result. Rows of records that succeeded lose their fields
    when the run ends; rejected and invalid ones keep the destination's reason, never the
    fields. Forgetting a profile deletes its rows (identity/owned.py)."""

    __tablename__ = "activation_run_items"
    __table_args__ = (
        Index("ix_activation_run_items_run_status", "run_id", "status", "seq"),
        Index("ix_activation_run_items_profile", "profile_id"),
    )

    run_id: Mapped[str] = mapped_column(
        ForeignKey("orchestration_runs.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_key: Mapped[str] = mapped_column(String(500))
    profile_id: Mapped[str | None] = mapped_column(String(40))
    # new | changed | retry (failed last time) — and, in a dry run, unchanged.
    action: Mapped[str] = mapped_column(String(20))
    # The mapped, validated fields; None once the destination has answered for the record.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    payload_hash: Mapped[str] = mapped_column(String(64))
    # pending | in_flight | succeeded | rejected | invalid | skipped
    status: Mapped[str] = mapped_column(String(20))
    # The destination's job (Zendesk job_status id) holding the record while in flight.
    handle: Mapped[str | None] = mapped_column(String(120))
    remote_id: Mapped[str | None] = mapped_column(String(120))
    error_code: Mapped[str | None] = mapped_column(String(120))
    message: Mapped[str | None] = mapped_column(Text)


class ActivationState(Base):
    """What an orchestration last delivered for one record: the hash of the mapped fields
    the destination acknowledged, or `failed` (re-sent by the next run). A full resync
    deletes an orchestration's rows; forgetting a profile deletes its rows."""

    __tablename__ = "activation_state"
    __table_args__ = (Index("ix_activation_state_profile", "profile_id"),)

    orchestration_id: Mapped[str] = mapped_column(
        ForeignKey("orchestrations.id", ondelete="CASCADE"), primary_key=True
    )
    record_key: Mapped[str] = mapped_column(String(500), primary_key=True)
    profile_id: Mapped[str | None] = mapped_column(String(40))
    payload_hash: Mapped[str] = mapped_column(String(64))
    # succeeded | failed
    status: Mapped[str] = mapped_column(String(20))
    remote_id: Mapped[str | None] = mapped_column(String(120))
    run_id: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
