"""The mention workflow: state changes, assignment (to an agent, or to a group by capacity),
claiming a customer's grouped messages, follow-up flags, classifications, responses and bulk
changes. Every change is checked against the workflow table (workflow.py) and written to
the event log (events.py). Nothing here commits: the caller's unit of work does.

Callers lock what they change: `lock_mention` (SELECT … FOR UPDATE on PostgreSQL) before
`set_state`, `assign`, `unassign`… so two agents acting on one mention at once take turns,
and the second sees the first's result (and is refused if it no longer applies).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from carebase.errors import (
    NotFound,
    StaleMention,
    TransitionRefused,
    ValidationFailed,
)
from carebase.inbox import cases, events, sla
from carebase.inbox import mentions_repository as repository
from carebase.inbox.capacity import pick_by_capacity
from carebase.inbox.listing import (
    ConversationItem,
    MentionFilters,
    MentionPage,
    conversation,
    list_mentions,
)
from carebase.inbox.tagging import classify, set_follow_up, touch, unclassify
from carebase.inbox.workflow import (
    ASSIGNED,
    CLOSED_STATES,
    CLOSED_THREAD,
    NEW,
    RESPONDED,
    Actor,
    refusal,
)
from carebase.models import Mention, Response

__all__ = [
    "ConversationItem",
    "MentionFilters",
    "MentionPage",
    "assign",
    "claim",
    "classify",
    "conversation",
    "get_mention",
    "list_mentions",
    "lock_mention",
    "mark_responded",
    "set_follow_up",
    "set_state",
    "unassign",
    "unclassify",
]

GROUPING = Actor.system("grouping")


def get_mention(session: Session, mention_id: str) -> Mention:
    """One mention, or NotFound."""
    mention = repository.get_mention(session, mention_id)
    if mention is None:
        raise NotFound(f"No mention with id {mention_id}.")
    return mention


def lock_mention(session: Session, mention_id: str) -> Mention:
    """One mention locked for the transaction (FOR UPDATE), or NotFound."""
    mention = repository.lock_mention(session, mention_id)
    if mention is None:
        raise NotFound(f"No mention with id {mention_id}.")
    return mention


_touch = touch


def _check_version(mention: Mention, expected_version: int | None) -> None:
    if expected_version is not None and mention.version != expected_version:
        raise StaleMention()


def set_state(
    session: Session,
    mention: Mention,
    target: str,
    actor: Actor,
    now: datetime,
    *,
    expected_version: int | None = None,
) -> None:
    """Move the mention to `target` if the workflow allows it (TransitionRefused with the
    reason otherwise; StaleMention when `expected_version` is not the mention's)."""
    _check_version(mention, expected_version)
    reason = refusal(mention.state, target, actor.type)
    if reason is not None:
        raise TransitionRefused(reason)
    previous = mention.state
    if target == NEW and mention.assignee_id is not None:
        # Back to the queue: nobody holds it any more.
        events.record(
            session,
            mention.id,
            "unassign",
            actor,
            now,
            from_value=str(mention.assignee_id),
            detail={"user_id": mention.assignee_id},
        )
        mention.assignee_id = None
    mention.state = target
    mention.state_at = now
    if target in CLOSED_STATES:
        mention.follow_up = False
    _touch(mention, now)
    events.record(session, mention.id, "state", actor, now, from_value=previous, to_value=target)
    session.flush()
    if target in CLOSED_STATES and previous not in CLOSED_STATES:
        cases.on_mention_closed(session, mention, now)


def _require_agent(session: Session, user_id: int, field: str = "user_id") -> None:
    user = repository.active_user(session, user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    if user.archived:
        raise ValidationFailed.on(field, "is an archived user")


def _give_to(
    session: Session,
    mention: Mention,
    user_id: int,
    actor: Actor,
    now: datetime,
    *,
    group_id: int | None,
) -> None:
    """Assign to one agent: a new (or closed) mention becomes assigned."""
    if mention.state == NEW or mention.state in CLOSED_STATES:
        reason = refusal(mention.state, ASSIGNED, actor.type)
        if reason is not None:
            raise TransitionRefused(reason)
    previous = mention.assignee_id
    mention.assignee_id = user_id
    if group_id is not None:
        mention.assigned_group_id = group_id
    if mention.assigned_at is None:
        mention.assigned_at = now
    events.record(
        session,
        mention.id,
        "assign",
        actor,
        now,
        from_value=str(previous) if previous is not None else None,
        to_value=str(user_id),
        detail={"user_id": user_id, "group_id": group_id},
    )
    if mention.state == NEW or mention.state in CLOSED_STATES:
        previous_state = mention.state
        mention.state = ASSIGNED
        mention.state_at = now
        events.record(
            session, mention.id, "state", actor, now, from_value=previous_state, to_value=ASSIGNED
        )
    _touch(mention, now)
    session.flush()


def assign(
    session: Session,
    mention: Mention,
    actor: Actor,
    now: datetime,
    *,
    user_id: int | None = None,
    group_id: int | None = None,
) -> None:
    """Assign to a user, or to a group (given to its least-loaded online member with
    capacity left, else left with the group in its state)."""
    if (user_id is None) == (group_id is None):
        raise ValidationFailed.on("user_id", "give exactly one of user_id or group_id")
    if mention.state == "awaiting_approval":
        raise TransitionRefused("a reply awaits approval: approve or reject it first")
    if user_id is not None:
        _require_agent(session, user_id)
        if mention.assignee_id == user_id and mention.state not in CLOSED_STATES:
            return
        _give_to(session, mention, user_id, actor, now, group_id=None)
        return
    assert group_id is not None
    group = repository.get_group(session, group_id)
    if group is None:
        raise NotFound(f"No group with id {group_id}.")
    if group.archived_at is not None:
        raise ValidationFailed.on("group_id", "is an archived group")
    chosen = pick_by_capacity(session, group_id)
    if chosen is not None:
        _give_to(session, mention, chosen, actor, now, group_id=group_id)
        return
    mention.assigned_group_id = group_id
    events.record(
        session,
        mention.id,
        "assign",
        actor,
        now,
        to_value=f"group:{group_id}",
        detail={"user_id": None, "group_id": group_id},
    )
    _touch(mention, now)
    session.flush()


def claim(session: Session, mention: Mention, user_id: int, now: datetime) -> list[Mention]:
    """The agent takes the mention and its whole group (the customer's other open messages
    nobody else holds): the newest stays open, assigned to them; the others go to
    closed_thread. Refused when another agent holds it. The claimed mentions, newest first."""
    _require_agent(session, user_id)
    actor = Actor.user(user_id)
    # Lock the whole group in one id order (the mention included), so two agents claiming
    # two messages of one customer take turns instead of deadlocking.
    ids = repository.open_group_ids(session, mention.group_key)
    locked = repository.lock_mentions(session, [*ids, mention.id])
    if mention.assignee_id not in (None, user_id) and (
        mention.state not in CLOSED_STATES or mention.state == CLOSED_THREAD
    ):
        raise TransitionRefused("another agent has claimed this mention")
    if mention.state in CLOSED_STATES:
        raise TransitionRefused(
            f"the mention is {mention.state.replace('_', ' ')}: re-open it (to new) first"
        )
    if mention.state == "awaiting_approval":
        raise TransitionRefused("a reply awaits approval: approve or reject it first")
    group = [
        row
        for row in locked
        if row.state not in CLOSED_STATES
        and row.assignee_id in (None, user_id)
        and row.state != "awaiting_approval"
        and row.group_key == mention.group_key
    ]
    group.sort(key=lambda row: (row.published_at, row.id), reverse=True)
    newest, older = group[0], group[1:]
    if newest.assignee_id != user_id:
        _give_to(session, newest, user_id, actor, now, group_id=None)
    for row in older:
        if row.assignee_id != user_id:
            _give_to(session, row, user_id, actor, now, group_id=None)
        set_state(session, row, CLOSED_THREAD, GROUPING, now)
    return group


def unassign(session: Session, mention: Mention, actor: Actor, now: datetime) -> None:
    """Nobody holds it any more: an open mention goes back to new (a closed one keeps its
    state). TransitionRefused when it is not assigned or the workflow forbids new."""
    if mention.assignee_id is None and mention.assigned_group_id is None:
        raise TransitionRefused("the mention is not assigned")
    if mention.state not in CLOSED_STATES and mention.state != NEW:
        reason = refusal(mention.state, NEW, actor.type)
        if reason is not None:
            raise TransitionRefused(reason)
    events.record(
        session,
        mention.id,
        "unassign",
        actor,
        now,
        from_value=str(mention.assignee_id) if mention.assignee_id is not None else None,
        detail={"user_id": mention.assignee_id, "group_id": mention.assigned_group_id},
    )
    mention.assignee_id = None
    mention.assigned_group_id = None
    _touch(mention, now)
    if mention.state not in CLOSED_STATES and mention.state != NEW:
        set_state(session, mention, NEW, actor, now)
    session.flush()


def mark_responded(
    session: Session, mention: Mention, response: Response, actor: Actor, now: datetime
) -> None:
    """A public response was sent: the first one sets first_response_at/first_responder_id;
    the mention goes to responded when the workflow allows (a closed one stays closed);
    an unassigned mention is assigned to the responder; the case is told."""
    if response.private:
        return
    at = response.sent_at or now
    if mention.first_response_at is None:
        mention.first_response_at = at
        mention.first_responder_id = response.author_id
    if mention.assignee_id is None and response.author_id is not None:
        mention.assignee_id = response.author_id
        if mention.assigned_at is None:
            mention.assigned_at = at
        events.record(
            session,
            mention.id,
            "assign",
            actor,
            now,
            to_value=str(response.author_id),
            detail={"user_id": response.author_id, "group_id": None},
        )
    if mention.first_response_at is not None and mention.response_s is None:
        sla.stamp(mention)
    # A closed mention stays closed (refusal names closed → responded as forbidden).
    if refusal(mention.state, RESPONDED, actor.type) is None:
        previous = mention.state
        mention.state = RESPONDED
        mention.state_at = now
        events.record(
            session, mention.id, "state", actor, now, from_value=previous, to_value=RESPONDED
        )
    _touch(mention, now)
    session.flush()
    case = cases.on_agent_response(session, mention, response, now)
    events.record(
        session,
        mention.id,
        "response",
        actor,
        now,
        to_value=response.id,
        detail={"response_id": response.id, "case_id": case.id},
    )
    session.flush()
