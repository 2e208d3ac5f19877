"""Two agents acting on one mention at once: the row lock makes them take turns, so exactly
one claim wins and the other is refused with a clear 409, on PostgreSQL and SQLite."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from carebase.db.session import Database
from carebase.errors import TransitionRefused
from carebase.inbox import mentions
from tests.conftest import FakeClock
from tests.helpers import auth
from tests.inbox.conftest import People, make_mention
from tests.inbox.workflow_helpers import event_log, stored


def test_a_second_claim_waits_for_the_first_and_is_refused(
    database: Database, people: People, clock: FakeClock
) -> None:
    if database.dialect != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite serialises whole write transactions)")
    ann, ben = people.agent("Ann"), people.agent("Ben")
    with database.unit_of_work() as session:
        mention_id = make_mention(session).id
    ann_holds = threading.Event()
    release = threading.Event()
    outcome: dict[str, Any] = {}

    def first() -> None:
        with database.unit_of_work() as session:
            mentions.claim(session, mentions.get_mention(session, mention_id), ann, clock.now)
            ann_holds.set()
            # Hold the lock until Ben's claim is blocked on it.
            release.wait(10)

    def second() -> None:
        ann_holds.wait(10)
        try:
            with database.unit_of_work() as session:
                mention = mentions.get_mention(session, mention_id)
                mentions.claim(session, mention, ben, clock.now)
            outcome["ben"] = "claimed"
        except TransitionRefused as refused:
            outcome["ben"] = refused.message

    with ThreadPoolExecutor(2) as pool:
        done = [pool.submit(first), pool.submit(second)]
        ann_holds.wait(10)
        # Ben's transaction is now waiting on Ann's row lock; let Ann commit.
        threading.Event().wait(0.5)
        assert "ben" not in outcome
        release.set()
        for future in done:
            future.result(timeout=30)
    assert outcome["ben"] == "another agent has claimed this mention"
    row = stored(database, mention_id)
    assert (row.state, row.assignee_id) == ("assigned", ann)
    assert [event[0] for event in event_log(database, mention_id)] == ["assign", "state"]


def test_racing_claims_over_http_one_wins_the_other_gets_409(
    client: TestClient, database: Database, people: People, inbox_token: str
) -> None:
    ann, ben = people.agent("Ann"), people.agent("Ben")
    with database.unit_of_work() as session:
        ids = [make_mention(session).id for _ in range(6)]
    start = threading.Barrier(2)

    def claim_all(user_id: int) -> list[tuple[str, int, str]]:
        start.wait(10)
        results = []
        for mention_id in ids:
            answer = client.post(
                f"/v1/mentions/{mention_id}/claim",
                json={"user_id": user_id},
                headers=auth(inbox_token),
            )
            code = answer.json()["error"]["code"] if answer.status_code != 200 else ""
            results.append((mention_id, answer.status_code, code))
        return results

    with ThreadPoolExecutor(2) as pool:
        ann_results, ben_results = pool.map(claim_all, [ann, ben])
    for (mention_id, ann_status, ann_code), (_, ben_status, ben_code) in zip(
        ann_results, ben_results, strict=True
    ):
        assert sorted([ann_status, ben_status]) == [200, 409], (mention_id, ann_code, ben_code)
        assert {ann_code, ben_code} == {"", "transition_refused"}
        winner = ann if ann_status == 200 else ben
        row = stored(database, mention_id)
        assert (row.state, row.assignee_id) == ("assigned", winner)
        # One assignment, no lost or doubled update.
        assert [event[0] for event in event_log(database, mention_id)] == ["assign", "state"]


def test_racing_claims_of_one_customers_messages_never_deadlock(
    client: TestClient, database: Database, people: People, clock: FakeClock, inbox_token: str
) -> None:
    ann, ben = people.agent("Ann"), people.agent("Ben")
    groups = []
    with database.unit_of_work() as session:
        for n in range(4):
            older = make_mention(session, author_key=f"twitter_g{n}", published_at=clock.now)
            newer = make_mention(
                session, author_key=f"twitter_g{n}", published_at=clock.now.replace(minute=1)
            )
            groups.append((older.id, newer.id))
    start = threading.Barrier(2)

    def claim(user_id: int, which: int) -> list[tuple[int, str]]:
        start.wait(10)
        out = []
        for pair in groups:
            answer = client.post(
                f"/v1/mentions/{pair[which]}/claim",
                json={"user_id": user_id},
                headers=auth(inbox_token),
            )
            out.append((answer.status_code, answer.text))
        return out

    with ThreadPoolExecutor(2) as pool:
        by_ann, by_ben = pool.map(claim, [ann, ben], [0, 1])
    for (older, newer), (ann_status, _), (ben_status, ben_text) in zip(
        groups, by_ann, by_ben, strict=True
    ):
        assert sorted([ann_status, ben_status]) == [200, 409], ben_text
        winner = ann if ann_status == 200 else ben
        assert (stored(database, newer).state, stored(database, newer).assignee_id) == (
            "assigned",
            winner,
        )
        assert stored(database, older).state == "closed_thread"
