"""Settings > API tokens (managers only), Lexer's "Integrate > API Key": list, create (the
secret shown once), revoke (after a confirmation; there is no undo).

The same service as `/v1/tokens` and `carebase token`: revoking the last active admin token
is refused (409), since nobody could then manage tokens through the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import parse_qs

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from carebase.auth import service as tokens
from carebase.auth.scopes import (
    ACTIVITY_READ,
    ADMIN,
    INGEST,
    NOTES_WRITE,
    PROFILES_READ,
    QUERY_RUN,
    QUERY_WRITE,
    SEGMENTS_READ,
    SEGMENTS_WRITE,
)
from carebase.datasets import service as datasets
from carebase.errors import ValidationFailed
from carebase.web.actions import Toast, field_messages, now_of, read, write
from carebase.web.forms import Form, read_form
from carebase.web.pages.settings_users import SETTINGS_TABS, created_by
from carebase.web.render import render
from carebase.web.routing import page_router
from carebase.web.session import Manager

router = page_router()

TokenId = Annotated[str, Path(min_length=1, max_length=40)]
Show = Literal["active", "revoked", "all"]

SCOPE_WORDS: dict[str, str] = {
    ADMIN: "admin: everything, including tokens, users, datasets and connectors",
    INGEST: "ingest: send records to any dataset",
    PROFILES_READ: "profiles:read: read profiles and their history",
    ACTIVITY_READ: "activity:read: list users and groups (the Activity API)",
    NOTES_WRITE: "notes:write: write notes on profiles for agents",
    SEGMENTS_READ: "segments:read: read segments and members, count definitions, search events",
    SEGMENTS_WRITE: "segments:write: save, change, delete and refresh segments",
    QUERY_RUN: "query:run: run read-only SQL over customer_360 and the event views",
    QUERY_WRITE: "query:write: save, change and delete named queries",
}


class TokenForm(BaseModel):
    """A token to create."""

    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(default_factory=list, max_length=250)


@dataclass(frozen=True)
class TokenRow:
    """A token as the list shows it: never its secret."""

    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    created_by: str | None
    last_used_at: datetime | None
    revoked_at: datetime | None


def _rows(session: Session) -> list[TokenRow]:
    return [
        TokenRow(
            t.id,
            t.name,
            t.token_prefix,
            list(t.scopes),
            t.created_at,
            t.created_by,
            t.last_used_at,
            t.revoked_at,
        )
        for t in tokens.list_tokens(session)
    ]


def _scope_choices(session: Session) -> list[tuple[str, str]]:
    choices = list(SCOPE_WORDS.items())
    choices += [
        (f"{INGEST}:{d.id}", f"ingest:{d.id}: send records to {d.name} only")
        for d in datasets.list_datasets(session)
    ]
    return choices


def _toast(done: str | None, row: TokenRow | None) -> Toast | None:
    if done == "revoked" and row is not None:
        return Toast(f"Revoked the token {row.name}: it no longer works.")
    return None


@router.get("/settings/tokens")
async def tokens_page(
    request: Request,
    _manager: Manager,
    show: Show = "active",
    done: Annotated[str | None, Query(max_length=20)] = None,
    token_id: Annotated[str | None, Query(alias="id", max_length=40)] = None,
) -> HTMLResponse:
    """The API tokens machines use."""
    rows = await read(request, _rows)
    shown = [r for r in rows if show == "all" or (r.revoked_at is not None) == (show == "revoked")]
    counts = {
        "active": sum(r.revoked_at is None for r in rows),
        "revoked": sum(r.revoked_at is not None for r in rows),
        "all": len(rows),
    }
    done_row = next((r for r in rows if r.id == token_id), None)
    return render(
        request,
        "pages/settings/tokens.html",
        {
            "tabs": SETTINGS_TABS,
            "tokens": shown,
            "show": show,
            "counts": counts,
            "toast": _toast(done, done_row),
        },
    )


def _form_page(
    request: Request,
    *,
    choices: list[tuple[str, str]],
    values: dict[str, str],
    checked: list[str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "pages/settings/token_form.html",
        {
            "tabs": SETTINGS_TABS,
            "choices": choices,
            "values": values,
            "checked": checked,
            "errors": errors,
        },
        status_code=status_code,
    )


@router.get("/settings/tokens/new")
async def new_token_page(request: Request, _manager: Manager) -> HTMLResponse:
    """The form for a new token."""
    choices = await read(request, _scope_choices)
    return _form_page(request, choices=choices, values={}, checked=[], errors={})


@router.post("/settings/tokens/new")
async def create_token(request: Request, manager: Manager) -> HTMLResponse:
    """Create a token and show its secret, once."""
    form: Form[TokenForm] = await read_form(request, TokenForm)
    choices = await read(request, _scope_choices)
    checked = parse_qs((await request.body()).decode("utf-8", "replace")).get("scopes", [])
    errors = dict(form.errors)
    if not checked:
        errors["scopes"] = "Choose at least one scope."
    if errors or form.data is None:
        return _form_page(
            request,
            choices=choices,
            values=form.values,
            checked=checked,
            errors=errors,
            status_code=422,
        )
    data, now = form.data, now_of(request)

    def create(session: Session) -> tuple[TokenRow, str]:
        created = tokens.create_token(
            session, name=data.name, scopes=data.scopes, now=now, created_by=created_by(manager)
        )
        t = created.token
        row = TokenRow(
            t.id, t.name, t.token_prefix, list(t.scopes), t.created_at, t.created_by, None, None
        )
        return row, created.secret

    try:
        row, secret = await write(request, create)
    except ValidationFailed as invalid:
        return _form_page(
            request,
            choices=choices,
            values=form.values,
            checked=checked,
            errors=field_messages(invalid),
            status_code=422,
        )
    return render(
        request,
        "pages/settings/token_created.html",
        {"tabs": SETTINGS_TABS, "token": row, "secret": secret},
    )


async def _one(request: Request, token_id: str) -> TokenRow:
    def work(session: Session) -> TokenRow:
        t = tokens.get_token(session, token_id)
        return TokenRow(
            t.id,
            t.name,
            t.token_prefix,
            list(t.scopes),
            t.created_at,
            t.created_by,
            t.last_used_at,
            t.revoked_at,
        )

    return await read(request, work)


@router.get("/settings/tokens/{token_id}/revoke")
async def confirm_revoke_page(
    request: Request, _manager: Manager, token_id: TokenId
) -> HTMLResponse:
    """Ask before revoking: there is no undo."""
    token = await _one(request, token_id)
    return render(
        request, "pages/settings/token_revoke.html", {"tabs": SETTINGS_TABS, "token": token}
    )


@router.post("/settings/tokens/{token_id}/revoke")
async def revoke_token(request: Request, _manager: Manager, token_id: TokenId) -> RedirectResponse:
    """Revoke the token: from now on it answers 401. 409 for the last active admin token."""
    now = now_of(request)
    await write(request, lambda s: tokens.revoke_token(s, token_id, now=now).id)
    return RedirectResponse(f"/settings/tokens?done=revoked&id={token_id}", status_code=303)
