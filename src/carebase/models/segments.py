"""Saved segments, the size of each refresh, and the materialised membership of each one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from carebase.models.base import Base, UTCDateTime
from carebase.models.types import JSONType


class Segment(Base):
    """A saved rule over attributes and events. Its members are materialised per refresh
    as a version (`segment_members`); `current_version` is the one readers see."""

    __tablename__ = "segments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    # The canonical definition (segments.definition) and the format version it was saved in.
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    definition_version: Mapped[int] = mapped_column(Integer)
    # The ids of the saved segments the definition refers to, kept to refuse cycles and
    # deleting a segment others use, and to refresh those that use one after it.
    referenced_ids: Mapped[list[str]] = mapped_column(JSONType)
    # Bumped on every edit; each version records the revision it was computed from.
    revision: Mapped[int] = mapped_column(Integer)
    # pending (never computed, or a refresh is queued after an edit) | refreshing | ready
    # | failed (last_error says why; the previous version, if any, is still served).
    status: Mapped[str] = mapped_column(String(20))
    current_version: Mapped[int | None] = mapped_column(Integer)
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Refreshed every this many hours after the last refresh (24: daily).
    refresh_every_hours: Mapped[int] = mapped_column(Integer)
    next_refresh_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The latest on-demand request (or edit): a refresh that started before it is followed
    # by another one at once, so that every request is answered by a refresh begun after it.
    refresh_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SegmentVersion(Base):
    """One refresh of a segment: when, how many members, who entered and who left (counts),
    and how long it took. Kept for every version (the size over time); the member rows of
    only the current and the previous version are kept."""

    __tablename__ = "segment_versions"

    segment_id: Mapped[str] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    size: Mapped[int] = mapped_column(Integer)
    entered: Mapped[int] = mapped_column(Integer)
    left: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)


class SegmentMember(Base):
    """A profile in one version of a segment. Derived data: no foreign keys (a refresh
    inserts up to millions of rows at once, and each key would be checked per row); rows go
    with their segment (deleted by the service), with a forgotten profile and with a profile
    merged away (identity/owned.py), and versions older than the previous one are pruned."""

    __tablename__ = "segment_members"
    # The segments a profile is in now, and a forget's delete, read by profile.
    __table_args__ = (Index("ix_segment_members_profile", "profile_id", "segment_id", "version"),)

    segment_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(40), primary_key=True)
