"""FastAPI dependencies: the request's unit of work, the clock, authorisation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from carebase.auth import service as auth_service
from carebase.auth.ratelimit import RateDecision
from carebase.auth.service import Principal
from carebase.db.session import Database
from carebase.http.middleware import RESPONSE_HEADERS_STATE_KEY, RETRY_STATE_KEY, reads_only
from carebase.settings import RateLimit, Settings

# In scope["state"]: (raw token, Principal, stale) when the token was checked before the body.
IDENTIFIED_STATE_KEY = "identified"
# The dependencies `require_scope` builds: a route that uses one is authenticated by token.
_TOKEN_DEPENDENCIES: set[Callable[..., Any]] = set()

bearer_scheme = HTTPBearer(
    auto_error=False, bearerFormat="cb_…", description="Authorization: Bearer <token>"
)
api_token_scheme = APIKeyHeader(
    name="Auth-Api-Token",
    auto_error=False,
    description="The header Lexer's Activity API documents; same tokens as Bearer.",
)


def get_settings(request: Request) -> Settings:
    """This app's settings."""
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    """This app's database."""
    database: Database = request.app.state.database
    return database


def get_now(request: Request) -> datetime:
    """The current time from the app's clock (tests replace the clock, nothing else)."""
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


# Dependencies that do no I/O are async: FastAPI runs sync ones on a worker thread,
# and each such hop costs more than a profile read's queries.
async def _now(request: Request) -> datetime:
    return get_now(request)


async def _unit_of_work(request: Request) -> AsyncIterator[Session]:
    database = get_database(request)
    # A read-only POST (a count, a query) reads in a read transaction: on SQLite it must
    # not hold the write lock while it runs.
    write = not reads_only(request.method, request.url.path)
    # Opening a session does no I/O; committing does, so it goes to a worker thread -
    # except ending a read on SQLite, which only releases a WAL snapshot (no disk, no
    # waiting) and costs far less than the thread hop.
    inline = not write and database.dialect == "sqlite"
    session = database.open_session(write=write)
    try:
        yield session
    except BaseException:
        # A session that never reached the database (a refused request) has nothing to end.
        if inline or not session.in_transaction():
            database.finish(session, commit=False)
        else:
            await run_in_threadpool(database.finish, session, commit=False)
        raise
    if inline or not session.in_transaction():
        database.finish(session, commit=True)
    else:
        await run_in_threadpool(database.finish, session, commit=True)


# Committed after the handler returns and before the response is sent, so a 2xx
# answer always follows a durable commit.
DbSession = Annotated[Session, Depends(_unit_of_work, scope="function")]
Now = Annotated[datetime, Depends(_now)]


def require_scope(
    scope: str, *, resource_param: str | None = None
) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that authenticates the caller and checks `scope` and its rate limit.

    With `resource_param`, a narrowed scope (`ingest:<id>`) must name the value of
    that path parameter.
    """

    async def dependency(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
        api_token: Annotated[str | None, Depends(api_token_scheme)],
        session: DbSession,
    ) -> Principal:
        raw = bearer.credentials if bearer is not None else api_token
        resource = request.path_params.get(resource_param) if resource_param else None
        settings, database, now = get_settings(request), get_database(request), get_now(request)
        policy = settings.rate_limit_for(scope)
        identified = request.scope.get("state", {}).get(IDENTIFIED_STATE_KEY)
        if identified is not None and identified[0] == raw:
            # Checked before the body was read (`identify_before_body`): no second lookup.
            principal: Principal = identified[1]
            stale: bool = identified[2]
            auth_service.authorize(principal, scope, resource)
        else:
            # A read request reads its token in its own read transaction (no second
            # session); a write request reads it in a short one of its own, so that it does
            # not start its write transaction (and, on SQLite, wait for the write lock)
            # before it is authenticated.
            reader = session if reads_only(request.method, request.url.path) else None
            # One indexed SELECT on a small table: on SQLite a page-cache lookup that never
            # waits for a writer (WAL), cheaper than a thread hop; on PostgreSQL a network
            # round trip, so it goes to a worker thread.
            if database.dialect == "sqlite":
                principal, stale = _authenticate(database, reader, raw, scope, resource, now)
            else:
                principal, stale = await run_in_threadpool(
                    _authenticate, database, reader, raw, scope, resource, now
                )
        # Counting and stamping write, and may wait for a lock: always on a worker thread,
        # in one hop, and only when there is something to write.
        # A request run again after a write conflict was counted by its first attempt.
        count = not policy.unlimited and not request.scope.get("state", {}).get(RETRY_STATE_KEY)
        if not count and not stale:
            return principal
        decision = await run_in_threadpool(
            _count_and_record, database, principal, scope, policy if count else None, stale, now
        )
        if decision is not None:
            request.scope.setdefault("state", {})[RESPONSE_HEADERS_STATE_KEY] = decision.headers()
        return principal

    _TOKEN_DEPENDENCIES.add(dependency)
    return dependency


def requires_token(dependant: Dependant) -> bool:
    """Whether a route (its dependency tree) authenticates the caller by API token."""
    return any(
        dependency.call in _TOKEN_DEPENDENCIES or requires_token(dependency)
        for dependency in dependant.dependencies
    )


def credentials(request: Request) -> str | None:
    """The token the request presents, read as the security schemes read it: a Bearer
    Authorization header first, then Auth-Api-Token."""
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value:
            return value
    return request.headers.get("auth-api-token")


async def identify_before_body(request: Request) -> None:
    """Check the request's token before its body is read, so that a caller without a live
    token cannot make the server receive (and hold) a body: 401 at once. The token's
    scope is checked later by the route's `require_scope`, which reuses this lookup."""
    database, now = get_database(request), get_now(request)
    raw = credentials(request)
    if database.dialect == "sqlite":
        principal, stale = _identify(database, raw, now)
    else:
        principal, stale = await run_in_threadpool(_identify, database, raw, now)
    request.scope.setdefault("state", {})[IDENTIFIED_STATE_KEY] = (raw, principal, stale)


def _identify(database: Database, raw: str | None, now: datetime) -> tuple[Principal, bool]:
    token = raw.strip() if raw else None
    with database.unit_of_work(write=False) as session:
        return auth_service.identify(session, token, now=now)


# Separate short transactions, so that no request waits on a batch's write lock (on SQLite
# the counters live in their own file): read the token, count the request, and - once a
# minute per token - stamp last_used_at.
def _authenticate(
    database: Database,
    session: Session | None,
    raw: str | None,
    scope: str,
    resource: str | None,
    now: datetime,
) -> tuple[Principal, bool]:
    token = raw.strip() if raw else None
    if session is not None:
        return auth_service.authenticate(session, token, required=scope, resource=resource, now=now)
    with database.unit_of_work(write=False) as own:
        return auth_service.authenticate(own, token, required=scope, resource=resource, now=now)


def _count_and_record(
    database: Database,
    principal: Principal,
    scope: str,
    policy: RateLimit | None,
    stale: bool,
    now: datetime,
) -> RateDecision | None:
    decision = None
    if policy is not None:
        with database.counters() as counters:
            decision = auth_service.count_request(
                counters, principal, required=scope, policy=policy, now=now
            )
    if stale:
        with database.unit_of_work() as session:
            auth_service.record_use(session, principal.token_id, now)
    return decision
