"""The body of POST /v1/activity/reports (the reference's fields, then carebase's)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Ids = Annotated[list[Annotated[int, Field(ge=1, le=2**63 - 1)]], Field(max_length=1000)]


class ReportRequest(BaseModel):
    """A report to run. `type`, `date_from` and `date_to` are the reference's; the rest are
    optional filters and settings."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "summary",
                    "date_from": "2018-04-01T00:00:00+11:00",
                    "date_to": "2018-04-30T23:59:59+11:00",
                }
            ]
        }
    )

    type: str = Field(
        max_length=100,
        description="The report: summary, states_volume, states, classifications, "
        "response_volume, user_summary, user_volume (per agent), states (totals), case_summary, "
        "case_volume, case_classifications, nps_summary, nps_volume or mention_sla_export.",
    )
    date_from: str = Field(
        max_length=64,
        description="Start (inclusive), ISO 8601, e.g. 2018-04-01T00:00:00+11:00. Without an "
        "offset it is read in the report's time zone; a bare date means its midnight.",
    )
    date_to: str = Field(
        max_length=64,
        description="End (inclusive), ISO 8601; a bare date means the end of that day. At "
        "most 12 months after date_from.",
    )
    time_zone: str | None = Field(
        None,
        max_length=64,
        description="IANA zone the buckets follow (e.g. Australia/Sydney); default: the "
        "installation's CAREBASE_REPORT_TIME_ZONE.",
    )
    users: Ids | None = Field(
        None, description="Only mentions whose assignee or first responder is one of these."
    )
    groups: Ids | None = Field(
        None,
        description="Only mentions assigned to one of these groups or to one of their members.",
    )
    classifications: Ids | None = Field(
        None, description="Only mentions (or cases) carrying one of these classifications."
    )
    form: int | None = Field(
        None, ge=1, le=2**63 - 1, description="The NPS form (nps_summary, nps_volume)."
    )
    nps_category: str | None = Field(
        None,
        max_length=20,
        description="all (default), promoters, passives or detractors: which answers count.",
    )
