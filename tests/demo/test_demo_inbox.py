"""The demo inbox: messages loaded through the mention record type and worked through the
inbox's own services in time order, so cases, SLA measures and surveys are real."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from carebase.db.session import Database
from carebase.demo.inbox import DAYS, seed_inbox
from carebase.models import Case, FormInvitation, FormResponse, Mention, MentionEvent, Response
from carebase.settings import Settings

ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)


def test_the_demo_inbox_is_worked_like_a_real_one(database: Database, settings: Settings) -> None:
    summary = seed_inbox(database, settings, anchor=ANCHOR, count=160)
    assert summary.mentions == 160
    with database.unit_of_work(write=False) as session:
        published = session.scalars(select(Mention.published_at)).all()
        assert len(published) == 160
        assert all(ANCHOR - timedelta(days=DAYS) <= p < ANCHOR for p in published)
        answered = session.scalars(select(Mention).where(Mention.response_s.is_not(None))).all()
        assert len(answered) == summary.responded > 80
        for mention in answered:
            # Stamped from the real timestamps at the first response.
            assert mention.first_response_at is not None
            assert mention.case_id is not None
            wait = (mention.first_response_at - mention.published_at).total_seconds()
            assert mention.response_s == wait
            assert mention.broke_sla == (wait > 7200)
        states = dict(
            session.execute(select(Mention.state, func.count()).group_by(Mention.state)).all()
        )
        assert states.get("closed", 0) > 60
        assert states.get("irrelevant", 0) > 0
        # Every change after arrival (loading is now) is in the event log at the simulated
        # times, never after the anchor.
        last_event = session.scalar(
            select(func.max(MentionEvent.at)).where(MentionEvent.kind != "received")
        )
        assert last_event is not None
        assert last_event < ANCHOR
        closed = session.scalars(select(Case).where(Case.status == "closed")).all()
        assert len(closed) == summary.cases_closed > 20
        for case in closed:
            assert case.agent_replies >= 1
            assert case.agents_involved >= 1
            assert case.closed_at is not None
            assert case.closed_at < ANCHOR
        replies = session.scalar(select(func.count()).select_from(Response))
        assert replies == len(answered)
        assert (
            session.scalar(select(func.count()).select_from(FormInvitation))
            == summary.surveys_sent
            > 0
        )
        scores = session.scalars(select(FormResponse.score)).all()
        assert len(scores) == summary.surveys_answered
        assert all(0 <= s <= 10 for s in scores if s is not None)
    # A second run adds nothing.
    again = seed_inbox(database, settings, anchor=ANCHOR, count=160)
    assert again.mentions == 0
    with database.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == 160
