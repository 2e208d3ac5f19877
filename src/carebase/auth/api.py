"""Admin API for tokens: create (secret shown once), list, show, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from carebase.auth import service
from carebase.auth.schemas import TokenCreate, TokenCreated, TokenList, TokenOut
from carebase.auth.scopes import ADMIN
from carebase.auth.service import Principal
from carebase.http.deps import DbSession, Now, require_scope
from carebase.http.routing import JSONRoute

router = APIRouter(prefix="/v1/tokens", tags=["tokens"], route_class=JSONRoute)
Admin = Annotated[Principal, Depends(require_scope(ADMIN))]


@router.post("", status_code=201, operation_id="createToken", response_model=TokenCreated)
def create_token(body: TokenCreate, admin: Admin, session: DbSession, now: Now) -> TokenCreated:
    """Create a token. Its secret is in this response and nowhere else, ever."""
    created = service.create_token(
        session, name=body.name, scopes=body.scopes, now=now, created_by=admin.token_id
    )
    return TokenCreated(**TokenOut.model_validate(created.token).model_dump(), token=created.secret)


@router.get("", operation_id="listTokens", response_model=TokenList)
def list_tokens(
    _admin: Admin,
    session: DbSession,
    include_revoked: Annotated[bool, Query(description="Also list revoked tokens.")] = True,
) -> TokenList:
    """Every token, oldest first; secrets are never listed."""
    tokens = service.list_tokens(session, include_revoked=include_revoked)
    return TokenList(tokens=[TokenOut.model_validate(token) for token in tokens])


@router.get("/{token_id}", operation_id="getToken", response_model=TokenOut)
def get_token(token_id: str, _admin: Admin, session: DbSession) -> TokenOut:
    """One token."""
    return TokenOut.model_validate(service.get_token(session, token_id))


@router.delete(
    "/{token_id}",
    operation_id="revokeToken",
    response_model=TokenOut,
    responses={409: {"description": "The token is the last active admin token."}},
)
def revoke_token(token_id: str, _admin: Admin, session: DbSession, now: Now) -> TokenOut:
    """Revoke a token: from now on it answers 401. Revoking twice is harmless."""
    return TokenOut.model_validate(service.revoke_token(session, token_id, now=now))
