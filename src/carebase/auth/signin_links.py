"""One-time sign-in links: an invitation to set a first password (valid 72 hours), or a
password reset (valid 1 hour). carebase has no mail server, so a manager hands the link
over; it is shown once, when it is made, and only its SHA-256 is stored.

A link works once. Making a new link for a user voids the user's links not used yet, as do
a new password and archiving the user, so at most one link per user is ever live.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from carebase.auth import repository
from carebase.errors import InvalidSigninLink
from carebase.ids import new_id
from carebase.models import SigninLink
from carebase.settings import Settings

Purpose = Literal["invite", "reset"]
LIFETIMES: dict[str, timedelta] = {"invite": timedelta(hours=72), "reset": timedelta(hours=1)}
TOKEN_BYTES = 32
PATH = "/set-password/"
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A new link: its URL (holding the token, shown this once), purpose and expiry."""

    id: str
    user_id: int
    purpose: str
    url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LinkInfo:
    """A live link and whose it is, for the page that sets the password."""

    id: str
    user_id: int
    purpose: str
    email: str
    first_name: str
    last_name: str
    expires_at: datetime


def token_hash(token: str) -> str:
    """The stored hex SHA-256 of a link's token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_url(settings: Settings, token: str) -> str:
    """`{CAREBASE_PUBLIC_URL}/set-password/{token}`."""
    return f"{settings.base_url}{PATH}{token}"


def issue(
    session: Session,
    settings: Settings,
    *,
    user_id: int,
    purpose: Purpose,
    now: datetime,
    created_by: str | None,
) -> IssuedLink:
    """Make a link for `user_id`, voiding the user's earlier unused ones."""
    repository.delete_unused_links(session, user_id)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = SigninLink(
        id=new_id("sil"),
        token_hash=token_hash(token),
        user_id=user_id,
        purpose=purpose,
        created_at=now,
        expires_at=now + LIFETIMES[purpose],
        used_at=None,
        created_by=created_by,
    )
    repository.add_link(session, link)
    return IssuedLink(link.id, user_id, purpose, link_url(settings, token), link.expires_at)


def inspect(session: Session, token: str, *, now: datetime) -> LinkInfo:
    """The live link holding `token`; InvalidSigninLink (410) naming why when it is
    unknown, used, expired, or its user is archived. Reads only."""
    row = repository.find_link(session, token_hash(token)) if _TOKEN_SHAPE.match(token) else None
    if row is None:
        raise InvalidSigninLink()
    if row.used_at is not None:
        raise InvalidSigninLink(
            "This sign-in link has already been used; ask a manager for a new one."
        )
    if now >= row.expires_at:
        raise InvalidSigninLink("This sign-in link has expired; ask a manager for a new one.")
    if row.archived:
        raise InvalidSigninLink("This account is archived; it cannot sign in.")
    return LinkInfo(
        row.id, row.user_id, row.purpose, row.email, row.first_name, row.last_name, row.expires_at
    )


def use(session: Session, link: LinkInfo, *, now: datetime) -> None:
    """Spend the link; InvalidSigninLink when another request spent it first (or it expired
    meanwhile). Exactly one of two concurrent uses succeeds, on both engines."""
    if not repository.use_link(session, link.id, now):
        raise InvalidSigninLink(
            "This sign-in link has already been used; ask a manager for a new one."
        )


def void_unused(session: Session, user_id: int) -> int:
    """Drop a user's links not used yet; how many."""
    return repository.delete_unused_links(session, user_id)
