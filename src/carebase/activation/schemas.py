"""Request and response bodies of the destinations and orchestrations API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from carebase.activation.run_schemas import RunOut

MAX_NAME = 200
MAX_FIELD = 200
MAX_ATTRIBUTES = 200
MAX_MAPPING = 200

SyncModeName = Literal["upsert", "update_only"]


class DestinationIn(BaseModel):
    """A destination to create: its kind, its settings and its secrets."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME, examples=["Zendesk production"])
    kind: str = Field(
        min_length=1, max_length=20, description="zendesk, sftp or webhook.", examples=["zendesk"]
    )
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="The kind's settings (docs/destinations-<kind>.md).",
        examples=[{"base_url": "https://acme.zendesk.com", "email": "agent@acme.example"}],
    )
    secrets: dict[str, Any] = Field(
        default_factory=dict,
        description="The kind's credentials; stored encrypted and never shown again. A "
        "webhook's signing secret and an SFTP key pair are generated when not given.",
        examples=[{"api_token": "…"}],
    )


class DestinationUpdate(BaseModel):
    """The whole of a destination to replace (PUT). Secrets left out are kept."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME)
    kind: str | None = Field(
        None, max_length=20, description="Optional; a destination's kind cannot change."
    )
    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, Any] | None = Field(
        None, description="Secrets to replace; those not given keep their stored value."
    )


class CheckStepOut(BaseModel):
    """One step of a connection test."""

    name: str
    ok: bool
    detail: str


class CheckOut(BaseModel):
    """The result of a connection test: when, whether every step passed, and each step."""

    ok: bool
    checked_at: datetime
    steps: list[CheckStepOut]


class DestinationOut(BaseModel):
    """A destination, without its secrets."""

    id: str
    name: str
    kind: str
    config: dict[str, Any]
    public: dict[str, Any] = Field(
        description="What may be shown besides the config (an SFTP public key to authorise)."
    )
    check: CheckOut | None = Field(description="The last connection test; null before one.")
    created_at: datetime
    created_by: str | None
    updated_at: datetime
    shown_once: dict[str, str] | None = Field(
        None,
        description="Secrets carebase generated (a webhook signing secret, an SFTP private "
        "key): in the answer that made them, never again.",
    )


class ManualSchedule(BaseModel):
    """Runs only when asked."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["manual"]


class CronSchedule(BaseModel):
    """A five-field cron expression read in an IANA time zone (docs/activation.md)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["cron"]
    cron: str = Field(min_length=1, max_length=120, examples=["0 6 * * *"])
    timezone: str = Field("UTC", min_length=1, max_length=64, examples=["Australia/Sydney"])


Schedule = Annotated[ManualSchedule | CronSchedule, Field(discriminator="type")]


class SourceIn(BaseModel):
    """What an orchestration sends: a saved segment's members with chosen attributes, or a
    saved query's rows (its column names are the destination's fields)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["segment", "query"]
    id: str = Field(min_length=1, max_length=40, description="The segment's or saved query's id.")
    attributes: list[str] = Field(
        default_factory=list,
        max_length=MAX_ATTRIBUTES,
        description="Segments: customer_360 columns sent for each member.",
    )


class OrchestrationIn(BaseModel):
    """An orchestration to create, or the whole of one to replace (PUT)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME, examples=["VIPs to Zendesk"])
    destination_id: str = Field(min_length=1, max_length=40)
    source: SourceIn
    mapping: dict[str, str] = Field(
        default_factory=dict,
        description="{destination field: source column}; columns already named like the "
        "destination's field need no entry.",
        examples=[{"user_fields.city": "city", "name": "full_name"}],
    )
    sync_mode: SyncModeName = "upsert"
    schedule: Schedule = Field(
        default_factory=lambda: ManualSchedule(type="manual"),
        examples=[{"type": "cron", "cron": "0 6 * * *", "timezone": "Australia/Sydney"}],
    )
    enabled: bool = Field(True, description="A disabled orchestration's schedule does not fire.")


class SourceOut(BaseModel):
    """An orchestration's source."""

    type: Literal["segment", "query"]
    id: str
    attributes: list[str]


class ScheduleOut(BaseModel):
    """An orchestration's schedule: manual, or cron in a time zone."""

    type: Literal["manual", "cron"]
    cron: str | None = None
    timezone: str | None = None


class OrchestrationOut(BaseModel):
    """An orchestration, its next scheduled run, its run in progress and its last run."""

    id: str
    name: str
    destination_id: str
    source: SourceOut
    mapping: dict[str, str]
    sync_mode: SyncModeName
    schedule: ScheduleOut
    enabled: bool
    next_run_at: datetime | None
    active_run_id: str | None
    last_run: RunOut | None = Field(description="The latest run, or null before the first.")
    revision: int
    created_at: datetime
    created_by: str | None
    updated_at: datetime


class RunIn(BaseModel):
    """How to run an orchestration now."""

    model_config = ConfigDict(extra="forbid")

    dry_run: bool = Field(False, description="Report what would be sent; send nothing.")
    full_resync: bool = Field(False, description="Forget what was sent before; send every record.")
    only_failed: bool = Field(
        False, description="Send only the records that failed or were rejected last time."
    )
