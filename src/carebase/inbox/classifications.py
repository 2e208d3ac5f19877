"""Classifications: the labels agents and rules put on mentions. Names are unique; colours
are `#rrggbb`; archived ones stay on old mentions and cannot be applied anew; a
classification can be deleted only while nothing uses it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.errors import InUse, NameTaken, NotFound, ValidationFailed
from carebase.inbox import classifications_repository as repository
from carebase.models import Classification

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
MAX_NAME = 200
MAX_DESCRIPTION = 2000


def _name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise ValidationFailed.on("name", "must not be blank")
    if len(name) > MAX_NAME:
        raise ValidationFailed.on("name", f"must be at most {MAX_NAME} characters")
    return name


def _colour(raw: str) -> str:
    colour = raw.strip()
    if not _COLOUR.fullmatch(colour):
        raise ValidationFailed.on("colour", "must be a colour written #rrggbb")
    return colour.lower()


def _description(raw: str) -> str:
    description = raw.strip()
    if len(description) > MAX_DESCRIPTION:
        raise ValidationFailed.on("description", f"must be at most {MAX_DESCRIPTION} characters")
    return description


def _taken() -> NameTaken:
    return NameTaken("A classification with this name already exists.")


def create(
    session: Session, *, name: str, colour: str, now: datetime, description: str = ""
) -> Classification:
    """A new classification; NameTaken when the name is taken (also by a concurrent one)."""
    row = Classification(
        name=_name(name),
        description=_description(description),
        colour=_colour(colour),
        archived_at=None,
        created_at=now,
        updated_at=now,
    )
    if not repository.add(session, row):
        raise _taken()
    return row


def get(session: Session, classification_id: int) -> Classification:
    """One classification, or NotFound."""
    row = repository.get(session, classification_id)
    if row is None:
        raise NotFound(f"No classification with id {classification_id}.")
    return row


def list_classifications(
    session: Session, *, include_archived: bool = True
) -> Sequence[Classification]:
    """Every classification by name (archived ones too unless told otherwise)."""
    return repository.list_all(session, include_archived=include_archived)


def update(
    session: Session, classification_id: int, changes: Mapping[str, Any], now: datetime
) -> Classification:
    """Change name, description or colour (fields left out stay)."""
    row = repository.lock(session, classification_id)
    if row is None:
        raise NotFound(f"No classification with id {classification_id}.")
    for field, value in changes.items():
        if value is None:
            raise ValidationFailed.on(field, "must not be null; leave the field out instead")
    if "name" in changes:
        row.name = _name(changes["name"])
    if "description" in changes:
        row.description = _description(changes["description"])
    if "colour" in changes:
        row.colour = _colour(changes["colour"])
    row.updated_at = now
    if not repository.flush(session):
        raise _taken()
    return row


def archive(session: Session, classification_id: int, now: datetime) -> Classification:
    """Archive: it stays on mentions, cannot be applied anew. Archiving twice keeps the
    first time."""
    row = get(session, classification_id)
    if row.archived_at is None:
        row.archived_at = now
        row.updated_at = now
        session.flush()
    return row


def unarchive(session: Session, classification_id: int, now: datetime) -> Classification:
    """Make it applicable again."""
    row = get(session, classification_id)
    if row.archived_at is not None:
        row.archived_at = None
        row.updated_at = now
        session.flush()
    return row


def delete(session: Session, classification_id: int) -> None:
    """Delete an unused classification; InUse while mentions carry it or rules apply it
    (archive it instead)."""
    row = repository.lock(session, classification_id)
    if row is None:
        raise NotFound(f"No classification with id {classification_id}.")
    if repository.mention_count(session, classification_id):
        raise InUse("Mentions carry this classification: archive it instead.")
    if repository.used_by_rules(session, classification_id):
        raise InUse("Rules apply this classification: change them or archive it instead.")
    session.delete(row)
    session.flush()
