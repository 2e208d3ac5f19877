"""Forms (surveys): NPS and other 0-10 surveys, listed as Lexer's Activity API lists them
(`GET /v1/forms`), created, changed and archived by managers; and the NPS categories.

A form asks one 0-10 score and an optional comment. Customers answer it through a one-time
link made for one case (`carebase.inbox.surveys.invite`), or through the form's own public
`form_url` (`{CAREBASE_PUBLIC_URL}/forms/{public_key}`), which anyone holding it can answer.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.errors import NameTaken, NotFound, ValidationFailed, problem
from carebase.inbox import forms_repository as repository
from carebase.inbox.surveys import answer, answer_public, invite, nps_category
from carebase.models import Form

__all__ = [
    "answer",
    "answer_public",
    "archive_form",
    "create_form",
    "form_url",
    "get_form",
    "invite",
    "list_forms",
    "nps_category",
    "restore_form",
    "update_form",
]

PUBLIC_PATH = "/forms/"
MAX_NAME = 200
MAX_TITLE = 300
MAX_PROMPT = 1000
MAX_GROUPS = 200


def form_url(base_url: str, form: Form) -> str:
    """`{CAREBASE_PUBLIC_URL}/forms/{public_key}`: the form's public page."""
    return f"{base_url}{PUBLIC_PATH}{form.public_key}"


def list_forms(session: Session) -> list[Form]:
    """Every form, archived ones too, by id (`GET /v1/forms`)."""
    return repository.list_forms(session)


def survey_choices(session: Session) -> tuple[list[Form], int | None]:
    """The NPS forms a case may be surveyed with (not archived), and the one to offer first:
    the inbox settings' NPS form when it is one of them, else the first."""
    live = [form for form in list_forms(session) if form.nps and not form.archived]
    preferred = repository.nps_form_id(session)
    if any(form.id == preferred for form in live):
        return live, preferred
    return live, (live[0].id if live else None)


def get_form(session: Session, form_id: int) -> Form:
    """One form, archived or not, or NotFound."""
    form = repository.get_form(session, form_id)
    if form is None:
        raise NotFound(f"No form with id {form_id}.")
    return form


def _text(field: str, raw: str, *, max_length: int, required: bool) -> str:
    value = " ".join(raw.split()) if field != "comment_prompt" else raw.strip()
    if "\x00" in value:
        raise ValidationFailed.on(field, "must not contain a NUL character")
    if required and not value:
        raise ValidationFailed.on(field, "must not be empty")
    if len(value) > max_length:
        raise ValidationFailed.on(field, f"must be at most {max_length} characters")
    return value


def _groups(session: Session, raw: list[int]) -> list[int]:
    if len(raw) > MAX_GROUPS:
        raise ValidationFailed.on("groups", f"must hold at most {MAX_GROUPS} ids")
    known = repository.existing_group_ids(session, list(set(raw)))
    missing = [
        problem(f"groups.{index}", "is not an active group")
        for index, group_id in enumerate(raw)
        if group_id not in known
    ]
    if missing:
        raise ValidationFailed(details=missing)
    return sorted(set(raw))


def _name_taken() -> NameTaken:
    return NameTaken("Another form has this name.", details=[problem("name", "is taken")])


def create_form(
    session: Session,
    *,
    name: str,
    title: str,
    nps: bool,
    groups: list[int],
    comment_prompt: str,
    now: datetime,
) -> Form:
    """A new form with a fresh public key; NameTaken (409) when the name is taken."""
    form = Form(
        name=_text("name", name, max_length=MAX_NAME, required=True),
        title=_text("title", title, max_length=MAX_TITLE, required=True),
        nps=nps,
        comment_prompt=_text(
            "comment_prompt", comment_prompt, max_length=MAX_PROMPT, required=False
        ),
        group_ids=_groups(session, groups),
        # 24 random bytes: the URL cannot be guessed from another form's.
        public_key=secrets.token_urlsafe(24),
        archived=False,
        created_at=now,
        updated_at=now,
    )
    if not repository.flush_unique(session, form):
        raise _name_taken()
    return form


def update_form(
    session: Session, form_id: int, changes: Mapping[str, Any], *, now: datetime
) -> Form:
    """Change a form's name, title, NPS flag, groups or comment prompt (those in `changes`)."""
    form = repository.lock_form(session, form_id)
    if form is None:
        raise NotFound(f"No form with id {form_id}.")
    if "name" in changes:
        form.name = _text("name", changes["name"], max_length=MAX_NAME, required=True)
    if "title" in changes:
        form.title = _text("title", changes["title"], max_length=MAX_TITLE, required=True)
    if "nps" in changes:
        form.nps = bool(changes["nps"])
    if "groups" in changes:
        form.group_ids = _groups(session, list(changes["groups"]))
    if "comment_prompt" in changes:
        form.comment_prompt = _text(
            "comment_prompt", changes["comment_prompt"], max_length=MAX_PROMPT, required=False
        )
    form.updated_at = now
    if not repository.flush_unique(session):
        raise _name_taken()
    return form


def archive_form(session: Session, form_id: int, *, now: datetime) -> Form:
    """Archive a form: its links and its form_url stop taking answers; its answers stay.
    Archiving twice is harmless."""
    return _set_archived(session, form_id, True, now)


def restore_form(session: Session, form_id: int, *, now: datetime) -> Form:
    """Undo an archive: the form takes answers again (links not yet expired work again)."""
    return _set_archived(session, form_id, False, now)


def _set_archived(session: Session, form_id: int, archived: bool, now: datetime) -> Form:
    form = repository.lock_form(session, form_id)
    if form is None:
        raise NotFound(f"No form with id {form_id}.")
    if form.archived != archived:
        form.archived = archived
        form.updated_at = now
        session.flush()
    return form
