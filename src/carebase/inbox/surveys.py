"""Survey invitations and answers.

An invitation is a one-time link to a form for one case (at most one per form and case). Its
token is 32 random bytes shown once, when it is made; only its SHA-256 is stored. It records
who the survey is about: the case's last agent and that agent's groups at sending time. It
expires `INVITATION_LIFETIME` (30 days) after it is made, and takes exactly one answer: of two
answers at once, one is kept and the other is told the survey was answered.

An answer is an integer score 0-10 and an optional comment. NPS categories: promoter 9-10,
passive 7-8, detractor 0-6.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.orm import Session

from carebase.errors import (
    AlreadyInvited,
    FormAnswered,
    NotFound,
    SurveyClosed,
    ValidationFailed,
)
from carebase.ids import new_id
from carebase.inbox import forms_repository as repository
from carebase.kit import pagination
from carebase.models import Form, FormInvitation, FormResponse
from carebase.users.repository import active_group_ids

INVITATION_LIFETIME = timedelta(days=30)
TOKEN_BYTES = 32
LINK_PATH = "/f/"
MAX_COMMENT = 5000
SCORE_REASON = "must be a whole number from 0 to 10"
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_SCORE_TEXT = re.compile(r"^(?:10|[0-9])$")
NpsCategory = Literal["promoter", "passive", "detractor"]
_UNKNOWN = "This survey link is not valid."
_EXPIRED = "This survey link has expired."
_ARCHIVED = "This survey is closed."


def nps_category(score: int) -> NpsCategory:
    """`promoter` (9-10), `passive` (7-8) or `detractor` (0-6)."""
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


def token_hash(token: str) -> str:
    """The stored hex SHA-256 of a link's token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_url(base_url: str, token: str) -> str:
    """`{CAREBASE_PUBLIC_URL}/f/{token}`."""
    return f"{base_url}{LINK_PATH}{token}"


def check_score(score: Any) -> int:
    """The score when it is an integer 0-10 (not a bool), else a 422 naming `score`."""
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise ValidationFailed.on("score", SCORE_REASON)
    return score


def parse_score(raw: str | None) -> int:
    """A score typed in a form (`"0"` … `"10"`), else a 422 naming `score`."""
    text = (raw or "").strip()
    if not _SCORE_TEXT.match(text):
        raise ValidationFailed.on("score", SCORE_REASON)
    return int(text)


def check_comment(comment: str | None) -> str | None:
    """The comment trimmed (None when empty), else a 422 naming `comment`."""
    if comment is None:
        return None
    value = comment.strip()
    if "\x00" in value:
        raise ValidationFailed.on("comment", "must not contain a NUL character")
    if len(value) > MAX_COMMENT:
        raise ValidationFailed.on("comment", f"must be at most {MAX_COMMENT} characters")
    return value or None


def invite(
    session: Session,
    form_id: int,
    case_id: str,
    now: datetime,
    *,
    base_url: str,
    renew: bool = False,
) -> tuple[FormInvitation, str]:
    """Invite the customer of a case to a form; the invitation and its one-time link (shown
    this once). One invitation per (form, case): a second is AlreadyInvited (409), unless
    `renew`, which gives the same unanswered invitation a new link (the earlier one stops
    working, the 30 days start again); FormAnswered (409) once it is answered."""
    form = repository.get_form(session, form_id)
    if form is None:
        raise NotFound(f"No form with id {form_id}.")
    if form.archived:
        raise ValidationFailed.on("form_id", "is an archived form")
    case = repository.get_case(session, case_id)
    if case is None:
        raise NotFound(f"No case with id {case_id!r}.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    groups = active_group_ids(session, [case.last_agent_id]) if case.last_agent_id else {}
    invitation = FormInvitation(
        id=new_id("inv"),
        form_id=form.id,
        case_id=case.id,
        mention_id=repository.last_mention_id(session, case.id),
        profile_id=case.profile_id,
        agent_id=case.last_agent_id,
        group_ids=groups.get(case.last_agent_id, []) if case.last_agent_id else [],
        token_hash=token_hash(token),
        sent_at=now,
        expires_at=now + INVITATION_LIFETIME,
        answered_at=None,
    )
    # The unique (form, case) constraint decides between concurrent invitations: on
    # PostgreSQL the second insert waits for the first to commit, then finds it.
    if repository.flush_unique(session, invitation):
        return invitation, link_url(base_url, token)
    existing = repository.invitation_for(session, form.id, case.id, lock=renew)
    if existing.answered_at is not None:
        raise FormAnswered("This case has answered this survey already.")
    if not renew:
        raise AlreadyInvited(
            "This case has been sent this survey already; pass renew: true for a new link.",
            details={"invitation_id": existing.id},
        )
    existing.token_hash = token_hash(token)
    existing.expires_at = now + INVITATION_LIFETIME
    session.flush()
    return existing, link_url(base_url, token)


@dataclass(frozen=True, slots=True)
class OpenSurvey:
    """What a survey page shows: the form's words, and whether it was answered already."""

    form_id: int
    title: str
    nps: bool
    comment_prompt: str
    answered: bool


def _open(form: Form, *, answered: bool) -> OpenSurvey:
    return OpenSurvey(form.id, form.title, form.nps, form.comment_prompt, answered)


def _live_invitation(session: Session, token: str, now: datetime) -> tuple[FormInvitation, Form]:
    row = (
        repository.invitation_by_hash(session, token_hash(token))
        if _TOKEN_SHAPE.match(token)
        else None
    )
    if row is None:
        raise SurveyClosed(_UNKNOWN)
    form = repository.get_form(session, row.form_id)
    if form is None:
        raise SurveyClosed(_UNKNOWN)
    if row.answered_at is not None:
        raise FormAnswered()
    if now >= row.expires_at:
        raise SurveyClosed(_EXPIRED)
    if form.archived:
        raise SurveyClosed(_ARCHIVED)
    return row, form


def inspect(session: Session, token: str, now: datetime) -> OpenSurvey:
    """The survey a one-time link opens (`answered` when it was answered already);
    SurveyClosed (410) when the link is unknown or expired, or its form archived. Reads only."""
    try:
        _, form = _live_invitation(session, token, now)
    except FormAnswered:
        row = repository.invitation_by_hash(session, token_hash(token))
        form_row = repository.get_form(session, row.form_id) if row is not None else None
        if form_row is None:
            raise SurveyClosed(_UNKNOWN) from None
        return _open(form_row, answered=True)
    return _open(form, answered=False)


def inspect_public(session: Session, public_key: str) -> OpenSurvey:
    """The survey a form_url opens; NotFound for an unknown key, SurveyClosed when archived."""
    return _open(_public_form(session, public_key), answered=False)


def _public_form(session: Session, public_key: str) -> Form:
    form = repository.form_by_public_key(session, public_key) if len(public_key) <= 60 else None
    if form is None:
        raise NotFound("No such survey.")
    if form.archived:
        raise SurveyClosed(_ARCHIVED)
    return form


def answer(
    session: Session, token: str, score: int, comment: str | None, now: datetime
) -> FormResponse:
    """Answer through a one-time link, once: FormAnswered (409) for any later answer, also
    one racing this one; SurveyClosed (410) for an unknown or expired link or archived form."""
    score = check_score(score)
    comment = check_comment(comment)
    invitation, form = _live_invitation(session, token, now)
    if not repository.mark_answered(session, invitation.id, now):
        raise FormAnswered()
    response = FormResponse(
        id=new_id("frs"),
        form_id=form.id,
        invitation_id=invitation.id,
        case_id=invitation.case_id,
        profile_id=invitation.profile_id,
        agent_id=invitation.agent_id,
        group_ids=list(invitation.group_ids),
        score=score,
        comment=comment,
        answered_at=now,
    )
    repository.add_response(session, response)
    return response


def answer_public(
    session: Session, public_key: str, score: int, comment: str | None, now: datetime
) -> FormResponse:
    """Answer through a form's public form_url (no case, no agent; any number of times)."""
    score = check_score(score)
    comment = check_comment(comment)
    form = _public_form(session, public_key)
    response = FormResponse(
        id=new_id("frs"),
        form_id=form.id,
        invitation_id=None,
        case_id=None,
        profile_id=None,
        agent_id=None,
        group_ids=[],
        score=score,
        comment=comment,
        answered_at=now,
    )
    repository.add_response(session, response)
    return response


def list_responses(
    session: Session, form_id: int, *, cursor: str | None, limit: int
) -> tuple[list[FormResponse], str | None]:
    """A form's answers, newest first, one page; NotFound for an unknown form."""
    if repository.get_form(session, form_id) is None:
        raise NotFound(f"No form with id {form_id}.")
    after = pagination.decode(cursor, datetime, str) if cursor else None
    rows = repository.list_responses(
        session, form_id, after=(after[0], after[1]) if after else None, limit=limit + 1
    )
    return pagination.split(rows, limit, lambda row: pagination.encode(row.answered_at, row.id))
