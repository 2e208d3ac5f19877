"""The segments service as the console calls it (no HTTP): saving from a plain mapping, the
size history, and membership across a merge."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from carebase.db.session import Database
from carebase.errors import Conflict, NotFound, ValidationFailed
from carebase.segments import service
from carebase.settings import Settings
from tests.conftest import FakeClock
from tests.helpers import auth, create_dataset, post_tickets, ticket
from tests.segments.storehelp import (
    members_of,
    post_tickets_for,
    profile_of,
    run_jobs,
    ticket_count_at_least,
)


def test_the_console_saves_reads_and_deletes_through_the_service(
    database: Database, clock: FakeClock
) -> None:
    with database.unit_of_work() as session:
        with pytest.raises(ValidationFailed) as invalid:
            service.create_segment(
                session, {"name": "X", "definition": {}}, now=clock.now, created_by=None
            )
        assert invalid.value.details[0]["field"].startswith("definition")
        with pytest.raises(ValidationFailed) as missing:
            service.create_segment(session, {"definition": {}}, now=clock.now, created_by=None)
        assert missing.value.details == [{"field": "name", "reason": "Field required"}]
        saved = service.create_segment(
            session,
            {"name": "Busy", "definition": ticket_count_at_least(5), "refresh_every_hours": 6},
            now=clock.now,
            created_by="usr_1",
            window_limit_days=120,
        )
    with database.unit_of_work() as session:
        assert [s.id for s in service.list_segments(session)] == [saved.id]
        assert service.get_segment(session, saved.id).refresh_every_hours == 6
        assert service.size_history(session, saved.id).items == []
        with pytest.raises(Conflict):
            service.create_segment(
                session,
                {"name": "Busy", "definition": ticket_count_at_least(1)},
                now=clock.now,
                created_by=None,
            )
        service.delete_segment(session, saved.id)
        with pytest.raises(NotFound):
            service.get_segment(session, saved.id)


def test_a_merged_profile_leaves_and_its_survivor_is_placed_at_the_next_refresh(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    dataset = create_dataset(client, admin_token)
    for email in ("a@x.com", "b@x.com"):
        post_tickets_for(client, admin_token, dataset, email, [clock.now, clock.now], prefix="m")
    a, b = profile_of(database, "a@x.com"), profile_of(database, "b@x.com")
    with database.unit_of_work() as session:
        segment = service.create_segment(
            session,
            {"name": "Two or more", "definition": ticket_count_at_least(2)},
            now=clock.now,
            created_by=None,
        )
    run_jobs(database, settings, clock)
    assert members_of(database, segment.id) == {a, b}
    # Two tickets give both people one customer id: their profiles merge.
    post_tickets(
        client,
        admin_token,
        dataset,
        [
            ticket("join-a", link={"email": "a@x.com", "customer_id": "c-1"}),
            ticket("join-b", link={"email": "b@x.com", "customer_id": "c-1"}),
        ],
    )
    survivor = profile_of(database, "a@x.com")
    assert survivor == profile_of(database, "b@x.com")
    merged = b if survivor == a else a
    assert members_of(database, segment.id) == {survivor}
    with database.unit_of_work(write=False) as session:
        assert service.get_segment(session, segment.id).size == 1
        # A merged id answers for its survivor.
        of_merged = service.segments_of_profile(session, merged)
    assert (of_merged.profile_id, [s.id for s in of_merged.items]) == (survivor, [segment.id])
    clock.advance(60)
    reader = client.post(f"/v1/segments/{segment.id}/refresh", headers=auth(admin_token))
    assert reader.status_code == 202
    run_jobs(database, settings, clock)
    assert members_of(database, segment.id) == {survivor}
    with database.unit_of_work(write=False) as session:
        history = service.size_history(session, segment.id).items
    assert [(v.version, v.size, v.entered, v.left) for v in history] == [
        (2, 1, 0, 0),
        (1, 2, 2, 0),
    ]
