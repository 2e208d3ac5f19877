"""The shared inbox builders work on both engines (others' tests lean on them)."""

from __future__ import annotations

from sqlalchemy import select

from carebase.db.session import Database
from carebase.models import GroupMember, Mention
from tests.conftest import FakeClock
from tests.inbox.conftest import DEFAULT_SLA, People, make_mention


def test_people_and_mentions(database: Database, people: People, clock: FakeClock) -> None:
    alice = people.agent("Alice")
    boss = people.manager("Boss")
    team = people.group("Care", members=[alice, boss], requires_approval=True)
    assert people.group_row(team).requires_approval is True
    with database.unit_of_work() as session:
        first = make_mention(session)
        second = make_mention(session, author_key=first.author_key, state="assigned")
        assert first.queue_id == second.queue_id
        assert first.group_key == second.group_key
        assert first.sla == DEFAULT_SLA
        members = set(
            session.scalars(select(GroupMember.user_id).where(GroupMember.group_id == team))
        )
    assert members == {alice, boss}
    with database.unit_of_work(write=False) as session:
        assert session.scalar(select(Mention.state).where(Mention.id == second.id)) == "assigned"
