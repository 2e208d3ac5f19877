"""Cases on both engines: created by the first agent response and timed from the earliest
unanswered message, joined by the customer's next messages, closed by the job only after
the timeout AND once every mention is closed, a new case for a customer returning after
closing, re-opened by a response to a closed case's mention, one case for two responses at
once."""

from __future__ import annotations

import threading
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from carebase.db.session import Database
from carebase.inbox import cases
from carebase.models import Case, Classification, Job, MentionClassification, MentionEvent
from carebase.settings import Settings
from tests.conftest import FakeClock
from tests.helpers import auth
from tests.inbox.conftest import People
from tests.inbox.sla_helpers import case_of, close, customer_says, respond, respond_in, run_jobs


def _case_count(database: Database) -> int:
    with database.unit_of_work(write=False) as session:
        return int(session.execute(select(func.count()).select_from(Case)).scalar_one())


def test_no_case_until_an_agent_responds_then_timed_from_the_first_unanswered_message(
    database: Database, clock: FakeClock, people: People
) -> None:
    agent = people.agent("Sam")
    first_at = clock.now
    first = customer_says(database, clock, author_key="twitter_1")
    clock.advance(600)
    second = customer_says(database, clock, author_key="twitter_1")
    assert _case_count(database) == 0
    clock.advance(1200)
    respond(database, clock, second, agent)
    case = case_of(database, second)
    assert case is not None
    assert case.status == "open"
    assert case.case_key == "author:twitter_1"
    assert cases.as_utc(case.opened_at) == first_at
    assert cases.as_utc(case.first_reply_at) == clock.now  # type: ignore[arg-type]
    assert case.last_agent_id == agent
    # Both messages are in it; another customer's is not.
    assert case_of(database, first) is not None
    assert case_of(database, first).id == case.id  # type: ignore[union-attr]
    other = customer_says(database, clock, author_key="twitter_2")
    assert case_of(database, other) is None
    with database.unit_of_work(write=False) as session:
        kinds = session.execute(
            select(MentionEvent.to_value).where(
                MentionEvent.kind == "case", MentionEvent.mention_id.in_([first, second])
            )
        ).scalars()
        assert sorted(kinds) == ["joined", "opened"]


def test_the_profile_is_the_key_before_the_author(
    database: Database, clock: FakeClock, people: People
) -> None:
    agent = people.agent()
    on_twitter = customer_says(database, clock, author_key="twitter_9", profile_id="pro_kim")
    respond(database, clock, on_twitter, agent)
    clock.advance(60)
    by_email = customer_says(database, clock, author_key="email_kim", profile_id="pro_kim")
    case = case_of(database, by_email)
    assert case is not None
    assert case.case_key == "pro_kim"
    assert case.profile_id == "pro_kim"
    assert case.id == case_of(database, on_twitter).id  # type: ignore[union-attr]


def test_auto_close_waits_for_the_timeout_and_for_every_mention_to_be_closed(
    database: Database, settings: Settings, clock: FakeClock, people: People
) -> None:
    agent = people.agent()
    start = clock.now
    first = customer_says(database, clock, author_key="twitter_3")
    clock.advance(300)
    respond(database, clock, first, agent)
    clock.advance(300)
    second = customer_says(database, clock, author_key="twitter_3")
    case_id = case_of(database, first).id  # type: ignore[union-attr]
    assert case_of(database, second).id == case_id  # type: ignore[union-attr]
    respond(database, clock, second, agent)
    close(database, clock, first, agent)
    # 30 hours on, the second mention is still open (responded): the case stays open.
    clock.advance(30 * 3600)
    run_jobs(database, settings, clock)
    assert case_of(database, first).status == "open"  # type: ignore[union-attr]
    # Closing the last mention brings the check forward; it closes on its next run.
    close(database, clock, second, agent)
    run_jobs(database, settings, clock)
    closed = case_of(database, first)
    assert closed is not None
    assert closed.status == "closed"
    assert cases.as_utc(closed.closed_at) == clock.now  # type: ignore[arg-type]
    # Resolution is measured to the last response, not to the close.
    detail = _detail(database, case_id)
    assert detail.resolution_seconds == 600
    assert cases.as_utc(detail.case.opened_at) == start


def _detail(database: Database, case_id: str) -> cases.CaseDetail:
    with database.unit_of_work(write=False) as session:
        found = cases.detail(session, case_id)
        session.expunge_all()
        return found


def test_not_before_the_timeout_even_when_all_mentions_are_closed(
    database: Database, settings: Settings, clock: FakeClock, people: People
) -> None:
    agent = people.agent()
    mention = customer_says(database, clock, author_key="twitter_4")
    respond(database, clock, mention, agent)
    close(database, clock, mention, agent)
    run_jobs(database, settings, clock)
    clock.advance(23 * 3600)
    run_jobs(database, settings, clock)
    assert case_of(database, mention).status == "open"  # type: ignore[union-attr]
    with database.unit_of_work(write=False) as session:
        job = session.execute(select(Job).where(Job.kind == "inbox_case_close")).scalar_one()
        assert job.status == "queued"
        assert job.dedupe_key == f"case_close:{case_of(database, mention).id}"  # type: ignore[union-attr]
    clock.advance(3.5 * 3600)  # past 24 h and the deferral's jitter
    run_jobs(database, settings, clock)
    assert case_of(database, mention).status == "closed"  # type: ignore[union-attr]


def test_a_customer_returning_after_30_hours_starts_a_new_case_when_answered(
    database: Database, settings: Settings, clock: FakeClock, people: People
) -> None:
    sam, ana = people.agent("Sam"), people.agent("Ana")
    first = customer_says(database, clock, author_key="twitter_5")
    respond(database, clock, first, sam)
    close(database, clock, first, sam)
    old_case = case_of(database, first)
    clock.advance(30 * 3600)
    run_jobs(database, settings, clock)
    assert case_of(database, first).status == "closed"  # type: ignore[union-attr]
    returning_at = clock.now
    back = customer_says(database, clock, author_key="twitter_5")
    assert case_of(database, back) is None
    clock.advance(120)
    respond(database, clock, back, ana)
    new_case = case_of(database, back)
    assert new_case is not None
    assert new_case.id != old_case.id  # type: ignore[union-attr]
    assert new_case.status == "open"
    assert cases.as_utc(new_case.opened_at) == returning_at
    assert new_case.last_agent_id == ana
    assert case_of(database, first).status == "closed"  # type: ignore[union-attr]


def test_a_due_case_closes_when_the_next_message_arrives_even_if_the_job_has_not_run(
    database: Database, clock: FakeClock, people: People
) -> None:
    agent = people.agent()
    first = customer_says(database, clock, author_key="twitter_6")
    respond(database, clock, first, agent)
    close(database, clock, first, agent)
    clock.advance(25 * 3600)  # no worker ran
    back = customer_says(database, clock, author_key="twitter_6")
    assert case_of(database, first).status == "closed"  # type: ignore[union-attr]
    assert case_of(database, back) is None


def test_a_response_to_a_closed_cases_mention_reopens_it(
    database: Database, settings: Settings, clock: FakeClock, people: People
) -> None:
    agent = people.agent()
    mention = customer_says(database, clock, author_key="twitter_7")
    respond(database, clock, mention, agent)
    close(database, clock, mention, agent)
    clock.advance(25 * 3600)
    run_jobs(database, settings, clock)
    case_id = case_of(database, mention).id  # type: ignore[union-attr]
    # The agent answers the closed mention again (a follow-up message to the customer).
    respond(database, clock, mention, agent)
    reopened = case_of(database, mention)
    assert reopened is not None
    assert reopened.id == case_id
    assert reopened.status == "open"
    assert reopened.closed_at is None
    assert reopened.reopened_count == 1
    assert cases.as_utc(reopened.last_activity_at) == clock.now
    # It closes again a timeout later (its mention is still closed).
    clock.advance(25 * 3600)
    run_jobs(database, settings, clock)
    assert case_of(database, mention).status == "closed"  # type: ignore[union-attr]
    assert _case_count(database) == 1


def test_interactions_agents_and_classifications_count_once_per_case(
    database: Database, clock: FakeClock, people: People
) -> None:
    sam, ana = people.agent("Sam"), people.agent("Ana")
    first = customer_says(database, clock, author_key="twitter_8")
    second = customer_says(database, clock, author_key="twitter_8")
    respond(database, clock, first, sam)
    respond(database, clock, second, ana)
    respond(database, clock, second, sam)
    case_id = case_of(database, first).id  # type: ignore[union-attr]
    with database.unit_of_work() as session:
        label = Classification(
            name="Delivery",
            description="",
            colour="#112233",
            created_at=clock.now,
            updated_at=clock.now,
        )
        session.add(label)
        session.flush()
        for mention_id in (first, second):
            session.add(
                MentionClassification(
                    mention_id=mention_id,
                    classification_id=label.id,
                    applied_by_type="user",
                    applied_by_user_id=sam,
                    applied_at=clock.now,
                )
            )
        label_id = label.id
    detail = _detail(database, case_id)
    assert detail.interactions == 3
    assert detail.agents_involved == [sam, ana]
    assert detail.classification_ids == [label_id]
    with database.unit_of_work(write=False) as session:
        pairs = session.execute(cases.case_classifications_query()).all()
    assert [(row.case_id, row.classification_id) for row in pairs] == [(case_id, label_id)]


def test_two_responses_at_once_make_one_case(
    database: Database, clock: FakeClock, people: People
) -> None:
    sam, ana = people.agent("Sam"), people.agent("Ana")
    mention_ids = [customer_says(database, clock, author_key="twitter_10") for _ in range(2)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def answer(mention_id: str, agent: int) -> None:
        try:
            barrier.wait()
            with database.unit_of_work() as session:
                respond_in(session, clock.now, mention_id, agent)
        except BaseException as error:
            errors.append(error)

    threads = [
        threading.Thread(target=answer, args=(mention_id, agent))
        for mention_id, agent in zip(mention_ids, (sam, ana), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert _case_count(database) == 1
    case_ids = {case_of(database, m).id for m in mention_ids}  # type: ignore[union-attr]
    assert len(case_ids) == 1
    assert _detail(database, case_ids.pop()).interactions == 2


def test_cases_api_lists_and_shows_a_case(
    client: TestClient,
    inbox_token: str,
    database: Database,
    clock: FakeClock,
    people: People,
) -> None:
    agent = people.agent()
    mention = customer_says(database, clock, author_key="twitter_11", profile_id="pro_lee")
    clock.advance(90)
    respond(database, clock, mention, agent)
    listed = client.get("/v1/cases", params={"status": "open"}, headers=auth(inbox_token))
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [item["profile_id"] for item in items] == ["pro_lee"]
    shown = client.get(f"/v1/cases/{items[0]['id']}", headers=auth(inbox_token)).json()
    assert shown["interactions"] == 1
    assert shown["agents_involved"] == [agent]
    assert shown["first_reply_seconds"] == 90
    assert [m["id"] for m in shown["mentions"]] == [mention]
    assert "body" not in shown["mentions"][0]
    closed = client.get("/v1/cases", params={"status": "closed"}, headers=auth(inbox_token))
    assert closed.json()["items"] == []
    missing = client.get("/v1/cases/cas_nope", headers=auth(inbox_token))
    assert missing.status_code == 404


def test_case_pages_follow_the_cursor(
    client: TestClient, inbox_token: str, database: Database, clock: FakeClock, people: People
) -> None:
    agent = people.agent()
    for n in range(3):
        mention = customer_says(database, clock, author_key=f"twitter_p{n}")
        respond(database, clock, mention, agent)
        clock.advance(timedelta(minutes=1).total_seconds())
    first = client.get("/v1/cases", params={"limit": 2}, headers=auth(inbox_token)).json()
    rest = client.get(
        "/v1/cases", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth(inbox_token)
    ).json()
    keys = [c["case_key"] for c in first["items"] + rest["items"]]
    assert keys == ["author:twitter_p2", "author:twitter_p1", "author:twitter_p0"]
    assert rest["next_cursor"] is None


def test_a_message_while_the_case_waits_to_close_joins_it_and_keeps_it_open(
    database: Database, settings: Settings, clock: FakeClock, people: People
) -> None:
    agent = people.agent()
    first = customer_says(database, clock, author_key="twitter_12")
    respond(database, clock, first, agent)
    close(database, clock, first, agent)
    clock.advance(20 * 3600)  # closed, but not yet inactive for the timeout
    again = customer_says(database, clock, author_key="twitter_12")
    case_id = case_of(database, first).id  # type: ignore[union-attr]
    assert case_of(database, again).id == case_id  # type: ignore[union-attr]
    # A day after the first close, the new message is still open: no close.
    clock.advance(26 * 3600)
    run_jobs(database, settings, clock)
    assert case_of(database, again).status == "open"  # type: ignore[union-attr]
    close(database, clock, again, agent)
    run_jobs(database, settings, clock)
    assert case_of(database, again).status == "closed"  # type: ignore[union-attr]
    assert case_of(database, again).reopened_count == 0  # type: ignore[union-attr]


def test_the_case_timeout_comes_from_the_inbox_settings(
    client: TestClient,
    inbox_token: str,
    database: Database,
    settings: Settings,
    clock: FakeClock,
    people: People,
) -> None:
    changed = client.patch(
        "/v1/inbox/settings", json={"case_timeout_seconds": 3600}, headers=auth(inbox_token)
    )
    assert changed.status_code == 200, changed.text
    agent = people.agent()
    mention = customer_says(database, clock, author_key="twitter_13")
    respond(database, clock, mention, agent)
    close(database, clock, mention, agent)
    clock.advance(50 * 60)
    run_jobs(database, settings, clock)
    assert case_of(database, mention).status == "open"  # type: ignore[union-attr]
    clock.advance(30 * 60)
    run_jobs(database, settings, clock)
    assert case_of(database, mention).status == "closed"  # type: ignore[union-attr]
