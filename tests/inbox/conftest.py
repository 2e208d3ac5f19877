"""Shared builders for the inbox tests: people (agents, managers, groups with members)
created through the users service, and mentions inserted directly with sensible defaults
so each area can test its own behaviour without going through intake.

Use the fixtures (`people`, `inbox_token`) or import the helpers:
`from tests.inbox.conftest import make_mention, ensure_default_queue, DEFAULT_SLA`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from carebase.db.session import Database
from carebase.ids import new_id
from carebase.models import AgentPresence, Group, Mention, Queue
from carebase.settings import Settings
from carebase.users import repository as users_repository
from carebase.users import service as users_service
from tests.conftest import FakeClock, make_token

# The snapshot a mention keeps of the policy it is measured against (sla.snapshot_for_queue's
# shape): the default two hours, calendar time.
DEFAULT_SLA: dict[str, Any] = {
    "id": None,
    "name": "default",
    "customer_sla_seconds": 7200,
    "agent_sla_seconds": 7200,
    "business_hours": None,
}

_serial = itertools.count(1)


def ensure_default_queue(session: Session, now: datetime) -> Queue:
    """The default queue, inserted on first use (tests only: intake's queues.default_queue
    is the real one)."""
    queue = session.scalars(select(Queue).where(Queue.is_default.is_(True))).first()
    if queue is not None:
        return queue
    queue = Queue(
        id=new_id("que"),
        name="Default",
        description="",
        sla_policy_id=None,
        is_default=True,
        archived_at=None,
        created_at=now,
        updated_at=now,
    )
    session.add(queue)
    session.flush()
    return queue


def make_queue(session: Session, name: str, now: datetime) -> Queue:
    """Another (non-default) queue."""
    queue = Queue(
        id=new_id("que"),
        name=name,
        description="",
        sla_policy_id=None,
        is_default=False,
        archived_at=None,
        created_at=now,
        updated_at=now,
    )
    session.add(queue)
    session.flush()
    return queue


def make_mention(session: Session, **fields: Any) -> Mention:
    """Insert one mention directly (no events, no rules): a new API-origin tweet in the default
    queue, published at `published_at` (default: the fake clock's start). Any column may be
    given; `group_key` defaults to the author key, `state_at`/`received_at` to `published_at`."""
    n = next(_serial)
    published_at: datetime = fields.pop("published_at", FakeClock().now)
    now: datetime = fields.pop("now", published_at)
    author_key = fields.pop("author_key", f"twitter_{1000 + n}")
    values: dict[str, Any] = {
        "id": new_id("men"),
        "origin": "api",
        "origin_key": "test",
        "external_id": f"ext-{n}-{new_id('x')}",
        "conversation_ref": None,
        "source_type": "twitter",
        "account": "@acme_help",
        "author_key": author_key,
        "author_username": author_key,
        "author_fullname": "Kim Customer",
        "author_avatar": None,
        "author_url": None,
        "profile_id": None,
        "body": f"Where is my order {n}?",
        "redacted_at": None,
        "forgotten": False,
        "published_at": published_at,
        "received_at": published_at,
        "thread_key": None,
        "group_key": f"author:{author_key}" if author_key else f"mention:{n}",
        "state": "new",
        "state_at": published_at,
        "follow_up": False,
        "assignee_id": None,
        "assigned_group_id": None,
        "assigned_at": None,
        "first_response_at": None,
        "first_responder_id": None,
        "case_id": None,
        "sla": dict(DEFAULT_SLA),
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    if "queue_id" not in values:
        values["queue_id"] = ensure_default_queue(session, now).id
    mention = Mention(**values)
    session.add(mention)
    session.flush()
    return mention


def set_presence(
    session: Session, user_id: int, *, online: bool, now: datetime, capacity: int = 10
) -> AgentPresence:
    """Put an agent's presence row in place directly (tests of routing and capacity)."""
    row = session.get(AgentPresence, user_id)
    if row is None:
        row = AgentPresence(
            user_id=user_id, online=online, last_seen_at=now, changed_at=now, capacity=capacity
        )
        session.add(row)
    else:
        row.online = online
        row.last_seen_at = now
        row.changed_at = now
        row.capacity = capacity
    session.flush()
    return row


class People:
    """Creates users and groups through the users service, one unit of work each."""

    def __init__(self, database: Database, settings: Settings, clock: FakeClock) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock

    def user(
        self,
        first_name: str = "Agent",
        *,
        role: str = "agent",
        email: str | None = None,
        groups: Sequence[int] = (),
    ) -> int:
        """A new user's id (agent unless `role` says otherwise), member of `groups`."""
        address = email or f"{first_name.lower()}{next(_serial)}@brand.io"
        with self.database.unit_of_work() as session:
            created = users_service.create_user(
                session,
                self.settings,
                email=address,
                first_name=first_name,
                last_name="Test",
                role=role,
                groups=list(groups),
                now=self.clock.now,
                created_by="test",
            )
            return created.user.id

    def agent(self, first_name: str = "Agent", *, groups: Sequence[int] = ()) -> int:
        """A new agent's id."""
        return self.user(first_name, role="agent", groups=groups)

    def manager(self, first_name: str = "Manager", *, groups: Sequence[int] = ()) -> int:
        """A new manager's id."""
        return self.user(first_name, role="manager", groups=groups)

    def group(
        self,
        name: str | None = None,
        *,
        members: Sequence[int] = (),
        requires_approval: bool = False,
    ) -> int:
        """A new group's id, with `members` added (through the users service)."""
        with self.database.unit_of_work() as session:
            group = users_service.create_group(
                session, name=name or f"Team {next(_serial)}", comment="", now=self.clock.now
            )
            if requires_approval:
                group.requires_approval = True
            group_id = group.id
        for user_id in members:
            self.add_to_group(user_id, group_id)
        return group_id

    def add_to_group(self, user_id: int, group_id: int) -> None:
        """Add a user to a group, keeping their other groups."""
        with self.database.unit_of_work() as session:
            current = users_repository.active_group_ids(session, [user_id]).get(user_id, [])
            users_service.update_user(
                session, user_id, {"groups": [*current, group_id]}, now=self.clock.now
            )

    def archive(self, user_id: int) -> None:
        """Archive a user."""
        with self.database.unit_of_work() as session:
            users_service.archive_user(session, user_id, now=self.clock.now)

    def group_row(self, group_id: int) -> Group:
        """The group (detached)."""
        with self.database.unit_of_work(write=False) as session:
            group = session.get(Group, group_id)
            assert group is not None
            session.expunge(group)
            return group


@pytest.fixture
def people(database: Database, settings: Settings, clock: FakeClock) -> People:
    """Builders for users and groups on this test's database."""
    return People(database, settings, clock)


@pytest.fixture
def inbox_token(database: Database) -> str:
    """A token with inbox:read and inbox:write."""
    return make_token(database, "inbox:read", "inbox:write", name="inbox")


def minutes(n: float) -> timedelta:
    """A shorthand for test timelines."""
    return timedelta(minutes=n)
