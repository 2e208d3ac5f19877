"""Sending through the real reply channel (inbox/reply_channels.deliver, the reply webhook for
API-origin mentions) and concurrent reviewers: a reply is sent once however many submit or
approve it at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from carebase.db.session import Database
from carebase.errors import NameTaken, TransitionRefused
from carebase.inbox import replies, templates
from carebase.models import Mention, Response
from carebase.settings import Settings
from tests.conftest import FakeClock, test_settings
from tests.inbox.conftest import People, make_mention
from tests.inbox.replies_helpers import ReplyHook, reply_jobs_of, run_real, use_reply_hook


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings that let the reply webhook post to a loopback address."""
    return test_settings(database_url, allow_private_outbound=True)


@pytest.fixture
def hook() -> Iterator[ReplyHook]:
    """A loopback reply webhook."""
    running = ReplyHook("whsec_reply-hook-secret-0123456789abcdef")
    yield running
    running.stop()


def _mention(database: Database, clock: FakeClock) -> str:
    with database.unit_of_work() as session:
        return make_mention(session, published_at=clock.now).id


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at the same moment, each on its own thread; their results or errors."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_an_approved_reply_reaches_the_reply_webhook_once_signed(
    database: Database, settings: Settings, clock: FakeClock, people: People, hook: ReplyHook
) -> None:
    agent, manager = people.agent("Ana"), people.manager()
    people.group(members=[agent], requires_approval=True)
    use_reply_hook(database, settings, hook, clock.now)
    mention_id = _mention(database, clock)
    with database.unit_of_work() as session:
        response_id = replies.draft(session, mention_id, agent, "Parcel left today", clock.now).id
        replies.submit(session, response_id, agent, clock.now)
        replies.approve(session, response_id, manager, clock.now)
    # An outage on the first request: the channel retries it in place, the receiver keeps one.
    hook.failures.append(503)
    run_real(database, settings, clock)
    assert hook.requests == 2
    assert list(hook.replies) == [response_id]
    payload = hook.replies[response_id]
    assert payload["type"] == "inbox.reply"
    assert payload["body"] == "Parcel left today"
    assert payload["mention_id"] == mention_id
    assert hook.repeats == 0
    with database.unit_of_work(write=False) as session:
        sent = session.get(Response, response_id)
        mention = session.get(Mention, mention_id)
        assert sent is not None
        assert mention is not None
        assert (sent.status, sent.external_id, sent.error) == ("sent", "msg-1", None)
        assert mention.state == "responded"


def test_without_a_reply_destination_the_reply_fails_with_the_reason(
    database: Database, settings: Settings, clock: FakeClock, people: People
) -> None:
    agent = people.agent()
    mention_id = _mention(database, clock)
    with database.unit_of_work() as session:
        response_id = replies.draft(session, mention_id, agent, "Hello", clock.now).id
        replies.submit(session, response_id, agent, clock.now)
    run_real(database, settings, clock)
    with database.unit_of_work(write=False) as session:
        failed = session.get(Response, response_id)
        mention = session.get(Mention, mention_id)
        assert failed is not None
        assert mention is not None
        assert failed.status == "failed"
        assert "reply destination" in (failed.error or "")
        assert mention.state == "in_progress"


def test_concurrent_submits_and_approvals_send_the_reply_once(
    database: Database, settings: Settings, clock: FakeClock, people: People, hook: ReplyHook
) -> None:
    agent = people.agent()
    first, second = people.manager(), people.manager()
    people.group(members=[agent], requires_approval=True)
    use_reply_hook(database, settings, hook, clock.now)
    mention_id = _mention(database, clock)
    with database.unit_of_work() as session:
        response_id = replies.draft(session, mention_id, agent, "Once only", clock.now).id

    def submit() -> str:
        with database.unit_of_work() as session:
            return replies.submit(session, response_id, agent, clock.now).status

    submitted = _race([submit, submit])
    assert sorted(map(str, submitted))[0] == "a reply that is awaiting approval cannot be submitted"
    assert "awaiting_approval" in submitted
    assert sum(isinstance(r, TransitionRefused) for r in submitted) == 1

    def approve(manager: int) -> Callable[[], str]:
        def call() -> str:
            with database.unit_of_work() as session:
                return replies.approve(session, response_id, manager, clock.now).status

        return call

    approved = _race([approve(first), approve(second)])
    assert "sending" in approved
    assert sum(isinstance(r, TransitionRefused) for r in approved) == 1
    assert len(reply_jobs_of(database)) == 1
    run_real(database, settings, clock)
    run_real(database, settings, clock)
    assert list(hook.replies) == [response_id]
    assert hook.requests == 1


def test_two_templates_saved_with_one_name_at_once_make_one_and_a_409(
    database: Database, clock: FakeClock
) -> None:
    def create() -> str:
        with database.unit_of_work() as session:
            return templates.create_template(
                session, name="Shipping", body="It ships today.", group_ids=[], now=clock.now
            ).id

    results = _race([create, create])
    assert sum(isinstance(r, str) for r in results) == 1
    assert sum(isinstance(r, NameTaken) for r in results) == 1
    with database.unit_of_work(write=False) as session:
        assert [t.name for t in templates.list_templates(session)] == ["Shipping"]
