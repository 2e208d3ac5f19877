"""Creating, listing, revoking and checking API tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy.orm import Session

from carebase.auth import ratelimit, repository
from carebase.auth.scopes import ADMIN, Scope, any_grants, parse_scopes
from carebase.auth.secrets import DISPLAY_PREFIX_LENGTH, generate_token, hash_token, is_well_formed
from carebase.errors import (
    Conflict,
    InsufficientScope,
    InvalidToken,
    NotFound,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from carebase.ids import new_id
from carebase.models import ApiToken
from carebase.settings import RateLimit

# last_used_at is a hint for humans; refreshing it once a minute saves a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
BOOTSTRAP_TOKEN_NAME = "bootstrap-admin"  # noqa: S105 - a name, not a secret


@dataclass(frozen=True, slots=True)
class CreatedToken:
    """A new token's record and its secret, which is never available again."""

    token: ApiToken
    secret: str


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the authenticated token."""

    token_id: str
    name: str
    scopes: tuple[Scope, ...]

    def allows(self, required: str, resource: str | None = None) -> bool:
        """True when this caller may do an operation needing `required` on `resource`."""
        return any_grants(self.scopes, required, resource)


def create_token(
    session: Session, *, name: str, scopes: Sequence[str], now: datetime, created_by: str | None
) -> CreatedToken:
    """Create a token; the secret in the result is shown once and stored only hashed."""
    clean_name = name.strip()
    if not clean_name:
        raise ValidationFailed.on("name", "must not be empty")
    try:
        parsed = parse_scopes(scopes)
    except ValueError as error:
        raise ValidationFailed.on("scopes", str(error)) from error
    secret = generate_token()
    token = ApiToken(
        id=new_id("tok"),
        name=clean_name,
        token_hash=hash_token(secret),
        token_prefix=secret[:DISPLAY_PREFIX_LENGTH],
        scopes=[str(scope) for scope in parsed],
        created_at=now,
        created_by=created_by,
    )
    repository.add_token(session, token)
    return CreatedToken(token, secret)


def list_tokens(session: Session, *, include_revoked: bool = True) -> Sequence[ApiToken]:
    """Every token, oldest first."""
    return repository.list_tokens(session, include_revoked=include_revoked)


def get_token(session: Session, token_id: str) -> ApiToken:
    """One token, or NotFound."""
    token = repository.get_token(session, token_id)
    if token is None:
        raise NotFound(f"No API token with id {token_id!r}.")
    return token


def revoke_token(session: Session, token_id: str, *, now: datetime) -> ApiToken:
    """Revoke a token; revoking twice keeps the first revocation time."""
    token = get_token(session, token_id)
    if token.revoked_at is None:
        _refuse_revoking_last_admin(session, token)
        token.revoked_at = now
        session.flush()
    return token


def _refuse_revoking_last_admin(session: Session, token: ApiToken) -> None:
    # Without an active admin token nobody can create or revoke tokens again through the
    # API. The active tokens are locked, so two concurrent revocations of the last two
    # admin tokens cannot both pass this check.
    if ADMIN not in token.scopes:
        return
    admins = [t for t in repository.lock_active_tokens(session) if ADMIN in t.scopes]
    if [t.id for t in admins] == [token.id]:
        raise Conflict(
            f"Token {token.id!r} is the last active admin token; create another admin token "
            "before revoking it.",
            details={"reason": "last_admin_token", "token_id": token.id},
        )


def ensure_bootstrap_admin(session: Session, *, now: datetime) -> CreatedToken | None:
    """On a database with no usable token, create an admin token; else None."""
    if repository.count_active_tokens(session) > 0:
        return None
    return create_token(
        session, name=BOOTSTRAP_TOKEN_NAME, scopes=[ADMIN], now=now, created_by="first start"
    )


@lru_cache(maxsize=1024)
def _parse_stored_scopes(scopes: tuple[str, ...]) -> tuple[Scope, ...]:
    return tuple(Scope.parse(scope) for scope in scopes)


def authenticate(
    session: Session, raw_token: str | None, *, required: str, resource: str | None, now: datetime
) -> tuple[Principal, bool]:
    """The caller behind a token, and whether its last_used_at is due a refresh.

    Raises Unauthenticated or InvalidToken (401), or InsufficientScope (403). Reads only.
    """
    principal, stale = identify(session, raw_token, now=now)
    authorize(principal, required, resource)
    return principal, stale


def identify(session: Session, raw_token: str | None, *, now: datetime) -> tuple[Principal, bool]:
    """The live token behind `raw_token`, whatever it may do, and whether its last_used_at
    is due a refresh. Raises Unauthenticated or InvalidToken (401). Reads only."""
    if not raw_token:
        raise Unauthenticated(
            "Missing authentication data: send Authorization: Bearer <token> or Auth-Api-Token.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = None
    if is_well_formed(raw_token):
        token = repository.find_credentials(session, hash_token(raw_token))
    if token is None or token.revoked_at is not None:
        raise InvalidToken(headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    principal = Principal(token.id, token.name, _parse_stored_scopes(tuple(token.scopes)))
    stale = token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION
    return principal, stale


def authorize(principal: Principal, required: str, resource: str | None) -> None:
    """Raise InsufficientScope (403) unless `principal` may do `required` on `resource`."""
    if not principal.allows(required, resource):
        scope = required if resource is None else f"{required}:{resource}"
        raise InsufficientScope(
            f"This operation needs the {scope!r} scope.", details={"required_scope": scope}
        )


def count_request(
    counters: Session, principal: Principal, *, required: str, policy: RateLimit, now: datetime
) -> ratelimit.RateDecision | None:
    """Count one request against the token's limit for `required`; RateLimited (429) if over."""
    decision = ratelimit.check(
        counters, f"{principal.token_id}:{required}", policy, now.timestamp()
    )
    if decision is not None and not decision.allowed:
        raise RateLimited(
            f"Rate limit of {decision.limit} requests per {decision.period_seconds} s exceeded "
            f"for this token; retry in {decision.retry_after_seconds} s.",
            headers=decision.headers(),
        )
    return decision


def record_use(session: Session, token_id: str, now: datetime) -> None:
    """Stamp the token's last_used_at."""
    repository.touch_token(session, token_id, now)
