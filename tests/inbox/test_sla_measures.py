"""SLA measures of a mention with a fixed clock, in calendar and in business time, against
the snapshot the mention keeps (no database: measure and timers read the mention only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from carebase.inbox.sla import measure, timers
from carebase.models import Mention

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
SYDNEY = ZoneInfo("Australia/Sydney")
CALENDAR: dict[str, Any] = {
    "id": "sla_1",
    "name": "Default",
    "customer_sla_seconds": 7200,
    "agent_sla_seconds": 3600,
    "business_hours": None,
}
OFFICE_SYDNEY: dict[str, Any] = {
    **CALENDAR,
    "customer_sla_seconds": 4 * 3600,
    "agent_sla_seconds": 3600,
    "business_hours": {
        "id": "bhr_1",
        "name": "Sydney office",
        "timezone": "Australia/Sydney",
        "intervals": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
        "holidays": [{"date": "2026-03-09", "name": "Canberra Day", "start": None, "end": None}],
    },
}


def _mention(sla: dict[str, Any], published: datetime, **times: datetime | None) -> Mention:
    return Mention(
        id="men_test",
        sla=sla,
        published_at=published,
        assigned_at=times.get("assigned"),
        first_response_at=times.get("responded"),
    )


def _sydney(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SYDNEY).astimezone(UTC)  # type: ignore[misc]


def test_calendar_spans_and_outcomes() -> None:
    mention = _mention(
        CALENDAR,
        T,
        assigned=T + timedelta(minutes=30),
        responded=T + timedelta(minutes=150),
    )
    result = measure(mention, T + timedelta(days=1))
    assert result.in_queue_s == 1800
    assert result.action_s == 7200
    # The customer waited to accept and to answer: their sum (Lexer's SLA screenshot).
    assert result.customer_wait_s == result.in_queue_s + result.action_s == 9000
    # With a calendar policy, business time is calendar time.
    assert result.customer_wait_business_s == 9000
    assert result.within_customer_sla is False  # 2.5 h > 2 h
    assert result.within_agent_sla is False  # 2 h > 1 h
    clocks = timers(mention, T + timedelta(days=1))
    assert clocks.business_time is False
    assert clocks.customer.due_at == T + timedelta(hours=2)
    assert clocks.customer.stopped is True
    assert clocks.customer.breached is True
    assert clocks.customer.remaining_s == -1800


def test_answered_exactly_at_the_deadline_is_within() -> None:
    mention = _mention(
        CALENDAR, T, assigned=T + timedelta(hours=1), responded=T + timedelta(hours=2)
    )
    result = measure(mention)
    assert result.within_customer_sla is True
    assert result.within_agent_sla is True
    assert timers(mention, None).customer.remaining_s == 0


def test_unanswered_is_undecided_until_the_deadline_passes() -> None:
    mention = _mention(CALENDAR, T)
    early = measure(mention, T + timedelta(minutes=90))
    assert early.customer_wait_s is None
    assert early.within_customer_sla is None
    # Never assigned: the agent's clock has not started.
    assert early.within_agent_sla is None
    clock = timers(mention, T + timedelta(minutes=90))
    assert clock.customer.remaining_s == 1800
    assert clock.customer.breached is False
    assert clock.agent.due_at is None
    late = measure(mention, T + timedelta(hours=3))
    assert late.within_customer_sla is False
    assert timers(mention, T + timedelta(hours=3)).customer.remaining_s == -3600
    # Without a clock, an unanswered mention is never counted as breached.
    assert measure(mention).within_customer_sla is None


def test_a_response_before_any_assignment_leaves_the_agent_clock_unstarted() -> None:
    mention = _mention(CALENDAR, T, responded=T + timedelta(minutes=10))
    result = measure(mention, T + timedelta(days=2))
    assert result.customer_wait_s == 600
    assert result.in_queue_s is None
    assert result.action_s is None
    assert result.within_customer_sla is True
    assert result.within_agent_sla is None


def test_business_time_counts_only_office_hours_and_skips_the_holiday() -> None:
    # Friday 6 March 16:00 in Sydney; accepted Tuesday 10 March 09:30 (Monday is a
    # holiday), answered at 10:30.
    published = _sydney(2026, 3, 6, 16, 0)
    mention = _mention(
        OFFICE_SYDNEY,
        published,
        assigned=_sydney(2026, 3, 10, 9, 30),
        responded=_sydney(2026, 3, 10, 10, 30),
    )
    result = measure(mention, _sydney(2026, 3, 11, 9, 0))
    assert result.in_queue_business_s == 1.5 * 3600
    assert result.action_business_s == 3600
    assert result.customer_wait_business_s == 2.5 * 3600
    # In calendar time the customer waited four days.
    assert result.customer_wait_s == (_sydney(2026, 3, 10, 10, 30) - published).total_seconds()
    assert result.within_customer_sla is True  # 2.5 business hours <= 4
    assert result.within_agent_sla is True  # 1 business hour <= 1
    clocks = timers(mention, None)
    assert clocks.business_time is True
    # Four business hours from Friday 16:00: 1 on Friday, 3 on Tuesday (Monday off).
    assert clocks.customer.due_at == _sydney(2026, 3, 10, 12, 0)
    assert clocks.customer.remaining_s == 1.5 * 3600


def test_an_unanswered_mention_over_the_weekend_is_not_breached_in_business_time() -> None:
    published = _sydney(2026, 3, 13, 16, 30)  # Friday
    mention = _mention(OFFICE_SYDNEY, published)
    saturday = _sydney(2026, 3, 14, 12, 0)
    assert measure(mention, saturday).within_customer_sla is None
    assert timers(mention, saturday).customer.remaining_s == 3.5 * 3600
    # Calendar policy with the same target would have broken long since.
    calendar = _mention({**CALENDAR, "customer_sla_seconds": 4 * 3600}, published)
    assert measure(calendar, saturday).within_customer_sla is False
    monday_noon = _sydney(2026, 3, 16, 13, 0)
    assert measure(mention, monday_noon).within_customer_sla is False
    clock = timers(mention, monday_noon).customer
    assert clock.due_at == _sydney(2026, 3, 16, 12, 30)
    assert clock.remaining_s == -1800
    assert clock.breached is True


def test_a_message_dated_at_either_end_of_the_calendar_is_measured() -> None:
    # Each was a 500 from GET /v1/mentions/{id}/sla: the date is the customer's, and intake
    # takes any year from 1 to 9999. Business time is counted from 1900 to 9000.
    first = datetime(1, 1, 1, tzinfo=UTC)
    last = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    for sla in (CALENDAR, OFFICE_SYDNEY):
        early = timers(_mention(sla, first), T)
        assert early.customer.due_at is not None
        assert early.customer.due_at < T
        assert early.customer.remaining_s is not None
        assert early.customer.remaining_s < 0
        assert measure(_mention(sla, first, responded=T), T).within_customer_sla is False
        late = timers(_mention(sla, last), T)
        assert late.customer.remaining_s is None or late.customer.remaining_s > 0
        assert late.customer.breached is False
