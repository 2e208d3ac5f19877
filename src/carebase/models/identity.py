"""Profiles, their links, the merge ledger and the suppression list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from carebase.models.base import Base, UTCDateTime
from carebase.models.types import BigIntegerKey, JSONType, bytewise


class Profile(Base):
    """One customer. A merged profile stays as a tombstone pointing at its survivor."""

    __tablename__ = "profiles"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    merged_into_id: Mapped[str | None] = mapped_column(String(40), index=True)


class ProfileLink(Base):
    """An identifier (normalised) owned by exactly one profile."""

    __tablename__ = "profile_links"
    # Value first: a batch looks its links up by value alone, using this index.
    __table_args__ = (UniqueConstraint("value", "link_type", "system_name"),)

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    profile_id: Mapped[str] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    link_type: Mapped[str] = mapped_column(String(32))
    # '' when the link has no system (email, mobile); part of the uniqueness key.
    system_name: Mapped[str] = mapped_column(String(100))
    # Bytewise, so that profile search reads a typed prefix as an index range.
    value: Mapped[str] = mapped_column(bytewise(512))
    # A hash carebase computed from one of the profile's emails: links, but is not shown.
    derived: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProfileMerge(Base):
    """The ledger: which profile merged into which, on which links, by which rule."""

    __tablename__ = "profile_merges"
    __table_args__ = (Index("ix_profile_merges_merged_id", "merged_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    survivor_id: Mapped[str] = mapped_column(String(40), index=True)
    merged_id: Mapped[str] = mapped_column(String(40))
    rule: Mapped[str] = mapped_column(String(64))
    links: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    ingestion_log_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Every link the merged profile held when it merged ({type, value, system_name, derived}):
    # what an undo gives back to it. Null for merges recorded before undo existed.
    merged_links: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType, nullable=True)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    undone_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class MergeBlock(Base):
    """Two profiles an undone merge keeps apart: no record merges them again. Both ids are
    live profiles; when either merges into another, the block follows the survivor."""

    __tablename__ = "merge_blocks"
    __table_args__ = (
        UniqueConstraint("profile_id", "other_id"),
        Index("ix_merge_blocks_other_id", "other_id"),
    )

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    # profile_id < other_id: one row per pair.
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    other_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    merge_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Suppression(Base):
    """A forgotten link, kept only as a hash, that no record may bring back."""

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("link_type", "link_hash"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    link_type: Mapped[str] = mapped_column(String(32))
    link_hash: Mapped[str] = mapped_column(String(64))
    # An email and its derived hashes share a group: lifting one lifts them all.
    group_id: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LockKey(Base):
    """One lockable key (a link, a natural key), by the 64-bit hash of its name: ingestion
    locks the row to serialise writers of the same key on PostgreSQL (`carebase.db.locks`).
    Unlogged on PostgreSQL; unused on SQLite, whose writers are serialised."""

    __tablename__ = "lock_keys"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
