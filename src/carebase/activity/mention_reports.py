"""The Summary report types (summary, states_volume, states, classifications) and the SLA
section's response_volume: thin functions over mention_repository's aggregates, shaped as
activity-api.txt answers them (field order included)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from carebase.activity import mention_repository as repository
from carebase.activity.registry import ReportQuery, report
from carebase.activity.shapes import points
from carebase.activity.timebuckets import Window, slot_start
from carebase.inbox.workflow import STATES
from carebase.kit.stats import minutes

ALL_STATES = "all_states"


class _Slots:
    """Bucket index of `grouping_slot` values, each distinct slot looked up once (a slot
    repeats once per state in the grouped rows)."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self.seen: dict[Any, int | None] = {}

    def index(self, slot: Any) -> int | None:
        """The bucket holding the slot (None: outside the window's buckets)."""
        found = self.seen.get(slot, -1)
        if found == -1:
            start = slot
            if isinstance(slot, str) and len(slot) == len("2018-04-27 00"):
                start = f"{slot}:00"  # an hour (mention_repository.grouping_slot)
            found = self.seen[slot] = self.window.index(slot_start(start))
        return found


@report("summary", title="Summary", section="Summary")
def summary(session: Session, query: ReportQuery) -> dict[str, Any]:
    """Volume, responses, SLA breaches and response/action time statistics (seconds, and
    minutes in the `_min` fields) over the mentions published in the range."""
    counted, response, action = repository.summary(session, query)
    return {
        "total_volume": counted.volume,
        "avg_response_time": response.mean,
        "avg_action_response_time": action.mean,
        "total_responded_to": counted.responded,
        "broke_sla": counted.broke_sla,
        "broke_action_sla": counted.broke_action_sla,
        "min_response_time": response.minimum,
        "median_response_time": response.median,
        "max_response_time": response.maximum,
        "min_action_response_time": action.minimum,
        "median_action_response_time": action.median,
        "max_action_response_time": action.maximum,
        "avg_action_response_time_min": minutes(action.mean),
        "avg_response_time_min": minutes(response.mean),
        "median_action_response_time_min": minutes(action.median),
        "median_response_time_min": minutes(response.median),
        "p90_response_time": response.p90,
        "p90_action_response_time": action.p90,
        "p90_response_time_min": minutes(response.p90),
        "p90_action_response_time_min": minutes(action.p90),
        "response_time_count": response.count,
        "action_response_time_count": action.count,
    }


@report("states_volume", title="States volume", section="Summary")
def states_volume(session: Session, query: ReportQuery) -> dict[str, list[dict[str, Any]]]:
    """Per state, the mentions published in each interval that are in that state now."""
    window = query.window
    slots = _Slots(window)
    size = len(window.buckets())
    per_state = {state: [0] * size for state in STATES}
    for slot, state, n in repository.state_counts_per_slot(session, query):
        index = slots.index(slot)
        if index is not None and state in per_state:
            per_state[state][index] += n
    return {state: points(window, values, state=state) for state, values in per_state.items()}


@report("states", title="States", section="Summary")
def states(session: Session, query: ReportQuery) -> list[dict[str, Any]]:
    """The mentions published in the range per current state (states with mentions only),
    largest first."""
    counted = repository.state_counts(session, query)
    order = {state: n for n, state in enumerate(STATES)}
    present = [s for s in STATES if counted.get(s, 0) > 0]
    present.sort(key=lambda s: (-counted[s], order[s]))
    return [{"state": s, "volume": counted[s]} for s in present]


@report("classifications", title="Classifications", section="Summary")
def classifications(session: Session, query: ReportQuery) -> list[dict[str, Any]]:
    """Per classification on the mentions published in the range: their volume in all
    states, then per current state."""
    names: dict[int, str] = {}
    per_state: dict[int, dict[str, int]] = {}
    for classification_id, name, state, n in repository.classification_state_counts(session, query):
        names[classification_id] = name
        counts = per_state.setdefault(classification_id, {})
        counts[state] = counts.get(state, 0) + n
    rows: list[dict[str, Any]] = []
    for classification_id in sorted(per_state):
        counts = per_state[classification_id]
        name = names[classification_id]
        for state, n in [(ALL_STATES, sum(counts.values()))] + [
            (s, counts[s]) for s in STATES if counts.get(s, 0) > 0
        ]:
            rows.append(
                {
                    "classification_id": classification_id,
                    "classification": name,
                    "state": state,
                    "volume": n,
                }
            )
    return rows


@report("response_volume", title="Response volume", section="SLA")
def response_volume(session: Session, query: ReportQuery) -> dict[str, list[dict[str, Any]]]:
    """Per interval, the mean response time (seconds, and minutes in
    `avg_response_time_min`) and the number of mentions published in it that were
    responded to."""
    window = query.window
    slots = _Slots(window)
    size = len(window.buckets())
    counts = [0] * size
    sums = [0.0] * size
    for slot, n, total in repository.response_sums_per_slot(session, query):
        index = slots.index(slot)
        if index is not None:
            counts[index] += n
            sums[index] += total
    means = [total / n if n else None for total, n in zip(sums, counts, strict=True)]
    return {
        "avg_response_time": points(window, means),
        "avg_response_time_min": points(window, [minutes(m) for m in means]),
        "responded": points(window, counts),
    }
