"""Builders for the SLA and cases tests: a sent response through the workflow's
mark_responded (which tells cases), closing a mention, running due jobs at the fake clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.db.session import Database
from carebase.inbox import mentions, replies
from carebase.inbox.workflow import Actor
from carebase.jobkinds import registry
from carebase.kit.jobs import Runner
from carebase.models import Case, Mention
from carebase.settings import Settings
from tests.conftest import FakeClock
from tests.inbox.conftest import make_mention


def customer_says(database: Database, clock: FakeClock, **fields: Any) -> str:
    """A new customer mention at the clock's time, told to cases as intake does."""
    from carebase.inbox import cases

    with database.unit_of_work() as session:
        mention = make_mention(session, published_at=clock.now, **fields)
        cases.on_customer_mention(session, mention, clock.now)
        return mention.id


def respond(database: Database, clock: FakeClock, mention_id: str, agent: int) -> str:
    """A public response by `agent` sent now, recorded through mentions.mark_responded."""
    with database.unit_of_work() as session:
        return respond_in(session, clock.now, mention_id, agent)


def respond_in(session: Session, now: datetime, mention_id: str, agent: int) -> str:
    """The same, in the caller's unit of work."""
    mention = mentions.lock_mention(session, mention_id)
    response = replies.sent_reply(mention, at=now, body="On its way!", author_id=agent)
    session.add(response)
    session.flush()
    mentions.mark_responded(session, mention, response, Actor.user(agent), now)
    return response.id


def close(database: Database, clock: FakeClock, mention_id: str, agent: int) -> None:
    """The agent closes the mention."""
    with database.unit_of_work() as session:
        mention = mentions.lock_mention(session, mention_id)
        mentions.set_state(session, mention, "closed", Actor.user(agent), clock.now)


def run_jobs(database: Database, settings: Settings, clock: FakeClock) -> None:
    """Run every job due at the clock's time."""
    Runner(database, registry(settings), clock=clock).run_due()


def case_of(database: Database, mention_id: str) -> Case | None:
    """The mention's case (detached), if any."""
    with database.unit_of_work(write=False) as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None
        if mention.case_id is None:
            return None
        case = session.get(Case, mention.case_id)
        assert case is not None
        session.expunge(case)
        return case
