"""SLA measures of a mention, against the policy snapshot it keeps (Mention.sla).

Three spans, each in calendar time and in business time (engage-anchors §4):
- in_queue = assigned_at - published_at (waiting for an agent to take it),
- action = first_response_at - assigned_at (the agent's clock, Lexer's `broke_action_sla`),
- customer_wait = first_response_at - published_at (the customer's clock, `broke_sla`).
With a calendar policy (no business hours in the snapshot) business time is calendar time.

A clock's deadline is its start plus the target in the policy's time (calendar seconds, or
working seconds of the snapshot's hours). `within_*` is True when the first response came by
the deadline, False when it came later or the deadline passed unanswered, None while it is
unanswered and not yet due (or, for the agent's clock, when it was never assigned).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from carebase.db.locks import lock_keys
from carebase.ids import new_id
from carebase.inbox import sla_repository as repository
from carebase.inbox.business_hours import Schedule, add_business_seconds, business_seconds
from carebase.kit.stats import bin_of
from carebase.models import BusinessHours, Mention, SlaPolicy

DEFAULT_POLICY_NAME = "Default"
DEFAULT_SECONDS = 7200


def default_policy(session: Session, now: datetime | None = None) -> SlaPolicy:
    """The default policy, created on first use (2 h customer, 2 h agent, calendar time)."""
    found = repository.default_policy(session)
    if found is not None:
        return found
    # Two first uses at once (two intake batches) must create one: serialise on a key.
    lock_keys(session, ["sla:default-policy"])
    found = repository.default_policy(session)
    if found is not None:
        return found
    at = now or datetime.now(UTC)  # only a timestamp of creation; no measure depends on it
    name = DEFAULT_POLICY_NAME
    if repository.policy_named(session, name) is not None:
        name = f"{DEFAULT_POLICY_NAME} ({new_id('sla')[-6:]})"
    policy_id = new_id("sla")
    repository.add_policy(
        session,
        {
            "id": policy_id,
            "name": name,
            "customer_sla_seconds": DEFAULT_SECONDS,
            "agent_sla_seconds": DEFAULT_SECONDS,
            "business_hours_id": None,
            "is_default": True,
            "created_at": at,
            "updated_at": at,
        },
    )
    created = repository.get_policy(session, policy_id)
    assert created is not None
    return created


def hours_json(hours: BusinessHours) -> dict[str, Any]:
    """Business hours as kept in a snapshot."""
    return {
        "id": hours.id,
        "name": hours.name,
        "timezone": hours.timezone,
        "intervals": list(hours.intervals),
        "holidays": list(hours.holidays),
    }


def snapshot(session: Session, policy: SlaPolicy) -> dict[str, Any]:
    """The Mention.sla JSON of a policy as it is now."""
    hours = (
        repository.get_hours(session, policy.business_hours_id)
        if policy.business_hours_id is not None
        else None
    )
    return {
        "id": policy.id,
        "name": policy.name,
        "customer_sla_seconds": policy.customer_sla_seconds,
        "agent_sla_seconds": policy.agent_sla_seconds,
        "business_hours": hours_json(hours) if hours is not None else None,
    }


def snapshot_for_queue(
    session: Session, queue_id: str, now: datetime | None = None
) -> dict[str, Any]:
    """The Mention.sla JSON for a new mention of a queue: its policy, else the default one
    (created on first use with 7200 s / 7200 s calendar; `now` dates its creation)."""
    policy_id = repository.queue_policy_id(session, queue_id)
    policy = repository.get_policy(session, policy_id) if policy_id is not None else None
    return snapshot(session, policy or default_policy(session, now))


def schedule_of(sla: dict[str, Any] | None) -> Schedule | None:
    """The business schedule of a snapshot (None: calendar time)."""
    hours = (sla or {}).get("business_hours")
    if not hours:
        return None
    return Schedule.from_json(hours["timezone"], hours["intervals"], hours.get("holidays") or [])


@dataclass(frozen=True, slots=True)
class Measure:
    """A mention's SLA spans in seconds (None while a span has not ended)."""

    in_queue_s: float | None
    action_s: float | None
    customer_wait_s: float | None
    in_queue_business_s: float | None
    action_business_s: float | None
    customer_wait_business_s: float | None
    within_customer_sla: bool | None
    within_agent_sla: bool | None


@dataclass(frozen=True, slots=True)
class Timer:
    """One SLA clock: its deadline, the policy-time left (negative once past), whether it
    stopped (answered) and whether it broke."""

    target_s: int
    started_at: datetime | None
    due_at: datetime | None
    remaining_s: float | None
    stopped: bool
    breached: bool


@dataclass(frozen=True, slots=True)
class Timers:
    """The customer's and the agent's clocks of a mention."""

    business_time: bool
    customer: Timer
    agent: Timer


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _span(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max((end - start).total_seconds(), 0.0)


def _business(
    schedule: Schedule | None, start: datetime | None, end: datetime | None
) -> float | None:
    if start is None or end is None:
        return None
    if schedule is None:
        return _span(start, end)
    return business_seconds(schedule, start, end)


def _deadline(schedule: Schedule | None, start: datetime, seconds: float) -> datetime | None:
    if schedule is None:
        try:
            return start + timedelta(seconds=seconds)
        except OverflowError:  # a message dated at the end of the calendar: never due
            return None
    try:
        return add_business_seconds(schedule, start, seconds)
    except ValueError:  # hours with no working time ahead: never due
        return None


def _timer(
    schedule: Schedule | None,
    target: int,
    start: datetime | None,
    stop: datetime | None,
    now: datetime | None,
) -> Timer:
    if start is None:
        return Timer(target, None, None, None, stop is not None, False)
    due = _deadline(schedule, start, target)
    end = stop or now
    remaining: float | None = None
    if due is not None and end is not None:
        if end <= due:
            remaining = _business(schedule, end, due)
        else:
            remaining = -(_business(schedule, due, end) or 0.0)
    breached = due is not None and end is not None and end > due
    return Timer(target, start, due, remaining, stop is not None, breached)


def _within(timer: Timer) -> bool | None:
    if timer.started_at is None:
        return None
    if timer.breached:
        return False
    return True if timer.stopped else None


def timers(mention: Mention, now: datetime | None) -> Timers:
    """The customer's clock (published → first response) and the agent's (first assignment
    → first response) against the mention's snapshot."""
    sla = mention.sla or {}
    schedule = schedule_of(sla)
    published = _aware(mention.published_at)
    assigned = _aware(mention.assigned_at)
    responded = _aware(mention.first_response_at)
    now = _aware(now)
    customer = _timer(
        schedule, int(sla.get("customer_sla_seconds", DEFAULT_SECONDS)), published, responded, now
    )
    agent = _timer(
        schedule, int(sla.get("agent_sla_seconds", DEFAULT_SECONDS)), assigned, responded, now
    )
    return Timers(schedule is not None, customer, agent)


def measure(mention: Mention, now: datetime | None = None) -> Measure:
    """The mention's SLA spans and outcomes (see the module's docstring). Without `now`, an
    unanswered mention is never counted as breached."""
    sla = mention.sla or {}
    schedule = schedule_of(sla)
    published = _aware(mention.published_at)
    assigned = _aware(mention.assigned_at)
    responded = _aware(mention.first_response_at)
    clocks = timers(mention, now)
    # A response before the (first) assignment leaves the agent's clock unstarted.
    action_end = responded if assigned is not None and responded is not None else None
    return Measure(
        in_queue_s=_span(published, assigned),
        action_s=_span(assigned, action_end),
        customer_wait_s=_span(published, responded),
        in_queue_business_s=_business(schedule, published, assigned),
        action_business_s=_business(schedule, assigned, action_end),
        customer_wait_business_s=_business(schedule, published, responded),
        within_customer_sla=_within(clocks.customer),
        within_agent_sla=_within(clocks.agent),
    )


# Source types that are one-to-one conversations rather than public posts or comments
# (Lexer's "responded_to_in_private"): matched on the lower-cased source type's words.
_PRIVATE_WORDS = frozenset(
    {
        "dm",
        "dms",
        "direct",
        "private",
        "message",
        "messages",
        "messenger",
        "email",
        "mail",
        "chat",
        "sms",
        "whatsapp",
        "ticket",
        "voice",
        "phone",
        "call",
        "contact_form",
        "form",
    }
)


def private_channel(mention: Mention) -> bool:
    """Whether the mention came on a one-to-one channel (a DM, email, chat, SMS, a helpdesk
    ticket) rather than as a public post or comment."""
    if mention.origin in {"zendesk", "gorgias", "freshdesk"}:
        return True
    words = set(mention.source_type.lower().replace("-", "_").replace(" ", "_").split("_"))
    return bool(words & _PRIVATE_WORDS) or mention.source_type.lower() in _PRIVATE_WORDS


def stamp(mention: Mention) -> None:
    """Store the mention's response measures for the Activity reports (once its first
    public response is sent): calendar seconds and their bins, whether each SLA broke
    against its own policy, and whether it came on a private channel."""
    measured = measure(mention)
    mention.response_s = measured.customer_wait_s
    mention.action_s = measured.action_s
    mention.queue_s = measured.in_queue_s
    mention.response_bin = bin_of(measured.customer_wait_s)
    mention.action_bin = bin_of(measured.action_s)
    mention.broke_sla = (
        None if measured.within_customer_sla is None else not measured.within_customer_sla
    )
    mention.broke_action_sla = (
        None if measured.within_agent_sla is None else not measured.within_agent_sla
    )
    mention.responded_in_private = private_channel(mention)
