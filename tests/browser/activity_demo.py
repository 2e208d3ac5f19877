"""Demo data for the Activity dashboard's screenshots: four weeks of answered mentions (with
the measures the inbox stamps at the first response), closed cases and NPS answers, spread
over weekdays and weekends so that every chart has something to show."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from carebase.kit.stats import bin_of
from tests.activity.case_helpers import add_answer, add_case, add_form, add_invitation
from tests.inbox.conftest import make_mention

STATES = ("closed", "closed", "responded", "closed", "no_response_required", "in_progress", "new")


def demo_activity(session: Any, agent_id: int, now: datetime) -> None:
    """Mentions for the last 28 days (fewer at weekends), a case a day, a week of answers."""
    start = (now - timedelta(days=27)).replace(hour=9, minute=0, second=0, microsecond=0)
    for day in range(28):
        morning = start + timedelta(days=day)
        count = 3 if morning.weekday() >= 5 else 6 + day % 4
        for n in range(count):
            state = STATES[(day + n) % len(STATES)]
            answered = state not in ("new", "in_progress")
            wait = 600.0 * (1 + (day * 7 + n * 3) % 17) if answered else None
            action = wait / 3 if wait is not None else None
            make_mention(
                session,
                published_at=morning + timedelta(minutes=47 * n),
                author_fullname=f"Customer {day}-{n}",
                state=state,
                assignee_id=agent_id if state != "new" else None,
                first_responder_id=agent_id if answered else None,
                response_s=wait,
                action_s=action,
                response_bin=bin_of(wait),
                action_bin=bin_of(action),
                broke_sla=(wait or 0) > 7200 if answered else None,
                broke_action_sla=(action or 0) > 3600 if answered else None,
                responded_in_private=n % 4 == 0 if answered else None,
            )
        add_case(
            session,
            morning,
            morning + timedelta(hours=5 + day % 9),
            first_reply_s=900.0 + 60 * (day % 11),
            resolution_s=3600.0 * (2 + day % 5),
            agent_replies=1 + day % 3,
            agents_involved=1,
        )
    form = add_form(session, start)
    for day in range(14, 28):
        at = start + timedelta(days=day, hours=3)
        for _ in range(3):
            add_invitation(session, form, at, agent_id, [])
        for score in (10, 9, 7, 3)[: 1 + day % 4]:
            add_answer(session, form, at + timedelta(hours=2), score, agent_id)
