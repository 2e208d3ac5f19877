"""Replies through the workflow, service to channel, on both engines: drafted, submitted,
approved or rejected by a manager where the author's group requires it, sent by the
`inbox_reply_send` job to a loopback webhook receiver, the mention marked responded; private
notes never sent; failures retried, then the reply failed with the reason."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from carebase.db.session import Database
from carebase.errors import NotFound, TransitionRefused, ValidationFailed
from carebase.inbox import replies
from carebase.models import Mention, Response
from carebase.settings import Settings
from tests.activation.receiver import Receiver, RunningReceiver
from tests.conftest import FakeClock
from tests.inbox.conftest import People, make_mention
from tests.inbox.replies_helpers import (
    LoopbackChannel,
    events_of,
    reply_jobs_of,
    run_replies,
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A loopback webhook receiver verifying signatures and recording each reply."""
    running = RunningReceiver("whsec_replies-receiver-secret-0123456789")
    yield running.state
    running.stop()


def _mention(database: Database, clock: FakeClock, **fields: object) -> str:
    with database.unit_of_work() as session:
        return make_mention(session, published_at=clock.now, **fields).id


def _state(database: Database, mention_id: str) -> Mention:
    with database.unit_of_work(write=False) as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None
        session.expunge(mention)
        return mention


def _response(database: Database, response_id: str) -> Response:
    with database.unit_of_work(write=False) as session:
        response = session.get(Response, response_id)
        assert response is not None
        session.expunge(response)
        return response


def test_a_reply_needing_approval_is_approved_sent_once_and_marks_the_mention_responded(
    database: Database, settings: Settings, clock: FakeClock, people: People, receiver: Receiver
) -> None:
    agent = people.agent("Ana")
    manager = people.manager("Max")
    people.group("Trainees", members=[agent], requires_approval=True)
    mention_id = _mention(database, clock)

    clock.advance(60)
    with database.unit_of_work() as session:
        draft = replies.draft(session, mention_id, agent, "  Hi Kim, it ships today.  ", clock.now)
        response_id = draft.id
        assert (draft.status, draft.body) == ("draft", "Hi Kim, it ships today.")
    assert _state(database, mention_id).state == "in_progress"

    clock.advance(60)
    with database.unit_of_work() as session:
        assert replies.submit(session, response_id, agent, clock.now).status == "awaiting_approval"
    assert _state(database, mention_id).state == "awaiting_approval"
    assert reply_jobs_of(database) == []  # nothing leaves before a manager approves

    clock.advance(60)
    with database.unit_of_work() as session:
        approved = replies.approve(session, response_id, manager, clock.now)
        assert (approved.status, approved.reviewed_by) == ("sending", manager)
    approved_at = clock.now

    clock.advance(5)
    summary = run_replies(database, settings, clock, LoopbackChannel(receiver))
    assert summary.succeeded == 1
    assert [r["key"] for r in receiver.records()] == [response_id]
    assert receiver.records()[0]["body"] == "Hi Kim, it ships today."
    sent = _response(database, response_id)
    assert (sent.status, sent.external_id, sent.error) == ("sent", f"hook-{response_id}", None)
    assert sent.sent_at == clock.now
    assert sent.reviewed_at == approved_at
    mention = _state(database, mention_id)
    assert (mention.state, mention.first_response_at, mention.first_responder_id) == (
        "responded",
        clock.now,
        agent,
    )
    assert [e for e in events_of(database, mention_id) if e[0] in ("state", "response")] == [
        ("state", "new", "in_progress", agent),
        ("state", "in_progress", "awaiting_approval", agent),
        ("state", "awaiting_approval", "in_progress", manager),
        ("state", "in_progress", "responded", agent),
        ("response", None, response_id, agent),
    ]
    # Unassigned until then, the mention is now the responder's.
    assert mention.assignee_id == agent
    # Running the worker again sends nothing more.
    run_replies(database, settings, clock, LoopbackChannel(receiver))
    assert len(receiver.requests) == 1


def test_a_rejected_reply_goes_back_to_its_author_with_the_comment(
    database: Database, clock: FakeClock, people: People
) -> None:
    agent = people.agent()
    manager = people.manager()
    people.group(members=[agent], requires_approval=True)
    mention_id = _mention(database, clock)
    with database.unit_of_work() as session:
        response_id = replies.draft(session, mention_id, agent, "Refund done", clock.now).id
        replies.submit(session, response_id, agent, clock.now)
    clock.advance(30)
    with database.unit_of_work() as session:
        with pytest.raises(ValidationFailed) as empty:
            replies.reject(session, response_id, manager, "   ", clock.now)
        assert empty.value.details == [{"field": "comment", "reason": "must not be empty"}]
        rejected = replies.reject(session, response_id, manager, "Say how long it takes", clock.now)
        assert (rejected.status, rejected.review_comment) == ("rejected", "Say how long it takes")
    assert _state(database, mention_id).state == "in_progress"
    assert events_of(database, mention_id)[-1] == (
        "state",
        "awaiting_approval",
        "in_progress",
        manager,
    )

    with database.unit_of_work() as session:
        # Rejected twice is refused; the author edits and submits again.
        with pytest.raises(TransitionRefused):
            replies.reject(session, response_id, manager, "again", clock.now)
        edited = replies.update_draft(session, response_id, agent, "Refund done: 3 days", clock.now)
        assert (edited.status, edited.body) == ("draft", "Refund done: 3 days")
        assert replies.submit(session, response_id, agent, clock.now).status == "awaiting_approval"
    assert reply_jobs_of(database) == []


def test_private_notes_are_saved_at_once_and_never_delivered(
    database: Database, settings: Settings, clock: FakeClock, people: People, receiver: Receiver
) -> None:
    agent = people.agent()
    people.group(members=[agent], requires_approval=True)
    mention_id = _mention(database, clock)
    with database.unit_of_work() as session:
        note = replies.draft(session, mention_id, agent, "VIP, be quick", clock.now, private=True)
        saved = replies.submit(session, note.id, agent, clock.now)
        # Saved as sent without approval, even for a member of an approval group.
        assert (saved.status, saved.private, saved.sent_at) == ("sent", True, clock.now)
    run_replies(database, settings, clock, LoopbackChannel(receiver))
    assert receiver.requests == []
    assert reply_jobs_of(database) == []
    mention = _state(database, mention_id)
    # Not a response: the mention keeps its state and has no first response.
    assert (mention.state, mention.first_response_at) == ("new", None)
    assert events_of(database, mention_id) == []


def test_only_a_manager_other_than_the_author_reviews(
    database: Database, clock: FakeClock, people: People
) -> None:
    agent, other_agent = people.agent(), people.agent()
    manager = people.manager()
    people.group(members=[agent, other_agent, manager], requires_approval=True)
    mention_id = _mention(database, clock)
    with database.unit_of_work() as session:
        response_id = replies.draft(session, mention_id, agent, "Hello", clock.now).id
        replies.submit(session, response_id, agent, clock.now)
    with database.unit_of_work() as session:
        with pytest.raises(replies.NotReviewer):
            replies.approve(session, response_id, other_agent, clock.now)
        with pytest.raises(replies.NotReviewer):
            replies.reject(session, response_id, agent, "no", clock.now)
        with pytest.raises(replies.NotAuthor):
            replies.update_draft(session, response_id, other_agent, "mine now", clock.now)
    # A manager's own reply never waits, even in an approval group: no self-approval exists.
    with database.unit_of_work() as session:
        own = replies.draft(session, mention_id, manager, "On it", clock.now)
        assert replies.submit(session, own.id, manager, clock.now).status == "sending"


def test_a_reply_without_approval_is_queued_at_once_and_a_second_submit_is_refused(
    database: Database, clock: FakeClock, people: People
) -> None:
    agent = people.agent()
    mention_id = _mention(database, clock)
    with database.unit_of_work() as session:
        response_id = replies.draft(session, mention_id, agent, "Hi", clock.now).id
        sending = replies.submit(session, response_id, agent, clock.now)
        assert sending.status == "sending"
        assert sending.job_id is not None
    with database.unit_of_work() as session:
        with pytest.raises(TransitionRefused):
            replies.submit(session, response_id, agent, clock.now)
        with pytest.raises(TransitionRefused):
            replies.discard(session, response_id, agent, clock.now)
    assert len(reply_jobs_of(database)) == 1


def test_failures_are_retried_then_the_reply_fails_with_the_reason(
    database: Database, settings: Settings, clock: FakeClock, people: People, receiver: Receiver
) -> None:
    agent = people.agent()
    first, second = _mention(database, clock), _mention(database, clock)
    with database.unit_of_work() as session:
        retried = replies.draft(session, first, agent, "One", clock.now).id
        replies.submit(session, retried, agent, clock.now)
    channel = LoopbackChannel(receiver)
    receiver.fail_next(503)
    run_replies(database, settings, clock, channel)
    waiting = _response(database, retried)
    assert (waiting.status, waiting.error) == ("sending", "retrying: HTTP 503")
    clock.advance(3600)
    run_replies(database, settings, clock, channel)
    assert _response(database, retried).status == "sent"
    assert _state(database, first).state == "responded"

    with database.unit_of_work() as session:
        refused = replies.draft(session, second, agent, "Two", clock.now).id
        replies.submit(session, refused, agent, clock.now)
    receiver.fail_next(400)
    run_replies(database, settings, clock, channel)
    failed = _response(database, refused)
    assert (failed.status, failed.error, failed.sent_at) == ("failed", "HTTP 400", None)
    mention = _state(database, second)
    assert (mention.state, mention.first_response_at) == ("in_progress", None)
    # The author may edit and send it again, or discard it.
    with database.unit_of_work() as session:
        replies.discard(session, refused, agent, clock.now)
        with pytest.raises(NotFound):
            replies.get_response(session, refused)


def test_a_draft_needs_an_active_author_and_text(
    database: Database, clock: FakeClock, people: People
) -> None:
    agent = people.agent()
    gone = people.agent()
    people.archive(gone)
    mention_id = _mention(database, clock)
    with database.unit_of_work() as session:
        with pytest.raises(ValidationFailed) as archived:
            replies.draft(session, mention_id, gone, "Hi", clock.now)
        assert archived.value.details == [{"field": "user_id", "reason": "is not an active user"}]
        with pytest.raises(ValidationFailed) as blank:
            replies.draft(session, mention_id, agent, " \n ", clock.now)
        assert blank.value.details[0]["field"] == "body"
        with pytest.raises(NotFound):
            replies.draft(session, "men_missing", agent, "Hi", clock.now)
        with pytest.raises(ValidationFailed) as template:
            replies.draft(session, mention_id, agent, "Hi", clock.now, template_id="tpl_x")
        assert template.value.details[0]["field"] == "template_id"
    with database.unit_of_work(write=False) as session:
        assert session.scalars(select(Response)).all() == []


def test_a_reply_to_a_closed_mention_is_sent_and_the_mention_stays_closed(
    database: Database, settings: Settings, clock: FakeClock, people: People, receiver: Receiver
) -> None:
    agent = people.agent()
    mention_id = _mention(database, clock, state="closed")
    with database.unit_of_work() as session:
        response_id = replies.draft(session, mention_id, agent, "One more thing", clock.now).id
        replies.submit(session, response_id, agent, clock.now)
    run_replies(database, settings, clock, LoopbackChannel(receiver))
    assert _response(database, response_id).status == "sent"
    assert _state(database, mention_id).state == "closed"
