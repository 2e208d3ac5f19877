"""The workflow's states and which changes it allows, as data: one table every caller (API,
console, rules, helpdesk sync, jobs) is checked against. Pure: no database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ActorType = Literal["user", "rule", "system", "helpdesk"]

NEW = "new"
ASSIGNED = "assigned"
IN_PROGRESS = "in_progress"
RESPONDED = "responded"
AWAITING_APPROVAL = "awaiting_approval"
REDIRECTED = "redirected"
IRRELEVANT = "irrelevant"
DUPLICATE = "duplicate"
CLOSED = "closed"
NO_RESPONSE_REQUIRED = "no_response_required"
CLOSED_THREAD = "closed_thread"

# The order reports list them in (the Activity API's ten, then the system-only one).
STATES: tuple[str, ...] = (
    NEW,
    ASSIGNED,
    IN_PROGRESS,
    RESPONDED,
    AWAITING_APPROVAL,
    REDIRECTED,
    IRRELEVANT,
    DUPLICATE,
    CLOSED,
    NO_RESPONSE_REQUIRED,
    CLOSED_THREAD,
)
OPEN_STATES: frozenset[str] = frozenset({NEW, ASSIGNED, IN_PROGRESS, RESPONDED, AWAITING_APPROVAL})
CLOSED_STATES: frozenset[str] = frozenset(
    {REDIRECTED, IRRELEVANT, DUPLICATE, CLOSED, NO_RESPONSE_REQUIRED, CLOSED_THREAD}
)
# What an agent may close a mention as (closed_thread is set by grouping only).
CLOSING_STATES: frozenset[str] = CLOSED_STATES - {CLOSED_THREAD}
# Set only by carebase itself (grouping a customer's messages).
SYSTEM_ONLY: frozenset[str] = frozenset({CLOSED_THREAD})

LABELS: dict[str, str] = {
    NEW: "New",
    ASSIGNED: "Assigned",
    IN_PROGRESS: "In progress",
    RESPONDED: "Responded",
    AWAITING_APPROVAL: "Awaiting approval",
    REDIRECTED: "Redirected",
    IRRELEVANT: "Irrelevant",
    DUPLICATE: "Duplicate",
    CLOSED: "Closed",
    NO_RESPONSE_REQUIRED: "No response required",
    CLOSED_THREAD: "Closed (thread)",
}

# Which states each state may move to. Assignment, drafting, approval and sending move a
# mention along the first lines; any open state but awaiting_approval may be closed; a
# closed mention may be re-opened (to new).
_ALLOWED: dict[str, frozenset[str]] = {
    NEW: frozenset({ASSIGNED, IN_PROGRESS, RESPONDED} | CLOSED_STATES),
    ASSIGNED: frozenset({NEW, IN_PROGRESS, RESPONDED} | CLOSED_STATES),
    IN_PROGRESS: frozenset({NEW, ASSIGNED, AWAITING_APPROVAL, RESPONDED} | CLOSED_STATES),
    AWAITING_APPROVAL: frozenset({IN_PROGRESS, RESPONDED}),
    RESPONDED: frozenset({ASSIGNED, IN_PROGRESS, AWAITING_APPROVAL} | CLOSED_STATES),
    **{state: frozenset({NEW, ASSIGNED}) for state in CLOSED_STATES},
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: a user (with their id), a rule (its id), the system (the job's
    name) or a helpdesk (its name)."""

    type: ActorType
    user_id: int | None = None
    ref: str | None = None

    @classmethod
    def user(cls, user_id: int) -> Actor:
        """A person using the console or the API on their own behalf."""
        return cls("user", user_id=user_id)

    @classmethod
    def system(cls, ref: str) -> Actor:
        """carebase itself (a job, routing, grouping), named by `ref`."""
        return cls("system", ref=ref)


def is_open(state: str) -> bool:
    """Whether a mention in `state` still needs work."""
    return state in OPEN_STATES


def refusal(current: str, target: str, actor: ActorType) -> str | None:
    """Why the workflow refuses moving a mention from `current` to `target`, or None."""
    if target not in LABELS:
        return f"{target!r} is not a workflow state: one of {', '.join(STATES)}"
    if target == current:
        return f"the mention is already {LABELS[current].lower()}"
    if target in SYSTEM_ONLY and actor != "system":
        return f"{LABELS[target].lower()} is set by carebase when messages are grouped"
    if target not in _ALLOWED.get(current, frozenset()):
        if current == AWAITING_APPROVAL:
            return "a reply awaits approval: approve or reject it first"
        if current in CLOSED_STATES:
            return (
                f"the mention is {LABELS[current].lower()}: re-open it (to new) "
                f"before moving it to {LABELS[target].lower()}"
            )
        return f"a mention cannot go from {LABELS[current].lower()} to {LABELS[target].lower()}"
    return None
