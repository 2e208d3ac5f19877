"""The Zendesk channel against the loopback fake of Zendesk's Users API: batches, job
polling, per-record results, update-only, limits (429 + Retry-After, the job cap, users per
second), expiry, and the errors that stop a run. A `FakeTime` shared by the fake and the
channel makes every wait free and every job transition deterministic."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from carebase.activation.channel import (
    EXPIRED,
    ChannelContext,
    ChannelFailed,
    Outcome,
    OutRecord,
    SyncMode,
)
from carebase.activation.kinds import KINDS
from carebase.activation.zendesk import ZendeskChannel, open_channel
from carebase.db.session import Database
from tests.activation.zendesk_fake import FakeTime, FakeZendesk, UserField, serve_zendesk


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def zendesk(time: FakeTime) -> Iterator[FakeZendesk]:
    fields = [UserField("city"), UserField("tier", "dropdown", ("gold", "silver"))]
    with serve_zendesk(clock=time, user_fields=fields) as fake:
        yield fake


def channel_for(
    fake: FakeZendesk,
    time: FakeTime,
    *,
    mode: SyncMode = "upsert",
    token: str | None = None,
    database: Database | None = None,
    allow_private: bool = True,
    **config: Any,
) -> ZendeskChannel:
    context = ChannelContext(
        config={"base_url": fake.url, "email": fake.email, **config},
        secrets={"api_token": token or fake.api_token},
        mode=mode,
        allow_private=allow_private,
        sleep=time.sleep,
        timer=time,
        destination_id="dest-zendesk",
        database=database,
    )
    return open_channel(context)


def send(
    channel: ZendeskChannel, time: FakeTime, records: Sequence[OutRecord]
) -> dict[str, Outcome | str]:
    """What the run engine does: prepare, submit batches with at most max_in_flight jobs
    open, poll until each job ends; each record's outcome (or EXPIRED) by key."""
    prepared = [OutRecord(r.key, channel.prepare(r)) for r in records]
    batches = [
        prepared[i : i + channel.batch_size] for i in range(0, len(prepared), channel.batch_size)
    ]
    open_jobs: dict[str, list[OutRecord]] = {}
    results: dict[str, Outcome | str] = {}
    while batches or open_jobs:
        while batches and len(open_jobs) < channel.max_in_flight:
            batch = batches.pop(0)
            submitted = channel.submit(batch, batch_id=f"b{len(results)}")
            assert submitted.handle is not None
            open_jobs[submitted.handle] = batch
        time.sleep(1.0)
        for handle, state in channel.poll(list(open_jobs)).items():
            if state is None:
                continue
            batch = open_jobs.pop(handle)
            if isinstance(state, str):
                results.update({r.key: state for r in batch})
            else:
                assert len(state) == len(batch)
                results.update({r.key: o for r, o in zip(batch, state, strict=True)})
    return results


def people(count: int, start: int = 0) -> list[OutRecord]:
    return [
        OutRecord(
            f"p{i}",
            {"external_id": f"P{i}", "name": f"Person {i}", "email": f"person{i}@example.test"},
        )
        for i in range(start, start + count)
    ]


def test_the_kind_is_registered_with_its_fields_and_modes() -> None:
    kind = KINDS["zendesk"]
    assert kind.modes == ("upsert", "update_only")
    assert any(name == "user_fields.<key>" for name, _ in kind.fields)


def test_an_upsert_of_250_records_goes_as_100_100_50_and_every_result_maps_back(
    zendesk: FakeZendesk, time: FakeTime
) -> None:
    existing = zendesk.add_user(external_id="p3", name="Old Name", email="person3@example.test")
    zendesk.add_user(external_id="someone", name="Other", email="taken@example.test")
    # p9 is a known user, sent with an email another user owns.
    zendesk.add_user(external_id="P9", name="Nine", email="person9@example.test")
    zendesk.fail_record("P7", error="RecordInvalid", details="Phone: is invalid")
    records = people(250)
    records[9] = OutRecord("p9", {**records[9].fields, "email": "taken@example.test"})
    records[1] = OutRecord("p1", {**records[1].fields, "user_fields.city": "Sydney"})
    channel = channel_for(zendesk, time)

    outcomes = send(channel, time, records)

    assert [len(job.users) for job in zendesk.jobs.values()] == [100, 100, 50]
    assert zendesk.throttled == 0  # paced under the users-per-second budget: never refused
    assert outcomes["p3"] == Outcome(ok=True, action="updated", remote_id=str(existing["id"]))
    assert zendesk.find(external_id="P3")["name"] == "Person 3"  # external_id case-insensitive
    assert outcomes["p7"] == Outcome(
        ok=False, error_code="RecordInvalid", message="Phone: is invalid"
    )
    assert outcomes["p9"] == Outcome(
        ok=False,
        error_code="UserUpdateError",
        message="Email: taken@example.test is already being used by another user",
    )
    created = zendesk.find(external_id="P200")
    assert outcomes["p200"] == Outcome(ok=True, action="created", remote_id=str(created["id"]))
    assert zendesk.find(external_id="P1")["user_fields"] == {"city": "Sydney"}
    assert sum(1 for o in outcomes.values() if isinstance(o, Outcome) and o.ok) == 248
    assert set(zendesk.writes.values()) == {1}  # each user written exactly once


def test_update_only_updates_existing_users_and_rejects_unknown_ones(
    zendesk: FakeZendesk, time: FakeTime
) -> None:
    known = zendesk.add_user(external_id="P0", name="Before", email="person0@example.test")
    channel = channel_for(zendesk, time, mode="update_only")
    records = [
        OutRecord(r.key, {"external_id": r.fields["external_id"], "name": r.fields["name"]})
        for r in people(2)
    ]

    outcomes = send(channel, time, records)

    assert outcomes["p0"] == Outcome(ok=True, action="updated", remote_id=str(known["id"]))
    assert outcomes["p1"] == Outcome(
        ok=False, error_code="RecordNotFound", message="User not found"
    )
    assert zendesk.find(external_id="P1") is None  # nothing created
    assert zendesk.find(external_id="P0")["name"] == "Person 0"
    assert [r for r in zendesk.requests if r.startswith(("PUT", "POST"))] == [
        "PUT /api/v2/users/update_many.json"
    ]


def test_a_429_is_retried_after_the_wait_zendesk_asked_for(
    zendesk: FakeZendesk, time: FakeTime
) -> None:
    zendesk.answer_next(429, retry_after="7", body={"error": "APIRateLimitExceeded"})
    channel = channel_for(zendesk, time)

    outcomes = send(channel, time, people(3))

    assert 7.0 in time.slept
    posts = [r for r in zendesk.requests if r.startswith("POST")]
    assert len(posts) == 2
    assert all(isinstance(o, Outcome) and o.ok for o in outcomes.values())


def test_the_job_cap_is_respected_a_full_queue_waits_for_a_job_to_end(time: FakeTime) -> None:
    with serve_zendesk(clock=time, job_cap=2, queued_for=1.0, working_for=4.0) as zendesk:
        channel = channel_for(zendesk, time, users_per_second=100)
        handles = [channel.submit(people(1, i), batch_id=str(i)).handle for i in range(3)]

        # The third job found the queue full (429 + Retry-After), waited and went in.
        assert zendesk.throttled == 1
        assert len(zendesk.jobs) == 3
        assert None not in handles
        states = channel.poll([h for h in handles if h is not None])
        assert any(state is None for state in states.values())
        time.sleep(10)
        states = channel.poll([h for h in handles if h is not None])
        assert all(isinstance(s, list) and s[0].ok for s in states.values())


def test_jobs_in_flight_stay_under_zendesks_cap_of_30(zendesk: FakeZendesk, time: FakeTime) -> None:
    assert channel_for(zendesk, time).max_in_flight == 10
    assert channel_for(zendesk, time, max_jobs_in_flight=3).max_in_flight == 3
    with pytest.raises(ValueError, match="max_jobs_in_flight"):
        channel_for(zendesk, time, max_jobs_in_flight=30)


def test_a_job_zendesk_no_longer_lists_is_expired(time: FakeTime) -> None:
    with serve_zendesk(clock=time, job_ttl=60.0) as zendesk:
        channel = channel_for(zendesk, time)
        handle = channel.submit(people(2), batch_id="b").handle
        assert handle is not None
        time.sleep(61)
        assert channel.poll([handle, "no-such-job"]) == {handle: EXPIRED, "no-such-job": EXPIRED}


@pytest.mark.parametrize("status", ["failed", "killed"])
def test_a_job_that_ended_without_results_rejects_every_record(
    zendesk: FakeZendesk, time: FakeTime, status: str
) -> None:
    zendesk.fail_next_job(status, message="Job was stopped by Zendesk")
    channel = channel_for(zendesk, time)

    outcomes = send(channel, time, people(3))

    expected = Outcome(ok=False, error_code=f"job_{status}", message="Job was stopped by Zendesk")
    assert list(outcomes.values()) == [expected] * 3


def test_a_job_from_before_a_restart_still_maps_by_position(
    zendesk: FakeZendesk, time: FakeTime
) -> None:
    zendesk.fail_record("P1")
    handle = channel_for(zendesk, time).submit(people(3), batch_id="b").handle
    assert handle is not None
    time.sleep(5)
    states = channel_for(zendesk, time).poll([handle])  # a new channel: the batch is unknown
    outcomes = states[handle]
    assert isinstance(outcomes, list)
    assert [o.ok for o in outcomes] == [True, False, True]


def test_more_than_100_open_jobs_are_polled_100_ids_a_request(time: FakeTime) -> None:
    with serve_zendesk(clock=time, job_cap=200, keep_jobs=200) as zendesk:
        channel = channel_for(zendesk, time)
        handles = [channel.submit(people(1, i), batch_id=str(i)).handle for i in range(101)]
        time.sleep(5)
        states = channel.poll([h for h in handles if h is not None])
        assert len(states) == 101
        assert all(isinstance(s, list) for s in states.values())
        assert sum(1 for r in zendesk.requests if "show_many" in r) == 2


def test_imports_disabled_fails_the_run_for_good(time: FakeTime) -> None:
    with serve_zendesk(clock=time, imports_enabled=False) as zendesk:
        with pytest.raises(ChannelFailed, match="bulk imports are not enabled") as caught:
            channel_for(zendesk, time).submit(people(1), batch_id="b")
        assert caught.value.retry_after is None


def test_a_wrong_token_fails_the_run_about_credentials(
    zendesk: FakeZendesk, time: FakeTime
) -> None:
    with pytest.raises(ChannelFailed, match="credentials") as caught:
        channel_for(zendesk, time, token="wrong").submit(people(1), batch_id="b")
    assert caught.value.retry_after is None


def test_an_outage_outlasting_the_retries_fails_the_run_to_be_tried_later(
    zendesk: FakeZendesk, time: FakeTime
) -> None:
    for _ in range(6):
        zendesk.answer_next(503)
    with pytest.raises(ChannelFailed) as caught:
        channel_for(zendesk, time).submit(people(1), batch_id="b")
    assert caught.value.retry_after is not None
    # An upsert is idempotent: every attempt was a retry of the same POST.
    assert sum(1 for r in zendesk.requests if r.startswith("POST")) == 6


def test_the_accounts_user_fields_are_read_once_and_paged(time: FakeTime) -> None:
    fields = [UserField("a"), UserField("b"), UserField("c")]
    with serve_zendesk(clock=time, user_fields=fields, fields_page_size=2) as zendesk:
        channel = channel_for(zendesk, time)
        for i in range(3):
            channel.prepare(
                OutRecord(str(i), {"name": "A", "external_id": str(i), "user_fields.c": "x"})
            )
        assert [r for r in zendesk.requests if "user_fields" in r] == [
            "GET /api/v2/user_fields.json",
            "GET /api/v2/user_fields.json?page=2",
        ]


def test_the_pace_is_shared_through_the_database(database: Database, time: FakeTime) -> None:
    with serve_zendesk(clock=time) as zendesk:
        # Two channels (two workers) on one destination book from one budget.
        first = channel_for(zendesk, time, database=database)
        second = channel_for(zendesk, time, database=database)
        for i in range(4):
            (first if i % 2 == 0 else second).submit(people(100, i * 100), batch_id=str(i))
        assert zendesk.throttled == 0
        assert len(zendesk.jobs) == 4


def test_user_fields_that_cannot_be_read_stop_the_run(zendesk: FakeZendesk, time: FakeTime) -> None:
    channel = channel_for(zendesk, time, token="wrong")
    record = OutRecord("p", {"name": "A", "external_id": "1", "user_fields.city": "Sydney"})
    with pytest.raises(ChannelFailed, match="credentials"):
        channel.prepare(record)


def test_a_private_address_is_refused_unless_the_destination_allows_it(
    zendesk: FakeZendesk, time: FakeTime
) -> None:
    channel = channel_for(zendesk, time, allow_private=False)
    with pytest.raises(ChannelFailed, match="refused") as caught:
        channel.submit(people(1), batch_id="b")
    assert caught.value.retry_after is None
    assert not any(r.startswith("POST") for r in zendesk.requests)


def test_a_spent_budget_is_waited_out_before_zendesk_has_to_refuse(time: FakeTime) -> None:
    # A plan allowing 3 requests a minute: each answer says how many are left, and at 0 the
    # channel waits for the reset instead of drawing a 429.
    with serve_zendesk(clock=time, requests_per_minute=3) as zendesk:
        channel = channel_for(zendesk, time)
        started = time.now
        for i in range(5):
            channel.submit(people(50, i * 50), batch_id=str(i))
        assert zendesk.throttled == 0
        assert len(zendesk.jobs) == 5
        assert time.now - started >= 60.0
