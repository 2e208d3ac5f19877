"""The SLA and cases API: SLA policies, business hours, cases, the inbox settings and a
mention's SLA measures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from carebase.auth.scopes import INBOX_READ, INBOX_WRITE
from carebase.auth.service import Principal
from carebase.errors import NotFound
from carebase.http.deps import DbSession, Now, require_scope
from carebase.http.routing import JSONRoute
from carebase.inbox import cases, cases_repository, policies, sla
from carebase.inbox import settings as inbox_settings
from carebase.inbox.sla_schemas import (
    CaseDetailOut,
    CaseMentionOut,
    CaseOut,
    CasePage,
    CaseResponseOut,
    HoursOut,
    HoursPatch,
    HoursWrite,
    MentionSlaOut,
    PolicyOut,
    PolicyPatch,
    PolicyWrite,
    SettingsOut,
    SettingsPatch,
    TimerOut,
)
from carebase.kit.pagination import Cursor, decode, encode
from carebase.models import Case, Mention

router = APIRouter(tags=["inbox"], route_class=JSONRoute)
Reader = Annotated[Principal, Depends(require_scope(INBOX_READ))]
Writer = Annotated[Principal, Depends(require_scope(INBOX_WRITE))]
_IN_USE: dict[int | str, dict[str, Any]] = {409: {"description": "Still used (`in_use`)."}}
_NAMED: dict[int | str, dict[str, Any]] = {
    409: {"description": "Another one has this name (`name_taken`)."}
}


# --- SLA policies -------------------------------------------------------------------------


@router.get("/v1/sla-policies", operation_id="listSlaPolicies", response_model=list[PolicyOut])
def list_policies(_reader: Reader, session: DbSession) -> list[PolicyOut]:
    """Every SLA policy (the default one is created on first use: 2 h / 2 h, calendar)."""
    return [
        PolicyOut.model_validate(p, from_attributes=True) for p in policies.list_policies(session)
    ]


@router.post(
    "/v1/sla-policies",
    status_code=201,
    operation_id="createSlaPolicy",
    response_model=PolicyOut,
    responses=_NAMED,
)
def create_policy(body: PolicyWrite, _writer: Writer, session: DbSession, now: Now) -> PolicyOut:
    """A new SLA policy."""
    policy = policies.create_policy(session, body.model_dump(), now)
    return PolicyOut.model_validate(policy, from_attributes=True)


@router.get("/v1/sla-policies/{policy_id}", operation_id="getSlaPolicy", response_model=PolicyOut)
def get_policy(policy_id: str, _reader: Reader, session: DbSession) -> PolicyOut:
    """One SLA policy."""
    return PolicyOut.model_validate(policies.get_policy(session, policy_id), from_attributes=True)


@router.patch(
    "/v1/sla-policies/{policy_id}",
    operation_id="updateSlaPolicy",
    response_model=PolicyOut,
    responses=_NAMED,
)
def update_policy(
    policy_id: str, body: PolicyPatch, _writer: Writer, session: DbSession, now: Now
) -> PolicyOut:
    """Change an SLA policy: new mentions are measured against it, old ones keep theirs."""
    policy = policies.update_policy(session, policy_id, body.model_dump(exclude_unset=True), now)
    return PolicyOut.model_validate(policy, from_attributes=True)


@router.delete(
    "/v1/sla-policies/{policy_id}",
    status_code=204,
    operation_id="deleteSlaPolicy",
    responses=_IN_USE,
)
def delete_policy(policy_id: str, _writer: Writer, session: DbSession) -> Response:
    """Delete a policy no queue uses that is not the default."""
    policies.delete_policy(session, policy_id)
    return Response(status_code=204)


# --- Business hours -----------------------------------------------------------------------


def _hours_out(hours: Any) -> HoursOut:
    return HoursOut.model_validate(hours, from_attributes=True)


@router.get("/v1/business-hours", operation_id="listBusinessHours", response_model=list[HoursOut])
def list_hours(_reader: Reader, session: DbSession) -> list[HoursOut]:
    """Every set of business hours."""
    return [_hours_out(h) for h in policies.list_hours(session)]


@router.post(
    "/v1/business-hours",
    status_code=201,
    operation_id="createBusinessHours",
    responses=_NAMED,
    response_model=HoursOut,
)
def create_hours(body: HoursWrite, _writer: Writer, session: DbSession, now: Now) -> HoursOut:
    """New business hours: an IANA zone, intervals per weekday, holidays."""
    return _hours_out(policies.create_hours(session, body.model_dump(), now))


@router.get(
    "/v1/business-hours/{hours_id}", operation_id="getBusinessHours", response_model=HoursOut
)
def get_hours(hours_id: str, _reader: Reader, session: DbSession) -> HoursOut:
    """One set of business hours."""
    return _hours_out(policies.get_hours(session, hours_id))


@router.patch(
    "/v1/business-hours/{hours_id}",
    operation_id="updateBusinessHours",
    response_model=HoursOut,
    responses=_NAMED,
)
def update_hours(
    hours_id: str, body: HoursPatch, _writer: Writer, session: DbSession, now: Now
) -> HoursOut:
    """Change business hours: new mentions are measured in them, old ones keep theirs."""
    return _hours_out(
        policies.update_hours(session, hours_id, body.model_dump(exclude_unset=True), now)
    )


@router.delete(
    "/v1/business-hours/{hours_id}",
    status_code=204,
    operation_id="deleteBusinessHours",
    responses=_IN_USE,
)
def delete_hours(hours_id: str, _writer: Writer, session: DbSession) -> Response:
    """Delete business hours no policy uses."""
    policies.delete_hours(session, hours_id)
    return Response(status_code=204)


# --- Inbox settings -----------------------------------------------------------------------


@router.get("/v1/inbox/settings", operation_id="getInboxSettings", response_model=SettingsOut)
def get_settings(_reader: Reader, session: DbSession, now: Now) -> SettingsOut:
    """The inbox's settings (case timeout, idle timeout, reply destination, NPS form)."""
    row = inbox_settings.read_settings(session, now)
    return SettingsOut.model_validate(row, from_attributes=True)


@router.patch("/v1/inbox/settings", operation_id="updateInboxSettings", response_model=SettingsOut)
def update_settings(
    body: SettingsPatch, _writer: Writer, session: DbSession, now: Now
) -> SettingsOut:
    """Change some inbox settings."""
    row = inbox_settings.update_settings(session, body.model_dump(exclude_unset=True), now)
    return SettingsOut.model_validate(row, from_attributes=True)


# --- Cases --------------------------------------------------------------------------------


def _case_out(case: Case) -> CaseOut:
    return CaseOut.model_validate(case, from_attributes=True)


@router.get("/v1/cases", operation_id="listCases", response_model=CasePage)
def list_cases(
    _reader: Reader,
    session: DbSession,
    status: Literal["open", "closed"] | None = None,
    profile_id: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CasePage:
    """Cases, newest opened first."""
    after = decode(cursor, datetime, str) if cursor else None
    rows = cases_repository.page(
        session,
        status=status,
        profile_id=profile_id,
        after=(after[0], after[1]) if after else None,
        limit=limit + 1,
    )
    following = encode(rows[limit - 1].opened_at, rows[limit - 1].id) if len(rows) > limit else None
    return CasePage(items=[_case_out(c) for c in rows[:limit]], next_cursor=following)


@router.get("/v1/cases/{case_id}", operation_id="getCase", response_model=CaseDetailOut)
def get_case(case_id: str, _reader: Reader, session: DbSession) -> CaseDetailOut:
    """A case with its mentions, responses, agents involved and interactions."""
    found = cases.detail(session, case_id)
    case = found.case
    first_reply = (
        (cases.as_utc(case.first_reply_at) - cases.as_utc(case.opened_at)).total_seconds()
        if case.first_reply_at is not None
        else None
    )
    return CaseDetailOut(
        **_case_out(case).model_dump(),
        mentions=[CaseMentionOut.model_validate(m, from_attributes=True) for m in found.mentions],
        responses=[
            CaseResponseOut.model_validate(r, from_attributes=True) for r in found.responses
        ],
        interactions=found.interactions,
        agents_involved=found.agents_involved,
        classification_ids=found.classification_ids,
        first_reply_seconds=first_reply,
        resolution_seconds=found.resolution_seconds,
    )


# --- A mention's SLA ----------------------------------------------------------------------


def _mention(session: Session, mention_id: str) -> Mention:
    mention = session.get(Mention, mention_id)
    if mention is None:
        raise NotFound(f"mention {mention_id} not found")
    return mention


def _timer_out(timer: sla.Timer) -> TimerOut:
    return TimerOut(
        target_seconds=timer.target_s,
        started_at=timer.started_at,
        due_at=timer.due_at,
        remaining_seconds=timer.remaining_s,
        stopped=timer.stopped,
        breached=timer.breached,
    )


@router.get(
    "/v1/mentions/{mention_id}/sla", operation_id="getMentionSla", response_model=MentionSlaOut
)
def mention_sla(mention_id: str, _reader: Reader, session: DbSession, now: Now) -> MentionSlaOut:
    """A mention's SLA spans (calendar and business time) and its two clocks, against the
    policy it keeps from when it arrived."""
    mention = _mention(session, mention_id)
    measured = sla.measure(mention, now)
    clocks = sla.timers(mention, now)
    return MentionSlaOut(
        mention_id=mention.id,
        policy=dict(mention.sla or {}),
        business_time=clocks.business_time,
        in_queue_seconds=measured.in_queue_s,
        action_seconds=measured.action_s,
        customer_wait_seconds=measured.customer_wait_s,
        in_queue_business_seconds=measured.in_queue_business_s,
        action_business_seconds=measured.action_business_s,
        customer_wait_business_seconds=measured.customer_wait_business_s,
        within_customer_sla=measured.within_customer_sla,
        within_agent_sla=measured.within_agent_sla,
        customer=_timer_out(clocks.customer),
        agent=_timer_out(clocks.agent),
    )
