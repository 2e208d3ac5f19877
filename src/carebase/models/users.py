"""The people behind the console: users, groups, their memberships, sign-in sessions and
one-time sign-in links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from carebase.models.base import Base, UTCDateTime
from carebase.models.types import BigIntegerKey

ROLES = ("agent", "manager")
LINK_PURPOSES = ("invite", "reset")


class User(Base):
    """An agent or a manager. Users are archived, never deleted: they keep their history."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('agent', 'manager')", name="role"),)

    # Numeric, as the Activity API's users are.
    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    # Trimmed and lower-cased by the service before it is stored.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    # An IANA zone name (`Australia/Sydney`); gmtoffset is derived from it when asked.
    timezone: Mapped[str] = mapped_column(String(64), server_default=text("'UTC'"))
    role: Mapped[str] = mapped_column(String(16))
    # argon2id, PHC string format; NULL until the user sets a password through a link.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sign_in_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    archived: Mapped[bool] = mapped_column(Boolean, server_default=false())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # `cli`, or the id of the API token that created the user.
    created_by: Mapped[str | None] = mapped_column(String(200))


class Group(Base):
    """A team of users (`Social Customer Care`). Archived groups keep their members."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    comment: Mapped[str] = mapped_column(Text, server_default=text("''"))
    # Replies by its members wait for a manager's approval (`awaiting_approval`) before sending.
    requires_approval: Mapped[bool] = mapped_column(Boolean, server_default=false())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GroupMember(Base):
    """One user in one group."""

    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    # A user's groups are read by user: its own index.
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class UserSession(Base):
    """A signed-in browser. The cookie holds a random secret; only its SHA-256 is stored."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_id_revoked_at", "user_id", "revoked_at"),)

    # Hex SHA-256 of the cookie's secret.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Refreshed at most once a minute by the requests the session makes.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the session ends unless used again: the earlier of idle and absolute expiry.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str | None] = mapped_column(String(200))


class SigninLink(Base):
    """A one-time link to set a password: an invitation, or a reset. Only its hash is kept."""

    __tablename__ = "signin_links"
    __table_args__ = (CheckConstraint("purpose IN ('invite', 'reset')", name="purpose"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(200))
