"""Presence on both engines: heartbeats keep an agent online, the idle job takes them
offline after the idle timeout, going offline hands claimed work back to New (sign-out
included), and a customer's reply goes to the agent who answered last while online."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import select

from carebase.db.session import Database
from carebase.ids import new_id
from carebase.inbox import mentions, presence
from carebase.inbox.workflow import Actor
from carebase.jobkinds import registry
from carebase.kit.jobs import Runner
from carebase.models import Case, Job, Response
from carebase.settings import Settings
from tests.conftest import FakeClock
from tests.console_session import create_signed_in
from tests.inbox.conftest import People, make_mention, set_presence
from tests.inbox.workflow_helpers import event_log, stored
from tests.web.console import BASE_URL, console, signed_in_as


def _idle_jobs(database: Database) -> list[Job]:
    with database.unit_of_work(write=False) as session:
        rows = list(
            session.scalars(
                select(Job).where(Job.kind == "inbox_presence_idle").order_by(Job.created_at)
            )
        )
        for row in rows:
            session.expunge(row)
        return rows


def _run_idle(database: Database, settings: Settings, clock: FakeClock) -> None:
    Runner(database, registry(settings), clock=clock, kinds=["inbox_presence_idle"]).run_due()


def test_an_agent_goes_offline_after_30_idle_minutes_and_claimed_work_returns(
    database: Database, settings: Settings, people: People, clock: FakeClock
) -> None:
    agent = people.agent()
    start = clock.now
    with database.unit_of_work() as session:
        presence.heartbeat(session, agent, start)
        claimed = make_mention(session)
        mentions.claim(session, claimed, agent, start)
        working = make_mention(session, state="in_progress", assignee_id=agent)
        assert presence.is_online(session, agent)
    queued = _idle_jobs(database)
    assert [(job.status, job.run_at, job.dedupe_key) for job in queued] == [
        ("queued", start + timedelta(minutes=30), f"presence_idle:{agent}")
    ]
    # Seen again 20 minutes in: the check due at 30 finds them active and looks again at 50.
    clock.advance(20 * 60)
    with database.unit_of_work() as session:
        presence.heartbeat(session, agent, clock.now)
    assert len(_idle_jobs(database)) == 1
    clock.advance(10 * 60)
    _run_idle(database, settings, clock)
    with database.unit_of_work(write=False) as session:
        assert presence.is_online(session, agent)
    assert [job.run_at for job in _idle_jobs(database) if job.status == "queued"] == [
        start + timedelta(minutes=50)
    ]
    clock.advance(20 * 60)
    _run_idle(database, settings, clock)
    with database.unit_of_work(write=False) as session:
        assert not presence.is_online(session, agent)
    back = stored(database, claimed.id)
    assert (back.state, back.assignee_id) == ("new", None)
    assert event_log(database, claimed.id)[-1] == ("state", "system", "presence", "assigned", "new")
    # Work they started stays theirs.
    assert stored(database, working.id).assignee_id == agent
    assert [job.status for job in _idle_jobs(database)] == ["succeeded", "succeeded"]


def test_going_offline_by_hand_returns_only_claimed_unstarted_work(
    database: Database, people: People, clock: FakeClock
) -> None:
    agent, other = people.agent(), people.agent()
    with database.unit_of_work() as session:
        presence.heartbeat(session, agent, clock.now)
        first = make_mention(session, state="assigned", assignee_id=agent)
        second = make_mention(session, state="assigned", assignee_id=agent)
        make_mention(session, state="responded", assignee_id=agent)
        make_mention(session, state="assigned", assignee_id=other)
        returned = presence.go_offline(session, agent, clock.now, reason="manual")
        assert sorted(returned) == sorted([first.id, second.id])
        assert presence.go_offline(session, agent, clock.now, reason="manual") == []


def _case(database: Database, agent: int, clock: FakeClock) -> str:
    with database.unit_of_work() as session:
        case = Case(
            id=new_id("cas"),
            case_key="author:twitter_7",
            profile_id=None,
            status="open",
            opened_at=clock.now,
            last_agent_id=agent,
            last_agent_response_at=clock.now,
            last_activity_at=clock.now,
            reopened_count=0,
            created_at=clock.now,
            updated_at=clock.now,
        )
        session.add(case)
        session.flush()
        return case.id


def test_a_customer_reply_goes_to_the_last_responder_when_online_else_new(
    database: Database, people: People, clock: FakeClock
) -> None:
    ann, ben = people.agent("Ann"), people.agent("Ben")
    case_id = _case(database, ann, clock)
    with database.unit_of_work() as session:
        set_presence(session, ann, online=True, now=clock.now)
        reply = make_mention(session, author_key="twitter_7", case_id=case_id)
        presence.route_customer_reply(session, reply, clock.now)
        assert (reply.state, reply.assignee_id) == ("assigned", ann)
    assert event_log(database, reply.id)[0][:3] == ("assign", "system", "routing")
    with database.unit_of_work() as session:
        set_presence(session, ann, online=False, now=clock.now)
        later = make_mention(session, author_key="twitter_7", case_id=case_id)
        presence.route_customer_reply(session, later, clock.now)
        assert (later.state, later.assignee_id) == ("new", None)
    # No case yet: the group's last public response decides (Ben's, not a private note).
    with database.unit_of_work() as session:
        set_presence(session, ben, online=True, now=clock.now)
        set_presence(session, ann, online=True, now=clock.now)
        answered = make_mention(session, author_key="twitter_8")
        for author, private, minute in ((ben, False, 1), (ann, True, 2)):
            session.add(
                Response(
                    id=new_id("rsp"),
                    mention_id=answered.id,
                    author_id=author,
                    body="…",
                    private=private,
                    status="sent",
                    origin="console",
                    sent_at=clock.now + timedelta(minutes=minute),
                    created_at=clock.now,
                    updated_at=clock.now,
                )
            )
        session.flush()
        follow = make_mention(session, author_key="twitter_8")
        presence.route_customer_reply(session, follow, clock.now)
        assert follow.assignee_id == ben
        nobody = make_mention(session, author_key="twitter_9")
        presence.route_customer_reply(session, nobody, clock.now)
        assert nobody.assignee_id is None
        taken = make_mention(session, author_key="twitter_8", state="closed")
        presence.route_customer_reply(session, taken, clock.now)
        assert taken.state == "closed"


def test_signing_out_of_the_console_takes_the_agent_offline(
    app: FastAPI, database: Database, settings: Settings, clock: FakeClock
) -> None:
    agent = create_signed_in(database, settings, now=clock.now)
    with database.unit_of_work() as session:
        presence.heartbeat(session, agent.id, clock.now)
        claimed = make_mention(session, state="assigned", assignee_id=agent.id)
    with console(app) as browser:
        browser.cookies.set(agent.cookie, agent.secret)
        answer = browser.post("/sign-out", data={"csrf_token": agent.csrf_token})
        assert answer.status_code == 303
    with database.unit_of_work(write=False) as session:
        assert not presence.is_online(session, agent.id)
    assert stored(database, claimed.id).state == "new"


def test_system_actors_are_recorded(database: Database, people: People, clock: FakeClock) -> None:
    agent = people.agent()
    with database.unit_of_work() as session:
        mention = make_mention(session)
        mentions.assign(
            session, mention, Actor("helpdesk", ref="zendesk"), clock.now, user_id=agent
        )
    assert event_log(database, mention.id)[0] == ("assign", "helpdesk", "zendesk", None, str(agent))


def test_console_activity_keeps_an_online_agent_online_and_never_an_offline_one(
    app: FastAPI, database: Database, settings: Settings, clock: FakeClock
) -> None:
    agent = create_signed_in(database, settings, now=clock.now)
    start = clock.now
    with database.unit_of_work() as session:
        presence.heartbeat(session, agent.id, start)
        claimed = make_mention(session, state="assigned", assignee_id=agent.id)
    with console(app) as browser:
        signed_in_as(browser, agent)
        # Working in the console for 45 minutes: a beat every 5 minutes, no API heartbeat.
        for _ in range(9):
            clock.advance(5 * 60)
            answer = browser.post(
                "/inbox/presence/beat",
                headers={"HX-Request": "true", "HX-Current-URL": f"{BASE_URL}/inbox?tab=mine"},
            )
            assert answer.status_code == 200
            assert 'hx-swap-oob="true"' in answer.text
            assert "Go offline" in answer.text
            assert 'name="back" value="/inbox?tab=mine"' in answer.text
            _run_idle(database, settings, clock)
        with database.unit_of_work(write=False) as session:
            assert presence.is_online(session, agent.id)
        assert stored(database, claimed.id).state == "assigned"
        # Then nothing for 30 minutes: the idle check takes them offline and the work back.
        clock.advance(30 * 60)
        _run_idle(database, settings, clock)
        assert stored(database, claimed.id).state == "new"
        # Activity after that does not bring them back: going online is their choice.
        answer = browser.post("/inbox/presence/beat", headers={"HX-Request": "true"})
        assert answer.status_code == 200
        assert "Go online" in answer.text
        with database.unit_of_work(write=False) as session:
            assert not presence.is_online(session, agent.id)
        # The beat is a change like any other: without the session's token it is refused.
        del browser.headers["X-CSRF-Token"]
        assert browser.post("/inbox/presence/beat").status_code == 403


def test_keep_alive_writes_at_most_once_a_minute(
    database: Database, people: People, clock: FakeClock
) -> None:
    agent = people.agent()
    start = clock.now
    with database.unit_of_work() as session:
        assert presence.keep_alive(session, agent, start) is False  # never online: nothing
        presence.heartbeat(session, agent, start)
    clock.advance(59)
    with database.unit_of_work() as session:
        assert presence.keep_alive(session, agent, clock.now) is True
    with database.unit_of_work(write=False) as session:
        unchanged = presence.describe(session, agent)
        assert unchanged is not None
        assert unchanged.last_seen_at == start
    clock.advance(1)
    with database.unit_of_work() as session:
        assert presence.keep_alive(session, agent, clock.now) is True
    with database.unit_of_work(write=False) as session:
        seen = presence.describe(session, agent)
        assert seen is not None
        assert seen.last_seen_at == clock.now
