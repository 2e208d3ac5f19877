"""A mention's SLA clocks as the inbox shows them: the customer's (published → first
response) and the agent's (assigned → first response), each with time left or overdue."""

from __future__ import annotations

from datetime import datetime, timedelta

from carebase.models import Mention
from carebase.web.pages.inbox_shared import Timer


def timers_of(mention: Mention, now: datetime) -> list[Timer]:
    """The mention's two clocks, from the policy snapshot it arrived with."""
    snapshot = mention.sla or {}
    responded = mention.first_response_at
    clocks = (
        ("Customer", mention.published_at, snapshot.get("customer_sla_seconds")),
        ("Agent", mention.assigned_at, snapshot.get("agent_sla_seconds")),
    )
    shown: list[Timer] = []
    for label, start, seconds in clocks:
        if start is None or not isinstance(seconds, int | float):
            shown.append(Timer(label, None, None, breached=False, met=False))
            continue
        due = start + timedelta(seconds=float(seconds))
        if responded is not None:
            met = responded <= due
            shown.append(Timer(label, due, None, breached=not met, met=met))
            continue
        remaining = (due - now).total_seconds()
        shown.append(Timer(label, due, remaining, breached=remaining < 0, met=False))
    return shown
