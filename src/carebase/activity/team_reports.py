"""The Team section's report types: each agent's mentions and responses (`user_summary`)
and each agent's mentions by current state (`user_volume`), over the mention cohort."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from carebase.activity import team_repository as repository
from carebase.activity.registry import ReportQuery, report
from carebase.inbox.workflow import CLOSED_STATES, STATES
from carebase.kit import stats
from carebase.kit.stats import Distribution

SECTION = "Team"


def summary_row(
    user_id: int,
    name: tuple[str, str] | tuple[None, None],
    assigned: int,
    responded: repository.Responded,
    response: Distribution,
    action: Distribution,
) -> dict[str, Any]:
    """One user's `user_summary` row, in the reference's field order (then ours)."""
    first_name, last_name = name
    n = responded.responded
    return {
        "first_name": first_name,
        "last_name": last_name,
        "mentions_assigned": assigned,
        # The reference answers this one id as a string (and user_volume's as a number).
        "user_id": str(user_id),
        "responded_to": n,
        "responded_to_in_private": responded.in_private,
        "avg_response_time": response.mean,
        "min_response_time": response.minimum,
        "max_response_time": response.maximum,
        "avg_action_response_time": action.mean,
        "min_action_response_time": action.minimum,
        "max_action_response_time": action.maximum,
        "total_responded_to": n,
        "broke_sla": responded.broke_sla,
        "broke_action_sla": responded.broke_action_sla,
        "avg_response_time_min": stats.minutes(response.mean),
        "avg_action_response_time_min": stats.minutes(action.mean),
        "fraction_responded_to": stats.ratio(n, assigned),
        # The reference's sample values divide these three by responded_to.
        "fraction_responded_to_in_private": stats.ratio(responded.in_private, n),
        "fraction_broke_sla": stats.ratio(responded.broke_sla, n),
        "fraction_broke_action_sla": stats.ratio(responded.broke_action_sla, n),
        "median_response_time": response.median,
        "p90_response_time": response.p90,
        "median_action_response_time": action.median,
        "p90_action_response_time": action.p90,
    }


_NOBODY = repository.Responded(0, 0, 0, 0)


@report("user_summary", title="Agent summary", section=SECTION)
def user_summary(session: Session, query: ReportQuery) -> list[dict[str, Any]]:
    """Per agent: mentions assigned to them now, the mentions they first responded to (in
    private, breaking the SLA or the agent's SLA, and the fractions of those), and their
    response and action times in seconds (mean, minimum, maximum, median, 90th percentile)
    and minutes. Agents with no assigned or answered mention are left out; ordered by
    mentions assigned (most first), then user id."""
    assigned = repository.assigned_counts(session, query)
    responded = repository.responded_counts(session, query)
    response, action = repository.response_distributions(session, query)
    users = sorted(set(assigned) | set(responded), key=lambda u: (-assigned.get(u, 0), u))
    names = repository.names(session, users)
    return [
        summary_row(
            user,
            names.get(user, (None, None)),
            assigned.get(user, 0),
            responded.get(user, _NOBODY),
            response.get(user, stats.EMPTY),
            action.get(user, stats.EMPTY),
        )
        for user in users
    ]


def volume_states(counts: dict[str, int]) -> dict[str, int]:
    """The `states` object of a user_volume row: the total, the closed total, then each
    state in workflow order (zeros included)."""
    return {
        "all_states": sum(counts.values()),
        "all_closed_states": sum(n for state, n in counts.items() if state in CLOSED_STATES),
        **{state: counts.get(state, 0) for state in STATES},
    }


@report("user_volume", title="Agent volume", section=SECTION)
def user_volume(session: Session, query: ReportQuery) -> list[dict[str, Any]]:
    """Per agent: the mentions currently assigned to them, in total, closed (any closing
    state) and per current state. Ordered by total (most first), then user id."""
    counts = repository.state_counts(session, query)
    rows = [(user, volume_states(per_state)) for user, per_state in counts.items()]
    rows.sort(key=lambda row: (-row[1]["all_states"], row[0]))
    names = repository.names(session, counts)
    answer = []
    for user, states in rows:
        first_name, last_name = names.get(user, (None, None))
        answer.append(
            {"user_id": user, "first_name": first_name, "last_name": last_name, "states": states}
        )
    return answer
