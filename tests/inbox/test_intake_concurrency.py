"""Two writers sending the same mentions at once make one mention each (PostgreSQL runs
them in parallel; SQLite serialises them), and forgetting a profile empties its mentions'
content and author but keeps their timings."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from carebase.db.session import Database
from carebase.inbox import intake
from carebase.ingest.batch import load_batch
from carebase.ingest.service import IngestConfig
from carebase.models import Mention, MentionEvent
from carebase.settings import Settings
from tests.helpers import auth, create_dataset, post_records
from tests.inbox.intake_helpers import T0, message
from tests.inbox.test_intake_record_type import record


def _at_once(work: Callable[[], Any], times: int = 2) -> list[Any]:
    barrier = threading.Barrier(times)
    results: list[Any] = [None] * times
    errors: list[BaseException] = []

    def run(slot: int) -> None:
        try:
            barrier.wait()
            results[slot] = work()
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def _count(database: Database) -> int:
    with database.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(Mention)) or 0)


def test_the_same_batch_sent_twice_at_once_makes_one_mention_each(
    client: TestClient, admin_token: str, database: Database, settings: Settings
) -> None:
    dataset = create_dataset(client, admin_token, "social", "mention")
    config = IngestConfig.from_settings(settings)
    batch = [
        record(f"m{i}", link={"email": f"person{i % 5}@example.org"}, author={"id": f"tw_{i}"})
        for i in range(40)
    ]

    def send() -> Any:
        return load_batch(database, dataset, "mention", batch, config=config, source="test", now=T0)

    results = _at_once(send)
    assert sorted((r.created, r.unchanged) for r in results) == [(0, 40), (40, 0)]
    assert _count(database) == 40
    with database.unit_of_work() as session:
        received = session.scalar(
            select(func.count()).select_from(MentionEvent).where(MentionEvent.kind == "received")
        )
    assert received == 40


def test_the_same_message_received_twice_at_once_is_one_mention(database: Database) -> None:
    def receive() -> list[intake.Received]:
        with database.unit_of_work() as session:
            return intake.receive(session, [message("m1"), message("m2")], T0)

    first, second = _at_once(receive)
    assert [r.mention_id for r in first] == [r.mention_id for r in second]
    assert sorted([first[0].created, second[0].created]) == [False, True]
    assert _count(database) == 2


def test_forgetting_a_profile_empties_its_mentions_but_keeps_their_timings(
    client: TestClient, admin_token: str, database: Database
) -> None:
    dataset = create_dataset(client, admin_token, "social", "mention")
    post_records(client, admin_token, dataset, "mention", [record("m1"), record("m2")])
    other = record("m3", link={"email": "sam@example.org"}, author={"id": "twitter_9"})
    post_records(client, admin_token, dataset, "mention", [other])
    forget = create_dataset(client, admin_token, "forget", "forget")
    post_records(client, admin_token, forget, "forget", [{"link": {"email": "kim@example.org"}}])
    with database.unit_of_work() as session:
        rows = {m.external_id: m for m in session.scalars(select(Mention))}
        session.expunge_all()
    for key in ("m1", "m2"):
        row = rows[key]
        assert row.forgotten
        assert row.profile_id is None
        assert row.body == ""
        assert (row.author_key, row.author_username, row.author_fullname) == (None, None, None)
        assert (row.author_avatar, row.author_url, row.thread_key) == (None, None, None)
        assert row.group_key == row.id
        # The timings stay, for reports.
        assert row.published_at.isoformat().startswith("2026-03-02T09:00:00")
        assert row.received_at is not None
        assert row.state == "new"
    kept = rows["m3"]
    assert (kept.body, kept.author_key, kept.forgotten) == (
        "My parcel never arrived",
        "twitter_9",
        False,
    )
    gone = client.get("/v1/profiles/by/email/kim@example.org", headers=auth(admin_token))
    assert gone.status_code == 404
