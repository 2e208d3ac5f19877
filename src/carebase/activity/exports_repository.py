"""Every SQL statement of the Activity CSV exports: the export rows, their chunks, and the
cohort read in keyset pages with its batch look-ups (Core rows, never ORM objects, so a
long export keeps no identity map)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, and_, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from carebase.models import (
    Classification,
    Mention,
    MentionClassification,
    Note,
    Response,
    User,
)
from carebase.models.activity import ActivityExport, ActivityExportChunk

# The mention columns a CSV row reads (exports_csv.mention_row).
MENTION_COLUMNS = (
    Mention.id,
    Mention.published_at,
    Mention.account,
    Mention.source_type,
    Mention.author_username,
    Mention.author_fullname,
    Mention.profile_id,
    Mention.body,
    Mention.forgotten,
    Mention.state,
    Mention.state_at,
    Mention.assignee_id,
    Mention.first_responder_id,
    Mention.first_response_at,
    Mention.queue_s,
    Mention.action_s,
    Mention.response_s,
    Mention.broke_sla,
    Mention.broke_action_sla,
)


def add_export(session: Session, values: dict[str, Any]) -> None:
    """Insert an export row."""
    session.add(ActivityExport(**values))
    session.flush()


def export_by_token_hash(session: Session, token_hash: str) -> ActivityExport | None:
    """The export handed out with this token (by its hash)."""
    return session.scalars(
        select(ActivityExport).where(ActivityExport.token_hash == token_hash)
    ).first()


def get_export(session: Session, export_id: str) -> ActivityExport | None:
    """The export, if it exists."""
    return session.get(ActivityExport, export_id)


def set_export(session: Session, export_id: str, **values: Any) -> None:
    """Update an export's columns."""
    session.execute(update(ActivityExport).where(ActivityExport.id == export_id).values(values))


def delete_chunks(session: Session, export_id: str) -> None:
    """Remove every chunk of an export (a retry starts over)."""
    session.execute(delete(ActivityExportChunk).where(ActivityExportChunk.export_id == export_id))


def add_chunk(session: Session, export_id: str, seq: int, data: bytes) -> None:
    """Store one compressed piece of the file."""
    session.execute(insert(ActivityExportChunk).values(export_id=export_id, seq=seq, data=data))


def chunk_seqs(session: Session, export_id: str) -> list[int]:
    """The export's chunk numbers, in order."""
    return list(
        session.scalars(
            select(ActivityExportChunk.seq)
            .where(ActivityExportChunk.export_id == export_id)
            .order_by(ActivityExportChunk.seq)
        )
    )


def chunk_data(session: Session, export_id: str, seq: int) -> bytes | None:
    """One compressed chunk."""
    return session.scalar(
        select(ActivityExportChunk.data).where(
            ActivityExportChunk.export_id == export_id, ActivityExportChunk.seq == seq
        )
    )


def purge_expired(session: Session, now: datetime) -> int:
    """Delete exports (and their chunks) kept past `expires_at`; how many."""
    expired = select(ActivityExport.id).where(ActivityExport.expires_at < now)
    session.execute(delete(ActivityExportChunk).where(ActivityExportChunk.export_id.in_(expired)))
    result = session.execute(delete(ActivityExport).where(ActivityExport.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)


def mention_page(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[RowMapping]:
    """The next `limit` mentions of the cohort by (published_at, id) after `after`."""
    where = list(conditions)
    if after is not None:
        published, mention_id = after
        where.append(
            or_(
                Mention.published_at > published,
                and_(Mention.published_at == published, Mention.id > mention_id),
            )
        )
    statement = (
        select(*MENTION_COLUMNS)
        .where(*where)
        .order_by(Mention.published_at, Mention.id)
        .limit(limit)
    )
    return list(session.execute(statement).mappings())


def user_names(session: Session, user_ids: set[int]) -> dict[int, str]:
    """user id → "First Last"."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(User.id, User.first_name, User.last_name).where(User.id.in_(user_ids))
    )
    return {row.id: f"{row.first_name} {row.last_name}".strip() for row in rows}


def first_public_responses(session: Session, mention_ids: list[str]) -> dict[str, str]:
    """mention id → the text of its first sent public response."""
    rows = session.execute(
        select(Response.mention_id, Response.body)
        .where(
            Response.mention_id.in_(mention_ids),
            Response.private.is_(False),
            Response.status == "sent",
        )
        .order_by(Response.mention_id, Response.sent_at, Response.id)
    )
    found: dict[str, str] = {}
    for row in rows:
        found.setdefault(row.mention_id, row.body)
    return found


def private_notes(session: Session, mention_ids: list[str]) -> dict[str, list[str]]:
    """mention id → its private notes, oldest first."""
    rows = session.execute(
        select(Response.mention_id, Response.body)
        .where(Response.mention_id.in_(mention_ids), Response.private.is_(True))
        .order_by(Response.mention_id, Response.created_at, Response.id)
    )
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row.mention_id, []).append(row.body)
    return found


def classification_names(session: Session, mention_ids: list[str]) -> dict[str, list[str]]:
    """mention id → the names of the classifications it carries, by name."""
    rows = session.execute(
        select(MentionClassification.mention_id, Classification.name)
        .join(Classification, Classification.id == MentionClassification.classification_id)
        .where(MentionClassification.mention_id.in_(mention_ids))
        .order_by(MentionClassification.mention_id, Classification.name)
    )
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row.mention_id, []).append(row.name)
    return found


def profile_notes(session: Session, profile_ids: set[str]) -> dict[str, list[str]]:
    """profile id → its notes (not deleted), oldest first."""
    if not profile_ids:
        return {}
    rows = session.execute(
        select(Note.profile_id, Note.body)
        .where(Note.profile_id.in_(profile_ids), Note.deleted_at.is_(None))
        .order_by(Note.profile_id, Note.created_at, Note.id)
    )
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row.profile_id, []).append(row.body)
    return found
