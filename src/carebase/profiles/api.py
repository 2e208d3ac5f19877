"""Profile Read API, merge history, forget, and the suppression list."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from carebase.auth.scopes import ADMIN, PROFILES_READ
from carebase.auth.service import Principal
from carebase.errors import NotFound, ValidationFailed
from carebase.http.deps import DbSession, Now, require_scope
from carebase.http.routing import JSONRoute
from carebase.identity import service as identity
from carebase.identity.links import SYSTEM_SCOPED, Link
from carebase.profiles import history, service
from carebase.profiles.schemas import (
    CommerceOut,
    CustomerOut,
    EngagementOut,
    Forgotten,
    HistoryItemOut,
    HistoryPage,
    LinkOut,
    MergeHistory,
    MergeOut,
    ProfileOut,
    SupportAttributesOut,
    SuppressionOut,
    SuppressionPage,
    TicketOut,
)

router = APIRouter(tags=["profiles"], route_class=JSONRoute)
Reader = Annotated[Principal, Depends(require_scope(PROFILES_READ))]
Admin = Annotated[Principal, Depends(require_scope(ADMIN))]
TicketCount = Annotated[int, Query(ge=0, le=100, description="How many recent tickets.")]


def _out(view: service.ProfileView) -> ProfileOut:
    return ProfileOut(
        id=view.id,
        resolved_from=view.requested_id if view.requested_id != view.id else None,
        created_at=view.created_at,
        updated_at=view.updated_at,
        links=[LinkOut(**link.as_dict()) for link in view.links],
        attributes=SupportAttributesOut(**view.attributes),
        customer=CustomerOut(**view.customer),
        commerce=CommerceOut(**view.commerce),
        engagement=EngagementOut(**view.engagement),
        tickets=[TicketOut.from_row(row) for row in view.tickets],
    )


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
        raise ValidationFailed(
            details=[{"field": "value", "message": normalised.errors[0]["reason"]}]
        )
    if not normalised.links:
        raise NotFound(f"No profile has that {link_type}.")
    link: Link = normalised.links[0]
    # Async, with the queries on one worker thread: a sync endpoint costs a hop for the
    # handler and another for FastAPI's response validation.
    view = await run_in_threadpool(service.read_by_link, session, link, tickets=tickets, now=now)
    return _json(_out(view))


@router.get("/v1/profiles/{profile_id}", operation_id="getProfile", response_model=ProfileOut)
def get_profile(
    profile_id: str, _reader: Reader, session: DbSession, now: Now, tickets: TicketCount = 10
) -> ProfileOut:
    """A profile: links, attributes, recent tickets. A merged id answers with its survivor."""
    return _out(service.read(session, profile_id, tickets=tickets, now=now))


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


@router.delete("/v1/profiles/{profile_id}", operation_id="forgetProfile", response_model=Forgotten)
def forget_profile(profile_id: str, _admin: Admin, session: DbSession, now: Now) -> Forgotten:
    """Forget a profile: delete it, its links, tickets and attributes; suppress its links."""
    live_id, suppressed = service.forget(session, profile_id, now=now)
    return Forgotten(profile_id=live_id, links_suppressed=suppressed)


@router.get("/v1/suppressions", operation_id="listSuppressions", response_model=SuppressionPage)
def list_suppressions(
    _admin: Admin,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Annotated[str | None, Query(max_length=40)] = None,
) -> SuppressionPage:
    """Suppressed links (hashes only), oldest first."""
    rows, cursor = identity.suppression_page(session, limit=limit, after=after)
    return SuppressionPage(
        suppressions=[SuppressionOut.model_validate(row, from_attributes=True) for row in rows],
        next_cursor=cursor,
    )


@router.delete(
    "/v1/suppressions/{suppression_id}",
    operation_id="liftSuppression",
    status_code=204,
)
def lift_suppression(suppression_id: str, _admin: Admin, session: DbSession) -> None:
    """Lift a suppression: records with that link are accepted again."""
    identity.lift_suppression(session, suppression_id)
