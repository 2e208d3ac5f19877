"""Refreshing segments on the job runner: versions, who entered and who left, the daily
schedule (windowed segments move on with no new events), failures shown, the lease sweep."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from carebase.db.session import Database
from carebase.jobkinds import registry
from carebase.kit.jobs import Runner
from carebase.kit.jobs import repository as jobs_repository
from carebase.segments import refresh, repository
from carebase.settings import Settings
from tests.conftest import FakeClock, make_token
from tests.helpers import auth, create_dataset, post_tickets, ticket
from tests.segments.storehelp import (
    create,
    members_of,
    post_tickets_for,
    profile_of,
    refresh_jobs,
    run_jobs,
    tickets_in_window,
)

OPEN_TICKETS = {"type": "attribute", "field": "open_ticket_count", "op": "gte", "value": 1}


def _ticket(ticket_id: str, email: str, status: str, clock: FakeClock, **extra: Any) -> Any:
    event = ticket(ticket_id, link={"email": email}, status=status, **extra)
    created = clock.now - timedelta(days=2)
    event["timeline"] = {"created_at": created.isoformat()}
    event["action_at"] = (clock.now - timedelta(days=1)).isoformat()
    return event


def test_two_refreshes_know_who_entered_and_who_left(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    dataset = create_dataset(client, admin_token)
    post_tickets(
        client,
        admin_token,
        dataset,
        [
            _ticket("A1", "a@example.com", "open", clock),
            _ticket("B1", "b@example.com", "open", clock),
            _ticket("C1", "c@example.com", "closed", clock),
        ],
    )
    a, b, c = (profile_of(database, f"{who}@example.com") for who in "abc")
    segment = create(client, admin_token, "Open tickets", OPEN_TICKETS)
    assert segment["status"] == "pending"
    assert segment["size"] is None
    assert run_jobs(database, settings, clock).succeeded == 1
    first = client.get(f"/v1/segments/{segment['id']}", headers=auth(admin_token)).json()
    assert (first["status"], first["size"], first["current_version"]) == ("ready", 2, 1)
    assert first["computed_at"] == clock.now.isoformat().replace("+00:00", "Z")
    assert members_of(database, segment["id"]) == {a, b}

    # A's ticket is solved, C opens one: A leaves, C enters.
    clock.advance(3600)
    solved = _ticket("A1", "a@example.com", "solved", clock)
    solved["action_at"] = clock.now.isoformat()
    post_tickets(
        client, admin_token, dataset, [solved, _ticket("C2", "c@example.com", "open", clock)]
    )
    queued = client.post(f"/v1/segments/{segment['id']}/refresh", headers=auth(admin_token))
    assert queued.status_code == 202, queued.text
    assert run_jobs(database, settings, clock).succeeded == 1
    assert members_of(database, segment["id"]) == {b, c}
    history = client.get(f"/v1/segments/{segment['id']}/versions", headers=auth(admin_token))
    assert [
        (v["version"], v["size"], v["entered"], v["left"]) for v in history.json()["items"]
    ] == [(2, 2, 1, 1), (1, 2, 2, 0)]

    # A third refresh: the previous version's rows are kept, older ones pruned.
    clock.advance(60)
    client.post(f"/v1/segments/{segment['id']}/refresh", headers=auth(admin_token))
    run_jobs(database, settings, clock)
    assert members_of(database, segment["id"], 1) == set()
    assert members_of(database, segment["id"], 2) == members_of(database, segment["id"], 3)
    latest = client.get(f"/v1/segments/{segment['id']}/versions", headers=auth(admin_token))
    assert latest.json()["items"][0] | {"computed_at": None, "duration_ms": 0} == {
        "version": 3,
        "revision": 1,
        "computed_at": None,
        "size": 2,
        "entered": 0,
        "left": 0,
        "duration_ms": 0,
    }


def test_a_windowed_segment_moves_on_daily_with_no_new_events(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    dataset = create_dataset(client, admin_token)
    post_tickets_for(
        client, admin_token, dataset, "a@example.com", [clock.now - timedelta(days=10)], prefix="w"
    )
    post_tickets_for(
        client, admin_token, dataset, "b@example.com", [clock.now - timedelta(days=25)], prefix="w"
    )
    a, b = profile_of(database, "a@example.com"), profile_of(database, "b@example.com")
    segment = create(client, admin_token, "Contacted in 30 days", tickets_in_window(30, 1))
    run_jobs(database, settings, clock)
    assert members_of(database, segment["id"]) == {a, b}
    shown = client.get(f"/v1/segments/{segment['id']}", headers=auth(admin_token)).json()
    assert shown["next_refresh_at"] == (clock.now + timedelta(hours=24)).isoformat().replace(
        "+00:00", "Z"
    )
    # Nothing is due before the day is out; then one refresh, however long the gap.
    clock.advance(23 * 3600)
    assert run_jobs(database, settings, clock).handled == 0
    clock.advance(10 * 86_400)
    assert run_jobs(database, settings, clock).succeeded == 1
    assert members_of(database, segment["id"]) == {a}
    versions = client.get(f"/v1/segments/{segment['id']}/versions", headers=auth(admin_token))
    assert versions.json()["items"][0] | {"computed_at": None, "duration_ms": 0} == {
        "version": 2,
        "revision": 1,
        "computed_at": None,
        "size": 1,
        "entered": 0,
        "left": 1,
        "duration_ms": 0,
    }
    live = [job for job in refresh_jobs(database, segment["id"]) if job.status == "queued"]
    assert len(live) == 1, "one refresh is scheduled, for a day after the last"
    assert live[0].run_at == clock.now + timedelta(hours=24)
    assert live[0].dedupe_key == f"segment-refresh:{segment['id']}"


def test_a_failing_refresh_is_shown_and_the_last_version_still_served(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    dataset = create_dataset(client, admin_token)
    post_tickets_for(client, admin_token, dataset, "a@example.com", [clock.now], prefix="f")
    segment = create(client, admin_token, "Recent", tickets_in_window(100, 1))
    run_jobs(database, settings, clock)
    # The installation's window is cut to 30 days: the saved 100-day condition no longer
    # holds, and no retry will change that.
    narrow = settings.model_copy(update={"event_window_days": 30})
    client.post(f"/v1/segments/{segment['id']}/refresh", headers=auth(admin_token))
    summary = Runner(database, registry(narrow), clock=clock).run_due()
    assert summary.failed == 1
    shown = client.get(f"/v1/segments/{segment['id']}", headers=auth(admin_token)).json()
    assert shown["status"] == "failed"
    assert "no longer valid" in shown["last_error"]
    assert "definition.window_days" in shown["last_error"]
    assert shown["last_error_at"] is not None
    assert (shown["current_version"], shown["size"]) == (1, 1)
    page = client.get(f"/v1/segments/{segment['id']}/members", headers=auth(admin_token))
    assert len(page.json()["items"]) == 1
    # Still scheduled: tried again tomorrow, never left silently stale.
    queued = [job for job in refresh_jobs(database, segment["id"]) if job.status == "queued"]
    assert [job.run_at for job in queued] == [clock.now + timedelta(hours=24)]
    # Once the cause is gone, the next refresh clears the error.
    clock.advance(86_400)
    run_jobs(database, settings, clock)
    healed = client.get(f"/v1/segments/{segment['id']}", headers=auth(admin_token)).json()
    assert (healed["status"], healed["last_error"], healed["current_version"]) == (
        "ready",
        None,
        2,
    )


def test_a_refresh_whose_worker_died_is_requeued_then_failed_by_the_lease_sweep(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    segment = create(client, admin_token, "Anyone recent", tickets_in_window(30, 1))
    runner = Runner(database, registry(settings), clock=clock, lease_seconds=60)
    for attempt in (1, 2, 3):
        # A worker claims the refresh, marks it refreshing, and dies.
        with database.unit_of_work() as session:
            [claimed] = jobs_repository.claim(
                session,
                owner="dead-worker",
                now=clock.now,
                lease_until=clock.now + timedelta(seconds=60),
                limit=1,
                kinds=["segment_refresh"],
            )
            repository.update_segment(session, segment["id"], {"status": "refreshing"})
        assert claimed.attempts == attempt
        clock.advance(61)
        runner.sweep()
    shown = client.get(f"/v1/segments/{segment['id']}", headers=auth(admin_token)).json()
    assert shown["status"] == "failed"
    assert "stopped answering" in shown["last_error"]
    jobs = refresh_jobs(database, segment["id"])
    assert [job.status for job in jobs] == ["failed", "queued"]
    assert jobs[1].run_at == clock.now + timedelta(hours=24)
    # A sweep that finds a lapsed attempt with attempts left queues it again instead.
    clock.advance(86_400)
    with database.unit_of_work() as session:
        jobs_repository.claim(
            session,
            owner="dead-worker",
            now=clock.now,
            lease_until=clock.now + timedelta(seconds=60),
            limit=1,
            kinds=["segment_refresh"],
        )
    clock.advance(61)
    assert runner.run_due().succeeded == 1
    healed = client.get(f"/v1/segments/{segment['id']}", headers=auth(admin_token)).json()
    assert (healed["status"], healed["current_version"]) == ("ready", 1)


def test_segments_using_another_are_refreshed_after_it(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    dataset = create_dataset(client, admin_token)
    post_tickets_for(client, admin_token, dataset, "a@example.com", [clock.now], prefix="d")
    base = create(client, admin_token, "Base", tickets_in_window(30, 1))
    run_jobs(database, settings, clock)
    user = create(client, admin_token, "Uses base", {"type": "segment", "segment_id": base["id"]})
    run_jobs(database, settings, clock)
    a = profile_of(database, "a@example.com")
    assert members_of(database, user["id"]) == {a}
    post_tickets_for(client, admin_token, dataset, "b@example.com", [clock.now], prefix="d")
    clock.advance(60)
    client.post(f"/v1/segments/{base['id']}/refresh", headers=auth(admin_token))
    # One run: the base refresh queues the segment using it, which runs next.
    assert run_jobs(database, settings, clock).succeeded == 2
    b = profile_of(database, "b@example.com")
    assert members_of(database, user["id"]) == {a, b}


def test_a_refresh_asked_for_while_one_runs_is_followed_by_another(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    segment = create(client, admin_token, "Anyone recent", tickets_in_window(30, 1))
    reader = make_token(database, "segments:read")
    # The refresh starts (claimed, marked refreshing); meanwhile a refresh is asked for.
    with database.unit_of_work() as session:
        jobs_repository.claim(
            session,
            owner="slow-worker",
            now=clock.now,
            lease_until=clock.now + timedelta(seconds=600),
            limit=1,
            kinds=["segment_refresh"],
        )
    clock.advance(5)
    again = client.post(f"/v1/segments/{segment['id']}/refresh", headers=auth(admin_token))
    assert again.status_code == 202
    [running] = refresh_jobs(database, segment["id"])
    assert again.json()["job_id"] == running.id, "the running refresh's job"
    # The refresh that began before the request finishes (and completes its job, freeing the
    # dedupe key): another one is queued at once.
    started = clock.now - timedelta(seconds=5)

    def complete(session: Session, result: dict[str, Any] | None) -> None:
        assert jobs_repository.succeed(session, running.id, "slow-worker", clock.now, result)

    with database.unit_of_work() as session:
        refresh.refresh(session, segment["id"], now=started, window_limit_days=120, then=complete)
    queued = [job for job in refresh_jobs(database, segment["id"]) if job.status == "queued"]
    assert [job.run_at for job in queued] == [started]
    shown = client.get(f"/v1/segments/{segment['id']}", headers=auth(reader)).json()
    assert shown["status"] == "pending"


def test_a_cancelled_refresh_is_not_a_failure_and_the_schedule_goes_on(
    client: TestClient, admin_token: str, database: Database, settings: Settings, clock: FakeClock
) -> None:
    segment = create(client, admin_token, "Anyone recent", tickets_in_window(30, 1))
    run_jobs(database, settings, clock)
    [_, scheduled] = refresh_jobs(database, segment["id"])
    cancelled = client.post(f"/v1/jobs/{scheduled.id}/cancel", headers=auth(admin_token))
    assert cancelled.status_code == 200, cancelled.text
    shown = client.get(f"/v1/segments/{segment['id']}", headers=auth(admin_token)).json()
    assert (shown["status"], shown["last_error"]) == ("ready", None)
    jobs = refresh_jobs(database, segment["id"])
    assert [job.status for job in jobs] == ["succeeded", "cancelled", "queued"]
    assert jobs[2].run_at == clock.now + timedelta(hours=24)
