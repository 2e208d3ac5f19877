"""Ignored senders: messages from an author matching one of these patterns arrive as
`irrelevant` (an author key, handle or email, or a pattern with `*`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache

from sqlalchemy.orm import Session

from carebase.db import locks
from carebase.errors import NameTaken, NotFound, ValidationFailed
from carebase.ids import new_id
from carebase.inbox import intake_repository as repository
from carebase.models import IgnoredSender

MAX_PATTERN = 300


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    # `*` is the only wildcard; everything else is literal, compared case-insensitively.
    parts = (re.escape(part) for part in pattern.strip().lower().lstrip("@").split("*"))
    return re.compile(".*".join(parts), re.DOTALL)


def sender_names(
    author_key: str | None, author_username: str | None, author_url: str | None = None
) -> list[str]:
    """What a pattern is compared with: the author key and handle (without `@`)."""
    names = []
    for value in (author_key, author_username, author_url):
        if value and value.strip():
            names.append(value.strip().lower().lstrip("@"))
    return names


def matches(pattern: str, names: Iterable[str]) -> bool:
    """Whether `pattern` (with `*` for any text) matches any of `names` whole."""
    compiled = _compiled(pattern)
    return any(compiled.fullmatch(name) for name in names)


def first_match(patterns: Iterable[IgnoredSender], names: list[str]) -> IgnoredSender | None:
    """The first ignored-sender row whose pattern matches one of `names`."""
    if not names:
        return None
    for row in patterns:
        if matches(row.pattern, names):
            return row
    return None


def _clean(pattern: str) -> str:
    cleaned = pattern.strip()
    if not cleaned.replace("*", "").strip():
        raise ValidationFailed.on("pattern", "must hold more than wildcards")
    if len(cleaned) > MAX_PATTERN:
        raise ValidationFailed.on("pattern", f"is at most {MAX_PATTERN} characters")
    return cleaned


def list_ignored(session: Session) -> list[IgnoredSender]:
    """Every ignored-sender pattern."""
    return repository.ignored_senders(session)


def get_ignored(session: Session, sender_id: str) -> IgnoredSender:
    """One pattern, or NotFound."""
    row = repository.ignored_sender(session, sender_id)
    if row is None:
        raise NotFound(f"No ignored sender with id {sender_id!r}.")
    return row


def add_ignored(
    session: Session, pattern: str, now: datetime, *, comment: str = ""
) -> IgnoredSender:
    """Ignore a sender (or every sender a pattern matches) from now on."""
    cleaned = _clean(pattern)
    locks.lock_keys(session, [f"inbox:ignored:{cleaned.lower()}"])
    if repository.ignored_by_pattern(session, cleaned) is not None:
        raise NameTaken("That pattern is ignored already.", details={"field": "pattern"})
    row = IgnoredSender(id=new_id("ign"), pattern=cleaned, comment=comment, created_at=now)
    repository.add(session, row)
    return row


def update_ignored(
    session: Session, sender_id: str, *, pattern: str | None = None, comment: str | None = None
) -> IgnoredSender:
    """Change a pattern or its comment."""
    row = get_ignored(session, sender_id)
    if pattern is not None:
        cleaned = _clean(pattern)
        other = repository.ignored_by_pattern(session, cleaned)
        if other is not None and other.id != row.id:
            raise NameTaken("That pattern is ignored already.", details={"field": "pattern"})
        row.pattern = cleaned
    if comment is not None:
        row.comment = comment
    session.flush()
    return row


def remove_ignored(session: Session, sender_id: str) -> None:
    """Stop ignoring a pattern (mentions already irrelevant stay so)."""
    session.delete(get_ignored(session, sender_id))
    session.flush()
