"""Request and response shapes of the SLA policies, business hours, cases, inbox settings
and mention SLA APIs."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SECONDS = Field(ge=60, le=366 * 86400, description="Seconds, a minute to a year.")


class PolicyWrite(BaseModel):
    """A new SLA policy."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    customer_sla_seconds: int = SECONDS
    agent_sla_seconds: int = SECONDS
    business_hours_id: str | None = Field(
        None, max_length=40, description="Measure in these business hours; null: calendar time."
    )
    is_default: bool = Field(False, description="Make it the policy of queues naming none.")


class PolicyPatch(BaseModel):
    """Changes to an SLA policy (fields left out stay). Mentions keep their snapshot."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    customer_sla_seconds: int | None = Field(None, ge=60, le=366 * 86400)
    agent_sla_seconds: int | None = Field(None, ge=60, le=366 * 86400)
    business_hours_id: str | None = Field(None, max_length=40)
    is_default: bool | None = None


class PolicyOut(BaseModel):
    """An SLA policy."""

    id: str
    name: str
    customer_sla_seconds: int
    agent_sla_seconds: int
    business_hours_id: str | None
    is_default: bool
    created_at: datetime
    updated_at: datetime


class IntervalIn(BaseModel):
    """Working time on a weekday; an end not after the start runs past midnight."""

    model_config = ConfigDict(extra="forbid")

    weekday: int = Field(description="0 Monday … 6 Sunday.")
    start: str = Field(max_length=5, description="HH:MM, local time.")
    end: str = Field(max_length=5, description="HH:MM; not after start: the next day.")


class HolidayIn(BaseModel):
    """A day off, or some hours of it (start and end both given)."""

    model_config = ConfigDict(extra="forbid")

    date: str = Field(max_length=10, description="YYYY-MM-DD, local date.")
    name: str = Field("", max_length=200)
    start: str | None = Field(None, max_length=5, description="HH:MM, or null: the whole day.")
    end: str | None = Field(None, max_length=5, description="HH:MM, after start.")


class HoursWrite(BaseModel):
    """New business hours."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(max_length=64, description="An IANA time zone, e.g. Australia/Sydney.")
    intervals: list[IntervalIn] = Field(max_length=200)
    holidays: list[HolidayIn] = Field(default_factory=list, max_length=1000)


class HoursPatch(BaseModel):
    """Changes to business hours (fields left out stay)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    timezone: str | None = Field(None, max_length=64)
    intervals: list[IntervalIn] | None = Field(None, max_length=200)
    holidays: list[HolidayIn] | None = Field(None, max_length=1000)


class HoursOut(BaseModel):
    """Business hours."""

    id: str
    name: str
    timezone: str
    intervals: list[IntervalIn]
    holidays: list[HolidayIn]
    created_at: datetime
    updated_at: datetime


class SettingsOut(BaseModel):
    """The inbox's installation-wide settings."""

    case_timeout_seconds: int = Field(
        description="A case closes this long after its last activity."
    )
    idle_offline_seconds: int = Field(description="An agent idle this long goes offline.")
    reply_destination_id: str | None = Field(description="Webhook destination of API replies.")
    nps_form_id: int | None = Field(description="The NPS form a case's survey invites to.")
    updated_at: datetime


class SettingsPatch(BaseModel):
    """Changes to the inbox settings (fields left out stay; null clears an id)."""

    model_config = ConfigDict(extra="forbid")

    case_timeout_seconds: int | None = Field(None, ge=60, le=90 * 86400)
    idle_offline_seconds: int | None = Field(None, ge=60, le=7 * 86400)
    reply_destination_id: str | None = Field(None, max_length=40)
    nps_form_id: int | None = Field(None, ge=1, le=2**63 - 1)


class CaseOut(BaseModel):
    """A case: a conversation with one customer."""

    id: str
    case_key: str | None
    profile_id: str | None
    status: Literal["open", "closed"]
    opened_at: datetime
    first_reply_at: datetime | None
    last_agent_response_at: datetime | None
    last_agent_id: int | None
    last_activity_at: datetime
    closed_at: datetime | None
    reopened_count: int


class CaseMentionOut(BaseModel):
    """A mention of a case (no text: the mention's own API has it)."""

    id: str
    state: str
    source_type: str
    published_at: datetime
    first_response_at: datetime | None
    first_responder_id: int | None


class CaseResponseOut(BaseModel):
    """An agent response sent in a case."""

    id: str
    mention_id: str
    author_id: int | None
    agent_name: str | None
    sent_at: datetime | None


class CaseDetailOut(CaseOut):
    """A case with its mentions, responses and report figures."""

    mentions: list[CaseMentionOut]
    responses: list[CaseResponseOut]
    interactions: int = Field(description="Agent responses sent in the case.")
    agents_involved: list[int] = Field(description="Distinct users who responded.")
    classification_ids: list[int] = Field(description="Each classification once per case.")
    first_reply_seconds: float | None
    resolution_seconds: float | None = Field(description="last_agent_response_at - opened_at.")


class CasePage(BaseModel):
    """A page of cases, newest opened first."""

    items: list[CaseOut]
    next_cursor: str | None


class TimerOut(BaseModel):
    """One SLA clock."""

    target_seconds: int
    started_at: datetime | None
    due_at: datetime | None
    remaining_seconds: float | None = Field(description="Policy time left; negative once past.")
    stopped: bool = Field(description="Answered: the clock no longer runs.")
    breached: bool


class MentionSlaOut(BaseModel):
    """A mention's SLA measures and clocks, against the policy snapshot it keeps."""

    mention_id: str
    policy: dict[str, object] = Field(description="The policy as it was when the mention arrived.")
    business_time: bool
    in_queue_seconds: float | None
    action_seconds: float | None
    customer_wait_seconds: float | None
    in_queue_business_seconds: float | None
    action_business_seconds: float | None
    customer_wait_business_seconds: float | None
    within_customer_sla: bool | None
    within_agent_sla: bool | None
    customer: TimerOut
    agent: TimerOut
