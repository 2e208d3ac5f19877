"""The workflow's table, pure: which changes it allows and the reason it gives otherwise."""

from __future__ import annotations

import pytest

from carebase.inbox.workflow import (
    CLOSED_STATES,
    CLOSING_STATES,
    OPEN_STATES,
    STATES,
    is_open,
    refusal,
)

# The transitions the product documents (docs/inbox.md), written out independently of the
# table so a change to either is caught.
ALLOWED_FOR_USERS = {
    "new": {"assigned", "in_progress", "responded", *CLOSING_STATES},
    "assigned": {"new", "in_progress", "responded", *CLOSING_STATES},
    "in_progress": {"new", "assigned", "awaiting_approval", "responded", *CLOSING_STATES},
    "awaiting_approval": {"in_progress", "responded"},
    "responded": {"assigned", "in_progress", "awaiting_approval", *CLOSING_STATES},
    **{closed: {"new", "assigned"} for closed in CLOSED_STATES},
}


def test_the_states_split_into_open_and_closed() -> None:
    assert set(STATES) == OPEN_STATES | CLOSED_STATES
    assert not OPEN_STATES & CLOSED_STATES
    assert len(STATES) == 11
    assert all(is_open(state) for state in OPEN_STATES)
    assert not any(is_open(state) for state in CLOSED_STATES)


@pytest.mark.parametrize("current", STATES)
@pytest.mark.parametrize("target", STATES)
def test_each_change_a_user_may_make(current: str, target: str) -> None:
    reason = refusal(current, target, "user")
    assert (reason is None) == (target in ALLOWED_FOR_USERS[current])
    if reason is not None:
        assert reason  # always says why


def test_closed_thread_is_for_carebase_only() -> None:
    for current in OPEN_STATES - {"awaiting_approval"}:
        assert refusal(current, "closed_thread", "system") is None
        assert refusal(current, "closed_thread", "user") == (
            "closed (thread) is set by carebase when messages are grouped"
        )
        assert refusal(current, "closed_thread", "rule") is not None


def test_the_reasons_name_what_to_do() -> None:
    assert refusal("closed", "closed", "user") == "the mention is already closed"
    assert refusal("awaiting_approval", "closed", "user") == (
        "a reply awaits approval: approve or reject it first"
    )
    assert refusal("duplicate", "responded", "user") == (
        "the mention is duplicate: re-open it (to new) before moving it to responded"
    )
    assert refusal("new", "awaiting_approval", "user") == (
        "a mention cannot go from new to awaiting approval"
    )
    unknown = refusal("new", "snoozed", "user")
    assert unknown is not None
    assert unknown.startswith("'snoozed' is not a workflow state")
