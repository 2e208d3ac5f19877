"""A first pass over every workflow service function on both engines."""

from __future__ import annotations

from carebase.db.session import Database
from carebase.inbox import mentions, presence
from carebase.inbox.bulk import BulkAction, bulk
from carebase.inbox.mentions import MentionFilters
from carebase.inbox.workflow import Actor
from carebase.models import Classification
from tests.conftest import FakeClock
from tests.inbox.conftest import People, make_mention, set_presence


def test_every_service_runs(database: Database, people: People, clock: FakeClock) -> None:
    alice = people.agent("Alice")
    bob = people.agent("Bob")
    team = people.group("Care", members=[alice, bob])
    now = clock.now
    with database.unit_of_work() as session:
        label = Classification(
            name="Billing", description="", colour="#aa0000", created_at=now, updated_at=now
        )
        session.add(label)
        first = make_mention(session)
        second = make_mention(
            session, author_key=first.author_key, published_at=now.replace(minute=5)
        )
        third = make_mention(session)
        set_presence(session, bob, online=True, now=now)
        session.flush()
        label_id = label.id
    with database.unit_of_work() as session:
        m = mentions.get_mention(session, first.id)
        claimed = mentions.claim(session, m, alice, now)
        assert [row.id for row in claimed] == [second.id, first.id]
        assert mentions.get_mention(session, first.id).state == "closed_thread"
        assert mentions.get_mention(session, second.id).state == "assigned"
        t = mentions.lock_mention(session, third.id)
        mentions.assign(session, t, Actor.user(alice), now, group_id=team)
        assert t.assignee_id == bob
        assert mentions.classify(session, t, label_id, Actor.user(alice), now) is True
        assert mentions.classify(session, t, label_id, Actor.user(alice), now) is False
        mentions.set_follow_up(session, t, True, Actor.user(alice), now)
        page = mentions.list_mentions(
            session, MentionFilters(tab="mine", user_id=bob), cursor=None, limit=10
        )
        assert [row.id for row in page.items] == [third.id]
        assert presence.go_offline(session, bob, now, reason="manual") == [third.id]
        results = bulk(
            session,
            [third.id, "men_nope"],
            BulkAction("state", state="closed"),
            Actor.user(alice),
            now,
        )
        assert [r.ok for r in results] == [True, False]
        assert mentions.conversation(session, mentions.get_mention(session, second.id))
