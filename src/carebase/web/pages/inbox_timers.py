"""A mention's SLA clocks as the inbox shows them (from `carebase.inbox.sla.timers`): the
customer's (published → first response) and the agent's (assigned → first response), each
with the time left or how long overdue."""

from __future__ import annotations

from datetime import datetime

from carebase.inbox import sla
from carebase.models import Mention
from carebase.web.pages.inbox_shared import Timer


def _shown(label: str, timer: sla.Timer) -> Timer:
    if timer.started_at is None:
        return Timer(label, None, None, breached=False, met=False)
    if timer.stopped:
        return Timer(label, timer.due_at, None, breached=timer.breached, met=not timer.breached)
    return Timer(label, timer.due_at, timer.remaining_s, breached=timer.breached, met=False)


def timers_of(mention: Mention, now: datetime) -> list[Timer]:
    """The mention's two clocks, against the policy snapshot it arrived with."""
    clocks = sla.timers(mention, now)
    return [_shown("Customer", clocks.customer), _shown("Agent", clocks.agent)]
