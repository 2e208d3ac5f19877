"""Profile Read API, merge history, forget, and the suppression list."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from carebase.auth.scopes import ADMIN, PROFILES_READ
from carebase.auth.service import Principal
from carebase.errors import NotFound, ValidationFailed, problem
from carebase.http.deps import DbSession, Now, get_database, require_scope
from carebase.http.routing import JSONRoute
from carebase.identity import service as identity
from carebase.identity.links import SYSTEM_SCOPED, Link
from carebase.kit.pagination import Cursor
from carebase.profiles import history, merges, search, service
from carebase.profiles.schemas import (
    Forgotten,
    HistoryItemOut,
    HistoryPage,
    MergeHistory,
    MergeOut,
    ProfileOut,
    SearchHitOut,
    SearchResultOut,
    SuppressionOut,
    SuppressionPage,
    UndoneMerge,
)

router = APIRouter(tags=["profiles"], route_class=JSONRoute)
Reader = Annotated[Principal, Depends(require_scope(PROFILES_READ))]
Admin = Annotated[Principal, Depends(require_scope(ADMIN))]
TicketCount = Annotated[int, Query(ge=0, le=100, description="How many recent tickets.")]


def _json(profile: ProfileOut) -> Response:
    # The model is built from the database, so FastAPI's response_model pass (dump, validate
    # again, serialise) would repeat work: serialise once. response_model still documents it.
    return Response(profile.model_dump_json(), media_type="application/json")


@router.get(
    "/v1/profiles/by/{link_type}/{value:path}",
    operation_id="getProfileByLink",
    response_model=ProfileOut,
)
async def get_profile_by_link(
    link_type: Literal[
        "email", "mobile", "customer_id", "external_id", "email_sha256", "email_md5"
    ],
    value: str,
    request: Request,
    _reader: Reader,
    session: DbSession,
    now: Now,
    system_name: Annotated[str, Query(max_length=100)] = "",
    tickets: TicketCount = 10,
) -> Response:
    """The profile owning a link: email, mobile, email_sha256, email_md5, or a customer_id
    or external_id with `?system_name=`. A hashed email finds the profile holding the plain
    email, and the other way round."""
    normaliser = request.app.state.ingest_config.normaliser
    raw: dict[str, str | None] = {link_type: value}
    if link_type in SYSTEM_SCOPED:
        raw["system_name"] = system_name
    normalised = normaliser.normalise(raw)
    if normalised.errors:
        raise ValidationFailed(details=[problem("value", normalised.errors[0]["reason"])])
    if not normalised.links:
        raise NotFound(f"No profile has that {link_type}.")
    link: Link = normalised.links[0]
    if get_database(request).dialect == "sqlite":
        # Three indexed SELECTs on a WAL snapshot: page-cache lookups that never wait for a
        # writer, cheaper than the hop to a worker thread and back (as the token read).
        view = service.read_by_link(session, link, tickets=tickets, now=now)
    else:
        # Network round trips on PostgreSQL: on one worker thread, in one hop (a sync
        # endpoint costs a hop for the handler and another for response validation).
        view = await run_in_threadpool(
            service.read_by_link, session, link, tickets=tickets, now=now
        )
    return _json(view.out())


# Declared before /v1/profiles/{profile_id}, which would otherwise take "search" for an id.
@router.get("/v1/profiles/search", operation_id="searchProfiles", response_model=SearchResultOut)
def search_profiles(
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=search.MAX_QUERY,
            description="An email, mobile, customer or external id, or name, or its start.",
        ),
    ],
    _reader: Reader,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> SearchResultOut:
    """Profiles whose email, mobile, customer id, external id or name starts with `q`, best
    match first (exact before prefix; email, mobile, ids, then names). Case and accents are
    ignored for names; a phone number may be typed with spaces or without its `+`."""
    found = search.search(session, q, limit=limit)
    return SearchResultOut(
        items=[
            SearchHitOut(
                profile_id=hit.profile_id,
                name=hit.name,
                email=hit.email,
                mobile=hit.mobile,
                customer_id=hit.customer_id,
                matched_field=hit.field,
                matched_value=hit.value,
            )
            for hit in found.hits
        ],
        truncated=found.truncated,
    )


@router.get("/v1/profiles/{profile_id}", operation_id="getProfile", response_model=ProfileOut)
def get_profile(
    profile_id: str, _reader: Reader, session: DbSession, now: Now, tickets: TicketCount = 10
) -> ProfileOut:
    """A profile: links, attributes, recent tickets. A merged id answers with its survivor."""
    return service.read(session, profile_id, tickets=tickets, now=now).out()


@router.get(
    "/v1/profiles/{profile_id}/history",
    operation_id="getProfileHistory",
    response_model=HistoryPage,
)
def get_profile_history(
    profile_id: str,
    _reader: Reader,
    session: DbSession,
    order: Annotated[
        Literal["newest", "oldest"], Query(description="newest first (default) or oldest first")
    ] = "newest",
    type: Annotated[
        list[str] | None,
        Query(description="Only these record types (repeat, or comma-separate).", max_length=20),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> HistoryPage:
    """Tickets, purchases, returns, email and SMS events in one stream, newest first, each
    with a one-line summary and its full record."""
    types = [name.strip() for value in type or [] for name in value.split(",") if name.strip()]
    live_id, items, next_cursor = history.read(
        session,
        profile_id,
        types=types,
        newest_first=order == "newest",
        cursor=cursor,
        limit=limit,
    )
    return HistoryPage(
        profile_id=live_id,
        order=order,
        items=[HistoryItemOut.model_validate(item, from_attributes=True) for item in items],
        next_cursor=next_cursor,
    )


@router.get(
    "/v1/profiles/{profile_id}/merges", operation_id="getProfileMerges", response_model=MergeHistory
)
def get_profile_merges(profile_id: str, _reader: Reader, session: DbSession) -> MergeHistory:
    """Every merge that built this profile: which links, which rule, when."""
    live_id = identity.live_profile_id(session, profile_id)
    if live_id is None:
        raise NotFound(f"No profile with id {profile_id!r}.")
    merges = identity.merge_history(session, live_id)
    return MergeHistory(
        profile_id=live_id,
        merges=[MergeOut.model_validate(merge, from_attributes=True) for merge in merges],
    )


@router.post(
    "/v1/profiles/{profile_id}/merges/{merge_id}/undo",
    operation_id="undoProfileMerge",
    response_model=UndoneMerge,
    responses={409: {"description": "The merge was already undone, or can no longer be."}},
)
def undo_profile_merge(
    profile_id: str,
    merge_id: str,
    request: Request,
    admin: Admin,
    session: DbSession,
    now: Now,
) -> UndoneMerge:
    """Split a merged profile back in two: the merged profile comes back with its own links
    and records, both profiles' attributes are rebuilt, and the pair is kept apart."""
    undone = merges.undo_merge(
        session,
        profile_id,
        merge_id,
        normaliser=request.app.state.ingest_config.normaliser,
        now=now,
        by=admin.token_id,
    )
    return UndoneMerge(
        merge=MergeOut.model_validate(undone.merge, from_attributes=True),
        survivor_id=undone.survivor_id,
        restored_id=undone.restored_id,
        links_restored=undone.links,
        records_restored=undone.records,
    )


@router.delete("/v1/profiles/{profile_id}", operation_id="forgetProfile", response_model=Forgotten)
def forget_profile(profile_id: str, _admin: Admin, session: DbSession, now: Now) -> Forgotten:
    """Forget a profile: delete it, its links, tickets and attributes; suppress its links."""
    live_id, suppressed = service.forget(session, profile_id, now=now)
    return Forgotten(profile_id=live_id, links_suppressed=suppressed)


@router.get("/v1/suppressions", operation_id="listSuppressions", response_model=SuppressionPage)
def list_suppressions(
    _admin: Admin,
    session: DbSession,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Annotated[
        str | None, Query(max_length=512, deprecated=True, description="The S2 name of `cursor`.")
    ] = None,
) -> SuppressionPage:
    """Suppressed links (hashes only), oldest first."""
    rows, following = identity.suppression_page(session, limit=limit, after=cursor or after)
    items = [SuppressionOut.model_validate(row, from_attributes=True) for row in rows]
    return SuppressionPage(items=items, suppressions=items, next_cursor=following)


@router.delete(
    "/v1/suppressions/{suppression_id}",
    operation_id="liftSuppression",
    status_code=204,
)
def lift_suppression(suppression_id: str, _admin: Admin, session: DbSession) -> None:
    """Lift a suppression: records with that link are accepted again."""
    identity.lift_suppression(session, suppression_id)
