"""Request and response bodies of the segments API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_NAME, MAX_DESCRIPTION = 200, 2000
DAILY = 24
EXAMPLE_DEFINITION: dict[str, Any] = {
    "type": "group",
    "op": "and",
    "children": [
        {"type": "attribute", "field": "ticket_count", "op": "gte", "value": 3},
        {
            "type": "event",
            "event": "customer_support_ticket",
            "window_days": 120,
            "count": {"op": "gte", "value": 2},
            "where": {
                "type": "group",
                "op": "and",
                "children": [
                    {
                        "type": "event_field",
                        "field": "satisfaction_score",
                        "op": "eq",
                        "value": "bad",
                    }
                ],
            },
        },
    ],
}
Status = Literal["pending", "refreshing", "ready", "failed"]


class SegmentIn(BaseModel):
    """A segment to create, or the whole of one to replace (PUT)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME, examples=["Unhappy repeat contacts"])
    description: str | None = Field(None, max_length=MAX_DESCRIPTION)
    definition: dict[str, Any] = Field(
        description="The condition tree (docs/segments.md, Definitions).",
        examples=[EXAMPLE_DEFINITION],
    )
    refresh_every_hours: int = Field(
        DAILY,
        ge=1,
        le=24 * 30,
        description="Refreshed this many hours after each refresh (24: daily), even when no "
        "event arrived meanwhile, so windowed conditions move on with time.",
    )


class PreviewIn(BaseModel):
    """A definition to count without saving it."""

    model_config = ConfigDict(extra="forbid")

    definition: dict[str, Any] = Field(examples=[EXAMPLE_DEFINITION])


class PreviewOut(BaseModel):
    """How many profiles a definition selects now, out of how many."""

    count: int
    total_profiles: int
    definition: dict[str, Any] = Field(description="The definition as parsed (canonical).")


class SegmentOut(BaseModel):
    """A saved segment with its refresh state."""

    id: str
    name: str
    description: str | None
    definition: dict[str, Any]
    definition_version: int
    revision: int = Field(description="Bumped on every edit.")
    references: list[str] = Field(description="Ids of the saved segments the definition uses.")
    status: Status = Field(
        description="pending (not computed yet, or edited and queued), refreshing, ready, "
        "or failed (`last_error` says why; the last version computed is still served)."
    )
    size: int | None = Field(
        description="Members of the current version now (null before the first refresh)."
    )
    current_version: int | None
    computed_at: datetime | None = Field(description="When the current version was computed.")
    last_error: str | None
    last_error_at: datetime | None
    refresh_every_hours: int
    next_refresh_at: datetime | None
    created_at: datetime
    created_by: str | None
    updated_at: datetime


class SegmentList(BaseModel):
    """Every segment, by name."""

    items: list[SegmentOut]


class RefreshQueued(BaseModel):
    """A refresh queued (or the one already queued or running) for a segment."""

    segment_id: str
    job_id: str = Field(description="The refresh job (GET /v1/jobs/{job_id}).")


class MemberOut(BaseModel):
    """One member and the attributes asked for."""

    profile_id: str
    attributes: dict[str, Any]


class MemberPage(BaseModel):
    """A page of a segment's members, by profile id."""

    items: list[MemberOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
    version: int | None = Field(description="The version listed (the current one at page 1).")
    computed_at: datetime | None


class VersionOut(BaseModel):
    """One refresh of a segment."""

    version: int
    revision: int = Field(description="The definition's revision it was computed from.")
    computed_at: datetime
    size: int = Field(description="Members when computed.")
    entered: int = Field(description="Members not in the version before.")
    left: int = Field(description="Members of the version before no longer in.")
    duration_ms: int


class VersionPage(BaseModel):
    """A segment's versions, newest first: its size over time."""

    items: list[VersionOut]
    next_cursor: str | None


class ProfileSegmentOut(BaseModel):
    """A segment a profile is in."""

    id: str
    name: str
    description: str | None
    status: Status
    current_version: int | None
    computed_at: datetime | None


class ProfileSegments(BaseModel):
    """The segments a profile is in now (their current versions), by name."""

    profile_id: str
    items: list[ProfileSegmentOut]
