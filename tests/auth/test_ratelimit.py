"""Per-token rate limits: the sliding-window arithmetic and the 429 the API answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from carebase.app import create_app
from carebase.auth import ratelimit
from carebase.db.session import Database
from carebase.settings import RateLimit
from tests.conftest import FakeClock, make_token, test_settings


def test_cap_shrinks_with_previous_window_weight() -> None:
    assert ratelimit.current_cap(previous_hits=0, limit=10, period=60, elapsed=0) == 10
    assert ratelimit.current_cap(previous_hits=10, limit=10, period=60, elapsed=0) == 0
    assert ratelimit.current_cap(previous_hits=10, limit=10, period=60, elapsed=30) == 5
    assert ratelimit.current_cap(previous_hits=10, limit=10, period=60, elapsed=60) == 10


def test_wait_within_window_follows_previous_decay() -> None:
    # 10 hits last window, 0 now, at the start: one more fits once the old weight is 0.9.
    wait = ratelimit.seconds_until_allowed(10, 0, limit=10, period=60, elapsed=0)
    assert wait == pytest.approx(6.0)


def test_wait_spills_into_next_window_when_current_is_full() -> None:
    wait = ratelimit.seconds_until_allowed(0, 10, limit=10, period=60, elapsed=20)
    assert wait == pytest.approx(40 + 6.0)


def test_counts_are_shared_through_the_database(database: Database) -> None:
    policy = RateLimit(3, 60)
    now = 1_000_020.0
    decisions = []
    for _ in range(4):
        # A fresh session per request, as separate worker processes would have.
        with database.counters() as session:
            decisions.append(ratelimit.check(session, "tok_x:admin", policy, now))
    assert [d.allowed for d in decisions if d] == [True, True, True, False]
    assert [d.remaining for d in decisions if d] == [2, 1, 0, 0]
    refused = decisions[-1]
    assert refused is not None
    assert refused.retry_after_seconds >= 1
    with database.counters() as session:
        other = ratelimit.check(session, "tok_y:admin", policy, now)
    assert other is not None
    assert other.allowed


def test_unlimited_policy_counts_nothing(database: Database) -> None:
    with database.counters() as session:
        assert ratelimit.check(session, "tok_x:admin", RateLimit.parse("unlimited"), 0.0) is None


@pytest.fixture
def limited_client(database_url: str, database: Database, clock: FakeClock) -> Iterator[TestClient]:
    settings = test_settings(database_url, rate_limits={"admin": "3/1m"})
    with TestClient(create_app(settings, database=database, clock=clock)) as client:
        yield client


def test_over_the_limit_answers_429_with_retry_after(
    limited_client: TestClient, database: Database, clock: FakeClock
) -> None:
    token = make_token(database, "admin")
    headers = {"Auth-Api-Token": token}
    answers = [limited_client.get("/v1/tokens", headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].headers["RateLimit-Limit"] == "3"
    assert answers[0].headers["RateLimit-Remaining"] == "2"
    assert answers[0].headers["RateLimit-Policy"] == "3;w=60"

    refused = limited_client.get("/v1/tokens", headers=headers)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 120
    assert refused.headers["RateLimit-Remaining"] == "0"

    clock.advance(retry_after)
    assert limited_client.get("/v1/tokens", headers=headers).status_code == 200


def test_limits_are_per_token(limited_client: TestClient, database: Database) -> None:
    first, second = make_token(database, "admin"), make_token(database, "admin")
    for _ in range(3):
        limited_client.get("/v1/tokens", headers={"Auth-Api-Token": first})
    assert limited_client.get("/v1/tokens", headers={"Auth-Api-Token": first}).status_code == 429
    assert limited_client.get("/v1/tokens", headers={"Auth-Api-Token": second}).status_code == 200


def test_refused_requests_do_not_extend_the_wait(
    limited_client: TestClient, database: Database, clock: FakeClock
) -> None:
    token = make_token(database, "admin")
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(3):
        limited_client.get("/v1/tokens", headers=headers)
    first_refusal = limited_client.get("/v1/tokens", headers=headers)
    for _ in range(20):
        limited_client.get("/v1/tokens", headers=headers)
    clock.advance(int(first_refusal.headers["Retry-After"]))
    assert limited_client.get("/v1/tokens", headers=headers).status_code == 200


def test_peek_counts_nothing_and_agrees_with_check(database: Database) -> None:
    policy = RateLimit(2, 60)
    now = 1_000_020.0
    with database.counters() as session:
        for _ in range(2):
            peeked = ratelimit.peek(session, "b", policy, now)
            assert peeked is not None
            assert peeked.allowed
            assert ratelimit.peek(session, "b", policy, now) == peeked
            counted = ratelimit.check(session, "b", policy, now)
            assert counted is not None
            assert (counted.allowed, counted.remaining) == (True, peeked.remaining)
        refused = ratelimit.peek(session, "b", policy, now)
        assert refused is not None
        assert not refused.allowed
        assert refused == ratelimit.check(session, "b", policy, now)
        assert ratelimit.peek(session, "b", RateLimit.parse("unlimited"), now) is None


def test_refund_and_clear(database: Database) -> None:
    policy = RateLimit(2, 60)
    now = 1_000_020.0
    with database.counters() as session:
        ratelimit.check(session, "b", policy, now)
        ratelimit.check(session, "b", policy, now)
        ratelimit.refund(session, "b", policy, now)
        assert ratelimit.check(session, "b", policy, now).allowed  # type: ignore[union-attr]
        ratelimit.clear(session, "b")
        decision = ratelimit.peek(session, "b", policy, now)
        assert decision is not None
        assert decision.remaining == 1
        # A refund never goes below zero.
        ratelimit.refund(session, "b", policy, now)
        ratelimit.refund(session, "c", policy, now)
        assert ratelimit.peek(session, "b", policy, now) == decision
