"""The workflow services on both engines: every state change allowed or refused with the
table's reason, assignment (to a user, by group and capacity), claiming a customer's group,
unassigning, follow-up flags, classifications, responses and bulk changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from carebase.db.session import Database
from carebase.errors import (
    ClassificationArchived,
    NotFound,
    StaleMention,
    TransitionRefused,
    ValidationFailed,
)
from carebase.ids import new_id
from carebase.inbox import mentions
from carebase.inbox.bulk import BulkAction, bulk
from carebase.inbox.workflow import STATES, Actor, refusal
from carebase.models import Mention, MentionClassification, MentionEvent, Response
from tests.conftest import FakeClock
from tests.inbox.conftest import People, make_mention, set_presence
from tests.inbox.workflow_helpers import event_log, label, stored


def test_every_state_change_is_done_or_refused_as_the_table_says(
    database: Database, people: People, clock: FakeClock
) -> None:
    agent = people.agent()
    pairs = [(current, target) for current in STATES for target in STATES]
    with database.unit_of_work() as session:
        made = {pair: make_mention(session, state=pair[0]).id for pair in pairs}
    later = clock.now + timedelta(minutes=5)
    for (current, target), mention_id in made.items():
        reason = refusal(current, target, "user")
        with database.unit_of_work() as session:
            mention = mentions.lock_mention(session, mention_id)
            if reason is None:
                mentions.set_state(session, mention, target, Actor.user(agent), later)
            else:
                with pytest.raises(TransitionRefused) as refused:
                    mentions.set_state(session, mention, target, Actor.user(agent), later)
                assert refused.value.message == reason
        row = stored(database, mention_id)
        if reason is None:
            assert (row.state, row.state_at, row.version) == (target, later, 2)
            assert event_log(database, mention_id)[-1] == ("state", "user", None, current, target)
        else:
            assert (row.state, row.version) == (current, 1)
            assert event_log(database, mention_id) == []


def test_back_to_new_clears_the_assignee_and_a_stale_version_is_refused(
    database: Database, people: People, clock: FakeClock
) -> None:
    agent = people.agent()
    with database.unit_of_work() as session:
        mention = make_mention(session)
        mentions.assign(session, mention, Actor.user(agent), clock.now, user_id=agent)
        assert (mention.state, mention.assignee_id, mention.assigned_at) == (
            "assigned",
            agent,
            clock.now,
        )
        version = mention.version
        with pytest.raises(StaleMention):
            mentions.set_state(
                session, mention, "new", Actor.user(agent), clock.now, expected_version=version - 1
            )
        mentions.set_state(
            session, mention, "new", Actor.user(agent), clock.now, expected_version=version
        )
        assert mention.assignee_id is None
        # The first assignment's time stays: the agent SLA's clock started then.
        assert mention.assigned_at == clock.now
    assert [event[0] for event in event_log(database, mention.id)] == [
        "assign",
        "state",
        "unassign",
        "state",
    ]


def test_closing_unflags_follow_up_and_a_closed_mention_cannot_be_flagged(
    database: Database, people: People, clock: FakeClock
) -> None:
    agent = people.agent()
    actor = Actor.user(agent)
    with database.unit_of_work() as session:
        mention = make_mention(session)
        mentions.set_follow_up(session, mention, True, actor, clock.now)
        mentions.set_follow_up(session, mention, True, actor, clock.now)  # no change, no event
        assert mention.follow_up is True
        mentions.set_state(session, mention, "closed", actor, clock.now)
        assert mention.follow_up is False
        with pytest.raises(TransitionRefused, match="re-open it before flagging it"):
            mentions.set_follow_up(session, mention, True, actor, clock.now)
    assert [event[0] for event in event_log(database, mention.id)] == ["follow_up", "state"]


def test_assigning_to_a_group_picks_the_least_loaded_online_member_under_capacity(
    database: Database, people: People, clock: FakeClock
) -> None:
    ann, ben, cat = people.agent("Ann"), people.agent("Ben"), people.agent("Cat")
    team = people.group("Care", members=[ann, ben, cat])
    actor = Actor.system("test")
    with database.unit_of_work() as session:
        set_presence(session, ann, online=True, now=clock.now, capacity=1)
        set_presence(session, ben, online=True, now=clock.now, capacity=2)
        set_presence(session, cat, online=False, now=clock.now, capacity=50)
        made = [make_mention(session).id for _ in range(4)]
    picked = []
    for mention_id in made:
        with database.unit_of_work() as session:
            mention = mentions.lock_mention(session, mention_id)
            mentions.assign(session, mention, actor, clock.now, group_id=team)
            picked.append(mention.assignee_id)
            assert mention.assigned_group_id == team
    # Ann (lowest id) first, then Ben (fewer open), then Ben again (Ann full), then nobody:
    # Cat is offline and the others are at capacity, so the last one waits with the group.
    assert picked == [ann, ben, ben, None]
    last = stored(database, made[-1])
    assert (last.state, last.assigned_group_id) == ("new", team)
    assert event_log(database, made[-1]) == [("assign", "system", "test", None, f"group:{team}")]


def test_assign_refuses_bad_targets(database: Database, people: People, clock: FakeClock) -> None:
    agent = people.agent()
    gone = people.agent("Gone")
    people.archive(gone)
    actor = Actor.user(agent)
    with database.unit_of_work() as session:
        mention = make_mention(session)
        with pytest.raises(ValidationFailed):
            mentions.assign(session, mention, actor, clock.now)
        with pytest.raises(ValidationFailed):
            mentions.assign(session, mention, actor, clock.now, user_id=agent, group_id=1)
        with pytest.raises(ValidationFailed):
            mentions.assign(session, mention, actor, clock.now, user_id=gone)
        with pytest.raises(NotFound):
            mentions.assign(session, mention, actor, clock.now, user_id=999_999)
        with pytest.raises(NotFound):
            mentions.assign(session, mention, actor, clock.now, group_id=999_999)
        waiting = make_mention(session, state="awaiting_approval", assignee_id=agent)
        with pytest.raises(TransitionRefused, match="awaits approval"):
            mentions.assign(session, waiting, actor, clock.now, user_id=gone)


def test_claiming_takes_the_customers_group_newest_stays_others_closed_thread(
    database: Database, people: People, clock: FakeClock
) -> None:
    ann, ben = people.agent("Ann"), people.agent("Ben")
    start = clock.now
    with database.unit_of_work() as session:
        oldest = make_mention(session, author_key="twitter_1", published_at=start)
        middle = make_mention(
            session, author_key="twitter_1", published_at=start + timedelta(minutes=1)
        )
        newest = make_mention(
            session, author_key="twitter_1", published_at=start + timedelta(minutes=2)
        )
        bens = make_mention(
            session,
            author_key="twitter_1",
            published_at=start,
            state="in_progress",
            assignee_id=ben,
        )
        done = make_mention(session, author_key="twitter_1", published_at=start, state="closed")
        stranger = make_mention(session, author_key="twitter_2")
    with database.unit_of_work() as session:
        claimed = mentions.claim(session, mentions.get_mention(session, oldest.id), ann, start)
        assert [row.id for row in claimed] == [newest.id, middle.id, oldest.id]
    assert (stored(database, newest.id).state, stored(database, newest.id).assignee_id) == (
        "assigned",
        ann,
    )
    for row_id in (middle.id, oldest.id):
        row = stored(database, row_id)
        assert (row.state, row.assignee_id) == ("closed_thread", ann)
        assert event_log(database, row_id)[-1] == (
            "state",
            "system",
            "grouping",
            "assigned",
            "closed_thread",
        )
    # Another agent's work, closed mentions and other customers are left alone.
    assert stored(database, bens.id).assignee_id == ben
    assert stored(database, done.id).state == "closed"
    assert stored(database, stranger.id).state == "new"
    # Claiming again is harmless for Ann, refused for Ben.
    with database.unit_of_work() as session:
        again = mentions.claim(session, mentions.get_mention(session, newest.id), ann, start)
        assert [row.id for row in again] == [newest.id]
        with pytest.raises(TransitionRefused, match="another agent has claimed this mention"):
            mentions.claim(session, mentions.get_mention(session, newest.id), ben, start)
        with pytest.raises(TransitionRefused, match="re-open it"):
            mentions.claim(session, mentions.get_mention(session, done.id), ben, start)


def test_unassign_returns_open_work_to_new(
    database: Database, people: People, clock: FakeClock
) -> None:
    agent = people.agent()
    actor = Actor.user(agent)
    with database.unit_of_work() as session:
        working = make_mention(session, state="in_progress", assignee_id=agent)
        mentions.unassign(session, working, actor, clock.now)
        assert (working.state, working.assignee_id) == ("new", None)
        with pytest.raises(TransitionRefused, match="not assigned"):
            mentions.unassign(session, working, actor, clock.now)
        answered = make_mention(session, state="responded", assignee_id=agent)
        with pytest.raises(TransitionRefused, match="cannot go from responded to new"):
            mentions.unassign(session, answered, actor, clock.now)
        closed = make_mention(session, state="closed", assignee_id=agent)
        mentions.unassign(session, closed, actor, clock.now)
        assert (closed.state, closed.assignee_id) == ("closed", None)


def test_classifications_are_idempotent_and_archived_ones_are_not_applied(
    database: Database, people: People, clock: FakeClock
) -> None:
    agent = people.agent()
    billing = label(database, "Billing")
    old = label(database, "Old", archived=True)
    actor = Actor.user(agent)
    with database.unit_of_work() as session:
        mention = make_mention(session)
        assert mentions.classify(session, mention, billing, actor, clock.now) is True
        assert mentions.classify(session, mention, billing, actor, clock.now) is False
        with pytest.raises(ClassificationArchived):
            mentions.classify(session, mention, old, actor, clock.now)
        with pytest.raises(NotFound):
            mentions.classify(session, mention, 999_999, actor, clock.now)
        by_rule = make_mention(session)
        assert mentions.classify(session, by_rule, billing, Actor("rule", ref="rul_1"), clock.now)
    with database.unit_of_work(write=False) as session:
        applied = session.scalars(
            select(MentionClassification).where(MentionClassification.mention_id == by_rule.id)
        ).one()
        assert (applied.applied_by_type, applied.applied_by_rule_id) == ("rule", "rul_1")
    with database.unit_of_work() as session:
        mention = mentions.lock_mention(session, mention.id)
        assert mentions.unclassify(session, mention, billing, actor, clock.now) is True
        assert mentions.unclassify(session, mention, billing, actor, clock.now) is False
    assert [event[0] for event in event_log(database, mention.id)] == ["classify", "unclassify"]


def _response(
    session: Session, mention: Mention, author: int | None, *, private: bool = False
) -> Response:
    now = FakeClock().now + timedelta(minutes=30)
    row = Response(
        id=new_id("rsp"),
        mention_id=mention.id,
        author_id=author,
        body="On its way",
        private=private,
        status="sent",
        origin="console",
        sent_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def test_a_sent_response_marks_the_first_response_and_responded(
    database: Database, people: People, clock: FakeClock
) -> None:
    agent = people.agent()
    actor = Actor.user(agent)
    later = clock.now + timedelta(minutes=30)
    with database.unit_of_work() as session:
        mention = make_mention(session)
        note = _response(session, mention, agent, private=True)
        mentions.mark_responded(session, mention, note, actor, later)
        assert (mention.state, mention.first_response_at) == ("new", None)
        reply = _response(session, mention, agent)
        mentions.mark_responded(session, mention, reply, actor, later)
        assert (mention.state, mention.first_response_at, mention.first_responder_id) == (
            "responded",
            later,
            agent,
        )
        # Nobody held it: the responder does now (from the response's time).
        assert (mention.assignee_id, mention.assigned_at) == (agent, later)
        closed = make_mention(session, state="closed")
        mentions.mark_responded(session, closed, _response(session, closed, agent), actor, later)
        assert closed.state == "closed"
    kinds = [event[0] for event in event_log(database, mention.id)]
    # The first response opens the customer's case (inbox/cases.py records that).
    assert kinds == ["assign", "state", "case", "response"]
    with database.unit_of_work(write=False) as session:
        detail = session.scalars(
            select(MentionEvent.detail).where(
                MentionEvent.mention_id == mention.id, MentionEvent.kind == "response"
            )
        ).one()
    assert detail == {"response_id": reply.id, "case_id": stored(database, mention.id).case_id}
    assert detail["case_id"] is not None


def test_bulk_does_what_it_may_and_says_why_not_for_the_rest(
    database: Database, people: People, clock: FakeClock
) -> None:
    agent = people.agent()
    with database.unit_of_work() as session:
        fresh = make_mention(session).id
        waiting = make_mention(session, state="awaiting_approval").id
        closed = make_mention(session, state="closed").id
    results = None
    with database.unit_of_work() as session:
        results = bulk(
            session,
            [waiting, fresh, "men_missing", closed, fresh],
            BulkAction("state", state="closed"),
            Actor.user(agent),
            clock.now,
        )
    assert [(r.mention_id, r.ok, r.code) for r in results] == [
        (waiting, False, "transition_refused"),
        (fresh, True, None),
        ("men_missing", False, "not_found"),
        (closed, False, "transition_refused"),
    ]
    assert results[0].reason == "a reply awaits approval: approve or reject it first"
    assert results[3].reason == "the mention is already closed"
    assert stored(database, fresh).state == "closed"
    assert stored(database, waiting).state == "awaiting_approval"
    with database.unit_of_work() as session:
        refused = bulk(session, [fresh], BulkAction("classify"), Actor.user(agent), clock.now)
    assert refused[0].reason == "classification_id is required for this action"
