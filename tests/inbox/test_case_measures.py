"""A case's Activity measures through the real reply flow on both engines: agent_replies,
agents_involved, first_reply_s, resolution_s and their bins, kept by inbox/cases.py::measure
on each sent public response, with two agents replying, a private note and an unsent draft
not counted, and a closed case re-opened by a reply."""

from __future__ import annotations

from carebase.db.session import Database
from carebase.inbox import replies
from carebase.kit.stats import bin_of
from carebase.models import Case
from carebase.settings import Settings
from tests.conftest import FakeClock
from tests.inbox.conftest import People
from tests.inbox.sla_helpers import case_of, close, customer_says, respond, run_jobs


def _measures(case: Case | None) -> tuple[int, int, float | None, float | None]:
    assert case is not None
    return case.agent_replies, case.agents_involved, case.first_reply_s, case.resolution_s


def _bins(case: Case | None) -> tuple[int | None, int | None]:
    assert case is not None
    return case.first_reply_bin, case.resolution_bin


def _note(database: Database, clock: FakeClock, mention_id: str, agent: int) -> None:
    """A private note sent through the replies service."""
    with database.unit_of_work() as session:
        note = replies.draft(
            session, mention_id, agent, "Checked the order", clock.now, private=True
        )
        sent = replies.submit(session, note.id, agent, clock.now)
        assert sent.status == "sent"


def _draft(database: Database, clock: FakeClock, mention_id: str, agent: int) -> None:
    """A public reply left as a draft."""
    with database.unit_of_work() as session:
        replies.draft(session, mention_id, agent, "Let me look", clock.now)


def test_measures_follow_replies_notes_and_a_reopened_case(
    database: Database,
    settings: Settings,
    clock: FakeClock,
    people: People,
) -> None:
    sam, ana = people.agent("Sam"), people.agent("Ana")
    first = customer_says(database, clock, author_key="twitter_77")
    clock.advance(600)
    respond(database, clock, first, sam)
    assert _measures(case_of(database, first)) == (1, 1, 600.0, 600.0)
    assert _bins(case_of(database, first)) == (bin_of(600.0), bin_of(600.0))

    clock.advance(300)
    _note(database, clock, first, ana)  # private: not a reply, Ana not involved
    _draft(database, clock, first, ana)  # never sent
    clock.advance(300)
    second = customer_says(database, clock, author_key="twitter_77")
    assert case_of(database, second).id == case_of(database, first).id  # type: ignore[union-attr]
    clock.advance(600)
    respond(database, clock, second, ana)
    assert _measures(case_of(database, first)) == (2, 2, 600.0, 1800.0)
    clock.advance(600)
    respond(database, clock, first, sam)
    case = case_of(database, first)
    assert _measures(case) == (3, 2, 600.0, 2400.0)
    assert _bins(case) == (bin_of(600.0), bin_of(2400.0))

    # Closed after the timeout; a later reply re-opens it and keeps counting.
    close(database, clock, first, sam)
    close(database, clock, second, ana)
    clock.advance(30 * 3600)
    run_jobs(database, settings, clock)
    assert case_of(database, first).status == "closed"  # type: ignore[union-attr]
    clock.advance(3600)
    respond(database, clock, first, ana)
    reopened = case_of(database, first)
    assert reopened is not None
    assert reopened.status == "open"
    assert reopened.reopened_count == 1
    resolution = 2400.0 + 30 * 3600 + 3600
    assert _measures(reopened) == (4, 2, 600.0, resolution)
    assert _bins(reopened) == (bin_of(600.0), bin_of(resolution))
