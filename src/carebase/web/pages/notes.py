"""Writing notes from the profile's Notes tab: add, edit and delete your own, and Undo a
delete (restore). Each works with htmx (the answer is the fragment to swap, and a toast) and
without script (POST, then a redirect back to the Notes tab that says what happened).

A form with bad input (empty, too long) is the tab again with status 422 and the message
beside the field; only the author may change a note (403 otherwise, `notes.service`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, StringConstraints
from sqlalchemy.orm import Session

from carebase.errors import ValidationFailed
from carebase.http.deps import DbSession, Now
from carebase.notes import service as notes
from carebase.notes.schemas import MAX_BODY
from carebase.web.forms import read_form
from carebase.web.pages.profile_tabs import NOTE_NOTICES as NOTICES
from carebase.web.pages.profile_tabs import notes_context
from carebase.web.pages.profile_view import live_id_or_redirect, render, render_tab
from carebase.web.render import is_htmx
from carebase.web.routing import page_router
from carebase.web.session import SignedIn

router = page_router()
T = TypeVar("T")


class NoteForm(BaseModel):
    """A note's text as typed."""

    body: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_BODY)
    ]


def _notes_url(live: str, **params: str) -> str:
    return f"/profiles/{live}/notes" + (f"?{urlencode(params)}" if params else "")


def _toast(message: str, **extra: Any) -> dict[str, Any]:
    return {"toast": {"message": message, **extra}}


async def _in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await run_in_threadpool(function, *args, **kwargs)


@router.post("/profiles/{profile_id}/notes")
async def add_note(
    profile_id: str, request: Request, active: SignedIn, session: DbSession, now: Now
) -> Response:
    """Write a note as the signed-in user."""
    form = await read_form(request, NoteForm)

    def work() -> Response:
        # A merged id writes on its survivor (as the notes service does), then shows it.
        live = notes.live_profile(session, profile_id)
        errors = dict(form.errors)
        if form.data is not None and not errors:
            try:
                notes.write(session, live, author_id=active.user.id, body=form.data.body, now=now)
            except ValidationFailed as invalid:
                errors = _field_errors(invalid)
        if errors:
            context = notes_context(session, live, values=form.values, errors=errors)
            return render_tab(request, session, now, live, "notes", context, status_code=422)
        if not is_htmx(request):
            return RedirectResponse(_notes_url(live, notice="added"), status_code=303)
        context = {**notes_context(session, live), **_toast(NOTICES["added"])}
        return render_tab(request, session, now, live, "notes", context)

    return await _in_thread(work)


def _field_errors(invalid: ValidationFailed) -> dict[str, str]:
    """The service's 422 as a message beside the note's text."""
    errors: dict[str, str] = {}
    for problem in invalid.details or []:
        field = str(problem.get("field", "body"))
        reason = str(problem.get("reason", "is not valid"))
        errors["body" if field in {"body", "author_id"} else field] = (
            "Your account cannot write notes now (it may be archived)."
            if field == "author_id"
            else f"The note {reason}."
        )
    return errors or {"body": "This is not valid."}


def _note_fragment(
    request: Request,
    live: str,
    note: dict[str, Any],
    *,
    editing: bool,
    now: datetime,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    toast: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "partials/note_fragment.html",
        {
            "profile_id": live,
            "note": note,
            "editing": note["id"] if editing else None,
            "values": values or {},
            "errors": errors or {},
            **(_toast(toast) if toast else {}),
        },
        status_code=status_code,
    )


def _own_note(session: Session, live: str, note_id: str, author_id: int) -> dict[str, Any]:
    """The note, if the signed-in user wrote it (NotFound or 403 `not_author` otherwise)."""
    return notes.get_own(session, live, note_id, author_id=author_id)


@router.get("/profiles/{profile_id}/notes/{note_id}")
def note_item(
    profile_id: str,
    note_id: str,
    request: Request,
    active: SignedIn,
    session: DbSession,
    now: Now,
) -> Response:
    """One note as listed (what Cancel swaps back); without htmx, the Notes tab."""
    live, redirect = live_id_or_redirect(request, session, profile_id)
    if redirect is not None:
        return redirect
    if not is_htmx(request):
        return RedirectResponse(_notes_url(live), status_code=303)
    note = _own_note(session, live, note_id, active.user.id)
    return _note_fragment(request, live, note, editing=False, now=now)


@router.get("/profiles/{profile_id}/notes/{note_id}/edit")
def edit_form(
    profile_id: str,
    note_id: str,
    request: Request,
    active: SignedIn,
    session: DbSession,
    now: Now,
) -> Response:
    """A note of yours as a form; without htmx, the Notes tab with it open for editing."""
    live, redirect = live_id_or_redirect(request, session, profile_id)
    if redirect is not None:
        return redirect
    note = _own_note(session, live, note_id, active.user.id)
    if not is_htmx(request):
        context = notes_context(session, live, editing=note["id"])
        return render_tab(request, session, now, live, "notes", context)
    return _note_fragment(request, live, note, editing=True, now=now)


@router.post("/profiles/{profile_id}/notes/{note_id}")
async def save_note(
    profile_id: str,
    note_id: str,
    request: Request,
    active: SignedIn,
    session: DbSession,
    now: Now,
) -> Response:
    """Change the text of a note of yours."""
    form = await read_form(request, NoteForm)

    def work() -> Response:
        # A merged id writes on its survivor (as the notes service does), then shows it.
        live = notes.live_profile(session, profile_id)
        note = _own_note(session, live, note_id, active.user.id)
        errors = dict(form.errors)
        if form.data is not None and not errors:
            try:
                note = notes.edit(
                    session, live, note_id, author_id=active.user.id, body=form.data.body, now=now
                )
            except ValidationFailed as invalid:
                errors = _field_errors(invalid)
        if errors:
            if is_htmx(request):
                return _note_fragment(
                    request,
                    live,
                    note,
                    editing=True,
                    now=now,
                    values=form.values,
                    errors=errors,
                    status_code=422,
                )
            context = notes_context(
                session, live, editing=note_id, values=form.values, errors=errors
            )
            return render_tab(request, session, now, live, "notes", context, status_code=422)
        if not is_htmx(request):
            return RedirectResponse(_notes_url(live, notice="saved"), status_code=303)
        return _note_fragment(request, live, note, editing=False, now=now, toast=NOTICES["saved"])

    return await _in_thread(work)


@router.post("/profiles/{profile_id}/notes/{note_id}/delete")
async def delete_note(
    profile_id: str,
    note_id: str,
    request: Request,
    active: SignedIn,
    session: DbSession,
    now: Now,
) -> Response:
    """Delete a note of yours; the answer offers Undo (a toast, or a notice without script)."""

    def work() -> Response:
        # A merged id writes on its survivor (as the notes service does), then shows it.
        live = notes.live_profile(session, profile_id)
        notes.delete(session, live, note_id, author_id=active.user.id, now=now)
        if not is_htmx(request):
            return RedirectResponse(_notes_url(live, deleted=note_id), status_code=303)
        # The tab again without the note; the toast carries Undo.
        undo = f"/profiles/{live}/notes/{note_id}/restore"
        context = {**notes_context(session, live), **_toast("Note deleted.", undo=undo)}
        return render_tab(request, session, now, live, "notes", context)

    return await _in_thread(work)


@router.post("/profiles/{profile_id}/notes/{note_id}/restore")
async def restore_note(
    profile_id: str,
    note_id: str,
    request: Request,
    active: SignedIn,
    session: DbSession,
    now: Now,
) -> Response:
    """Undo a delete (within a day): the note is back in the list."""

    def work() -> Response:
        # A merged id writes on its survivor (as the notes service does), then shows it.
        live = notes.live_profile(session, profile_id)
        notes.restore(session, live, note_id, author_id=active.user.id, now=now)
        if not is_htmx(request):
            return RedirectResponse(_notes_url(live, notice="restored"), status_code=303)
        context = {**notes_context(session, live), **_toast(NOTICES["restored"])}
        return render_tab(
            request,
            session,
            now,
            live,
            "notes",
            context,
            headers={"HX-Push-Url": _notes_url(live)},
        )

    return await _in_thread(work)
