"""Every SQL statement of forms and surveys: forms, invitations and answers."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from carebase.models import (
    Case,
    Form,
    FormInvitation,
    FormResponse,
    Group,
    InboxSettings,
    Mention,
    User,
)
from carebase.users.repository import flush_unique

__all__ = ["flush_unique"]


def list_forms(session: Session) -> list[Form]:
    """Every form, archived ones too, by id."""
    return list(session.scalars(select(Form).order_by(Form.id)))


def get_form(session: Session, form_id: int) -> Form | None:
    """One form."""
    return session.get(Form, form_id)


def lock_form(session: Session, form_id: int) -> Form | None:
    """One form, locked for a change (`SELECT … FOR UPDATE` on PostgreSQL)."""
    return session.scalars(
        select(Form)
        .where(Form.id == form_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def form_by_public_key(session: Session, public_key: str) -> Form | None:
    """The form a `form_url` names."""
    return session.scalars(select(Form).where(Form.public_key == public_key)).one_or_none()


def existing_group_ids(session: Session, group_ids: list[int]) -> set[int]:
    """Which of `group_ids` are groups that are not archived."""
    if not group_ids:
        return set()
    return set(
        session.scalars(
            select(Group.id).where(Group.id.in_(group_ids), Group.archived_at.is_(None))
        )
    )


def nps_form_id(session: Session) -> int | None:
    """The installation's NPS form (`inbox_settings.nps_form_id`), when set."""
    return session.scalars(select(InboxSettings.nps_form_id).where(InboxSettings.id == 1)).first()


def get_case(session: Session, case_id: str) -> Case | None:
    """One case."""
    return session.get(Case, case_id)


def last_mention_id(session: Session, case_id: str) -> str | None:
    """The case's newest customer mention."""
    return session.scalars(
        select(Mention.id)
        .where(Mention.case_id == case_id)
        .order_by(Mention.published_at.desc(), Mention.id.desc())
        .limit(1)
    ).first()


def invitation_for(session: Session, form_id: int, case_id: str, *, lock: bool) -> FormInvitation:
    """The invitation of a (form, case) known to exist, locked when `lock`."""
    query = select(FormInvitation).where(
        FormInvitation.form_id == form_id, FormInvitation.case_id == case_id
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).one()


def invitation_by_hash(session: Session, token_hash: str) -> FormInvitation | None:
    """The invitation holding a token."""
    return session.scalars(
        select(FormInvitation).where(FormInvitation.token_hash == token_hash)
    ).one_or_none()


def mark_answered(session: Session, invitation_id: str, now: datetime) -> bool:
    """Spend an invitation: True for the one caller that set `answered_at`. On PostgreSQL a
    concurrent spender waits for the first to commit, then finds it answered (False)."""
    result = cast(
        CursorResult[tuple[()]],
        session.execute(
            update(FormInvitation)
            .where(FormInvitation.id == invitation_id, FormInvitation.answered_at.is_(None))
            .values(answered_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount == 1


def add_response(session: Session, response: FormResponse) -> None:
    """Insert an answer."""
    session.add(response)
    session.flush()


def list_responses(
    session: Session, form_id: int, *, after: tuple[datetime, str] | None, limit: int
) -> list[FormResponse]:
    """A form's answers, newest first, `limit` of them after the keyset `after`."""
    query = select(FormResponse).where(FormResponse.form_id == form_id)
    if after is not None:
        at, response_id = after
        query = query.where(
            (FormResponse.answered_at < at)
            | ((FormResponse.answered_at == at) & (FormResponse.id < response_id))
        )
    query = query.order_by(FormResponse.answered_at.desc(), FormResponse.id.desc()).limit(limit)
    return list(session.scalars(query))


def active_user(session: Session, user_id: int) -> bool:
    """Whether a user exists and is not archived."""
    return (
        session.scalars(select(User.id).where(User.id == user_id, User.archived.is_(False))).first()
        is not None
    )
