"""intake.receive: idempotent on the message's origin, default queue on first use, ignored
senders made irrelevant, on both engines."""

from __future__ import annotations

from sqlalchemy import func, select

from carebase.db.session import Database
from carebase.inbox import ignored, intake, queues
from carebase.models import Mention, Queue
from tests.inbox.intake_helpers import T0, events_of, mention, message


def test_a_message_becomes_a_new_mention_in_the_default_queue(database: Database) -> None:
    with database.unit_of_work() as session:
        received = intake.receive(session, [message("m1"), message("m2", thread_key="t9")], T0)
    assert [r.created for r in received] == [True, True]
    first = mention(database, received[0].mention_id)
    assert first.state == "new"
    assert first.body == "Where is my order?"
    assert first.group_key == "author:twitter:twitter_219"
    assert first.sla["customer_sla_seconds"] == 7200
    with database.unit_of_work() as session:
        default = queues.default_queue(session, T0)
        assert first.queue_id == default.id
        assert session.scalar(select(func.count()).select_from(Queue)) == 1
    assert events_of(database, first.id) == [("received", "system", "intake", default.id)]


def test_a_message_sent_again_changes_nothing(database: Database) -> None:
    with database.unit_of_work() as session:
        (first,) = intake.receive(session, [message("m1")], T0)
    with database.unit_of_work() as session:
        again = intake.receive(session, [message("m1", body="edited"), message("m1")], T0)
    assert [(r.mention_id, r.created) for r in again] == [(first.mention_id, False)] * 2
    assert mention(database, first.mention_id).body == "Where is my order?"
    with database.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == 1


def test_the_same_id_from_another_origin_is_another_mention(database: Database) -> None:
    with database.unit_of_work() as session:
        one = intake.receive(session, [message("m1")], T0)
        two = intake.receive(session, [message("m1", origin="zendesk", origin_key="con_1")], T0)
    assert one[0].mention_id != two[0].mention_id
    assert two[0].created


def test_a_message_without_author_groups_by_thread_or_stands_alone(database: Database) -> None:
    with database.unit_of_work() as session:
        threaded, alone = intake.receive(
            session,
            [
                message("m1", author_key=None, thread_key="T-7"),
                message("m2", author_key=None, author_username=None),
            ],
            T0,
        )
    assert mention(database, threaded.mention_id).group_key == "thread:api:ds_test:T-7"
    assert mention(database, alone.mention_id).group_key == f"mention:{alone.mention_id}"


def test_an_ignored_sender_arrives_irrelevant(database: Database) -> None:
    with database.unit_of_work() as session:
        pattern = ignored.add_ignored(session, "*@noreply.example.com", T0)
        received = intake.receive(
            session,
            [
                message("m1", author_key=None, author_username="Bot@NoReply.example.com"),
                message("m2", author_key=None, author_username="kim@example.com"),
            ],
            T0,
        )
    bot, person = (mention(database, r.mention_id) for r in received)
    assert (bot.state, person.state) == ("irrelevant", "new")
    assert events_of(database, bot.id)[-1] == ("state", "system", pattern.id, "irrelevant")
