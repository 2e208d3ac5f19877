"""The Summary reports (summary, states_volume, states, classifications) and
response_volume through POST /v1/activity/reports, on both engines. Every expected value is
computed here from the rows the test inserted (seed.rows), with the contract's definitions."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from carebase.inbox.workflow import STATES
from tests.activity.conftest import Row, Seed, body_for, report
from tests.inbox.conftest import People

FROM, TO = "2026-03-05", "2026-03-14"
WINDOW_START = datetime(2026, 3, 5, tzinfo=UTC)
WINDOW_END = datetime(2026, 3, 15, tzinfo=UTC)  # exclusive here; the API's end is 23:59:59.9
DAYS = [date(2026, 3, 5) + timedelta(days=n) for n in range(10)]


def quantile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks (numpy's default), written out."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def per_minute(value: float | None) -> float | None:
    return None if value is None else value / 60


@dataclass
class World:
    agents: list[int]
    groups: dict[int, list[int]]
    topics: list[int]
    seed: Seed

    def cohort(
        self,
        *,
        users: Sequence[int] | None = None,
        groups: Sequence[int] | None = None,
        classifications: Sequence[int] | None = None,
    ) -> list[Row]:
        """The contract's mention cohort M over the seeded rows."""
        found = []
        for row in self.seed.rows:
            if not WINDOW_START <= row.published_at < WINDOW_END:
                continue
            people = {row.assignee_id, row.first_responder_id} - {None}
            if users is not None or groups is not None:
                members = {m for g in groups or () for m in self.groups[g]}
                ok = bool(people & set(users or ())) or bool(people & members)
                ok = ok or row.assigned_group_id in set(groups or ())
                if not ok:
                    continue
            if classifications is not None and not set(row.classifications) & set(classifications):
                continue
            found.append(row)
        return found


def build_world(people: People, seed: Seed) -> World:
    """Three agents (two in groups), two groups, three classifications and 70 mentions over
    20 days (10 of them in the window), with tied and distinct response times."""
    a1, a2, a3 = people.agent("Ann"), people.agent("Bob"), people.agent("Cat")
    g1, g2 = people.group(members=[a1]), people.group(members=[a2])
    topics = [seed.classification() for _ in range(3)]
    rng = random.Random(11)
    for _ in range(70):
        published = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(
            minutes=rng.randrange(0, 20 * 24 * 60)
        )
        responded = rng.random() < 0.7
        response_s = (
            rng.choice([300.0, 300.0, 900.0, rng.uniform(10, 20000)]) if responded else None
        )
        action_s = rng.choice([None, 120.0, rng.uniform(5, 9000)]) if responded else None
        seed.mention(
            published_at=published,
            state=rng.choice(STATES),
            assignee_id=rng.choice([None, a1, a2, a3]),
            first_responder_id=rng.choice([a1, a2, a3]) if responded else None,
            assigned_group_id=rng.choice([None, None, g1, g2]),
            response_s=response_s,
            action_s=action_s,
            broke_sla=None if response_s is None else response_s > 7200,
            broke_action_sla=None if action_s is None else action_s > 3600,
            responded_in_private=None if response_s is None else rng.random() < 0.3,
            classifications=rng.sample(topics, rng.randrange(0, 3)),
        )
    # One exactly at the window's first instant and one at its last second.
    seed.mention(published_at=WINDOW_START, state="closed", response_s=60.0)
    seed.mention(published_at=WINDOW_END - timedelta(seconds=1), state="new")
    return World([a1, a2, a3], {g1: [a1], g2: [a2]}, topics, seed)


@pytest.fixture
def world(people: People, seed: Seed) -> World:
    return build_world(people, seed)


def filter_sets(world: World) -> list[dict[str, Any]]:
    a1, a2, _ = world.agents
    g1, g2 = list(world.groups)
    return [
        {},
        {"users": [a1]},
        {"users": [a2, a1]},
        {"groups": [g1]},
        {"groups": [g2], "users": [a1]},
        {"classifications": [world.topics[0]]},
        {"classifications": world.topics[1:], "groups": [g1, g2]},
    ]


def expected_summary(rows: list[Row]) -> dict[str, Any]:
    response = [r.response_s for r in rows if r.response_s is not None]
    action = [r.action_s for r in rows if r.action_s is not None]
    return {
        "total_volume": len(rows),
        "avg_response_time": mean(response),
        "avg_action_response_time": mean(action),
        "total_responded_to": len(response),
        "broke_sla": sum(1 for r in rows if r.broke_sla),
        "broke_action_sla": sum(1 for r in rows if r.broke_action_sla),
        "min_response_time": min(response, default=None),
        "median_response_time": quantile(response, 0.5),
        "max_response_time": max(response, default=None),
        "min_action_response_time": min(action, default=None),
        "median_action_response_time": quantile(action, 0.5),
        "max_action_response_time": max(action, default=None),
        "avg_action_response_time_min": per_minute(mean(action)),
        "avg_response_time_min": per_minute(mean(response)),
        "median_action_response_time_min": per_minute(quantile(action, 0.5)),
        "median_response_time_min": per_minute(quantile(response, 0.5)),
        "p90_response_time": quantile(response, 0.9),
        "p90_action_response_time": quantile(action, 0.9),
        "p90_response_time_min": per_minute(quantile(response, 0.9)),
        "p90_action_response_time_min": per_minute(quantile(action, 0.9)),
        "response_time_count": len(response),
        "action_response_time_count": len(action),
    }


def approx(value: Any) -> Any:
    """pytest.approx through lists and dicts (the database sums floats in its own order)."""
    if isinstance(value, dict):
        return {k: approx(v) for k, v in value.items()}
    if isinstance(value, list):
        return [approx(v) for v in value]
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-9)
    return value


def run(client: TestClient, token: str, kind: str, **fields: Any) -> Any:
    response = report(client, token, body_for(kind, FROM, TO, time_zone="UTC", **fields))
    assert response.status_code == 200, response.text
    return response.json()


def by_day(rows: list[Row], value: Callable[[list[Row]], Any]) -> dict[str, Any]:
    """{bucket label: value(rows published that UTC day)} over the window's days."""
    return {
        f"{day} 00:00": value([r for r in rows if r.published_at.date() == day]) for day in DAYS
    }


def series(points: list[dict[str, Any]]) -> dict[str, Any]:
    return {p["date_range"]["date_from"]: p["value"] for p in points}


def test_summary_matches_the_rows_under_every_filter(
    client: TestClient, world: World, activity_token: str
) -> None:
    for filters in filter_sets(world):
        answer = run(client, activity_token, "summary", **filters)
        expected = expected_summary(world.cohort(**filters))
        assert list(answer) == list(expected), "field order is the contract's"
        assert answer == approx(expected), filters
    assert run(client, activity_token, "summary")["total_volume"] > 20


def test_states_volume_and_states_agree_with_the_rows(
    client: TestClient, world: World, activity_token: str
) -> None:
    for filters in filter_sets(world):
        rows = world.cohort(**filters)
        volume = run(client, activity_token, "states_volume", **filters)
        assert list(volume) == list(STATES)
        for state, points in volume.items():
            assert [p["state"] for p in points] == [state] * len(DAYS)
            assert [p["date_range"]["date_from"] for p in points] == [f"{d} 00:00" for d in DAYS]
            assert points[0]["date_range"]["date_from_utc"] == "2026-03-05T00:00:00Z"
            assert series(points) == by_day(
                rows, lambda day, s=state: sum(1 for r in day if r.state == s)
            )
        totals = {s: sum(1 for r in rows if r.state == s) for s in STATES}
        expected = sorted(
            ({"state": s, "volume": n} for s, n in totals.items() if n),
            key=lambda item: (-item["volume"], STATES.index(item["state"])),
        )
        assert run(client, activity_token, "states", **filters) == expected
        # The totals of `states` are the sums of the buckets of `states_volume`.
        summed = {s: sum(p["value"] for p in points) for s, points in volume.items()}
        assert {i["state"]: i["volume"] for i in expected} == {s: n for s, n in summed.items() if n}


def test_classifications_per_state(client: TestClient, world: World, activity_token: str) -> None:
    names = world.seed.classification_names
    for filters in filter_sets(world):
        rows = world.cohort(**filters)
        expected = []
        for topic in sorted(names):
            tagged = [r for r in rows if topic in r.classifications]
            if not tagged:
                continue
            item = {"classification_id": topic, "classification": names[topic]}
            expected.append({**item, "state": "all_states", "volume": len(tagged)})
            for state in STATES:
                n = sum(1 for r in tagged if r.state == state)
                if n:
                    expected.append({**item, "state": state, "volume": n})
        assert run(client, activity_token, "classifications", **filters) == expected


def test_response_volume_per_day(client: TestClient, world: World, activity_token: str) -> None:
    for filters in filter_sets(world):
        rows = world.cohort(**filters)

        def times(day: list[Row]) -> list[float]:
            return [r.response_s for r in day if r.response_s is not None]

        answer = run(client, activity_token, "response_volume", **filters)
        assert list(answer) == ["avg_response_time", "avg_response_time_min", "responded"]
        assert series(answer["avg_response_time"]) == approx(by_day(rows, lambda d: mean(times(d))))
        assert series(answer["avg_response_time_min"]) == approx(
            by_day(rows, lambda d: per_minute(mean(times(d))))
        )
        responded = series(answer["responded"])
        assert responded == by_day(rows, lambda d: len(times(d)))
        total = run(client, activity_token, "summary", **filters)["total_responded_to"]
        assert sum(responded.values()) == total


def test_no_data_is_null_not_zero(client: TestClient, seed: Seed, activity_token: str) -> None:
    seed.mention(published_at=datetime(2026, 2, 1, tzinfo=UTC), response_s=10.0)  # outside
    summary = run(client, activity_token, "summary")
    counts = {
        "total_volume",
        "total_responded_to",
        "broke_sla",
        "broke_action_sla",
        "response_time_count",
        "action_response_time_count",
    }
    assert {k: v for k, v in summary.items() if k in counts} == dict.fromkeys(counts, 0)
    assert all(v is None for k, v in summary.items() if k not in counts)
    assert run(client, activity_token, "states") == []
    assert run(client, activity_token, "classifications") == []
    volume = run(client, activity_token, "states_volume")
    assert all(p["value"] == 0 for points in volume.values() for p in points)
    responses = run(client, activity_token, "response_volume")
    assert [p["value"] for p in responses["avg_response_time"]] == [None] * len(DAYS)
    assert [p["value"] for p in responses["avg_response_time_min"]] == [None] * len(DAYS)
    assert [p["value"] for p in responses["responded"]] == [0] * len(DAYS)
    # A filter naming nobody's mentions is also no data.
    empty = run(client, activity_token, "summary", users=[987654])
    assert empty["total_volume"] == 0
    assert empty["median_response_time"] is None


def test_a_sydney_day_of_25_hours_is_one_bucket(
    client: TestClient, seed: Seed, activity_token: str
) -> None:
    # Daylight saving ends in Sydney on Sunday 2026-04-05 at 03:00 (+11:00 → +10:00): that
    # day runs from 2026-04-04T13:00Z to 2026-04-05T14:00Z.
    zone = ZoneInfo("Australia/Sydney")
    instants = [
        datetime(2026, 4, 4, 12, 59, tzinfo=UTC),  # 04-04 23:59 local
        datetime(2026, 4, 4, 13, 0, tzinfo=UTC),  # 04-05 00:00 local
        datetime(2026, 4, 5, 13, 30, tzinfo=UTC),  # 04-05 23:30 (+10), 04-06 00:30 at +11
        datetime(2026, 4, 5, 14, 0, tzinfo=UTC),  # 04-06 00:00 local
        datetime(2026, 4, 6, 13, 59, tzinfo=UTC),  # 04-06 23:59 local
    ]
    for at, seconds in zip(instants, [60.0, 120.0, 240.0, 480.0, 960.0], strict=True):
        seed.mention(published_at=at, state="closed", response_s=seconds)
    body = body_for("response_volume", "2026-04-03", "2026-04-08", time_zone="Australia/Sydney")
    response = report(client, activity_token, body)
    assert response.status_code == 200, response.text
    responded = response.json()["responded"]
    labels = [p["date_range"]["date_from"] for p in responded]
    assert labels == [f"2026-04-0{d} 00:00" for d in range(3, 9)]
    expected: dict[str, int] = dict.fromkeys(labels, 0)
    for at in instants:
        expected[f"{at.astimezone(zone).date()} 00:00"] += 1
    assert series(responded) == expected == {**expected, "2026-04-05 00:00": 2}
    utc_starts = [p["date_range"]["date_from_utc"] for p in responded]
    assert utc_starts[2:4] == ["2026-04-04T13:00:00Z", "2026-04-05T14:00:00Z"]
    means = series(response.json()["avg_response_time"])
    assert means["2026-04-05 00:00"] == pytest.approx(180.0)
    assert means["2026-04-06 00:00"] == pytest.approx(720.0)
    # The same report in UTC cuts the days elsewhere.
    utc = report(client, activity_token, {**body, "time_zone": "UTC"}).json()["responded"]
    assert series(utc)["2026-04-04 00:00"] == 2
    assert series(responded)["2026-04-04 00:00"] == 1


def test_hourly_buckets_below_four_days(
    client: TestClient, seed: Seed, activity_token: str
) -> None:
    seed.mention(published_at=datetime(2026, 3, 6, 10, 14, tzinfo=UTC), state="new")
    seed.mention(published_at=datetime(2026, 3, 6, 10, 59, tzinfo=UTC), state="new")
    seed.mention(published_at=datetime(2026, 3, 6, 11, 0, tzinfo=UTC), state="closed")
    body = body_for("states_volume", "2026-03-06", "2026-03-07", time_zone="UTC")
    volume = report(client, activity_token, body).json()
    assert len(volume["new"]) == 48
    assert series(volume["new"])["2026-03-06 10:00"] == 2
    assert series(volume["closed"])["2026-03-06 11:00"] == 1
    assert sum(p["value"] for points in volume.values() for p in points) == 3


@pytest.mark.parametrize(
    ("fields", "message", "field"),
    [
        ({"type": "no_such_report"}, "Invalid report - invalid type", "type"),
        (
            {"date_from": "2025-01-01", "date_to": "2026-01-02"},
            "Invalid report - date range is too long",
            "date_to",
        ),
        (
            {"date_from": "2027-01-01", "date_to": "2027-01-02"},
            "Invalid report - starting date is a future date",
            "date_from",
        ),
        ({"date_from": "2026-13-45"}, None, "date_from"),
        ({"date_to": "yesterday"}, None, "date_to"),
        ({"time_zone": "Mars/Olympus_Mons"}, None, "time_zone"),
    ],
)
def test_refused_requests_say_why(
    client: TestClient,
    activity_token: str,
    fields: dict[str, Any],
    message: str | None,
    field: str,
) -> None:
    body = {**body_for("summary", FROM, TO), **fields}
    response = report(client, activity_token, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_report"
    if message is not None:
        assert error["message"] == message
    assert field in error["message"] or [d["field"] for d in error["details"]] == [field]


def test_the_token_is_required_in_either_header(
    client: TestClient, seed: Seed, activity_token: str, admin_token: str
) -> None:
    seed.mention(published_at=datetime(2026, 3, 6, tzinfo=UTC))
    body = body_for("summary", FROM, TO, time_zone="UTC")
    assert report(client, None, body).status_code == 401
    assert report(client, "not-a-token", body).status_code == 401
    by_header = report(client, activity_token, body)
    by_bearer = report(client, activity_token, body, bearer=True)
    assert by_header.status_code == by_bearer.status_code == 200
    assert by_header.json() == by_bearer.json()
    assert by_bearer.json()["total_volume"] == 1


def test_a_zone_at_plus_five_forty_five_cuts_days_at_quarter_hours(
    client: TestClient, seed: Seed, activity_token: str
) -> None:
    # Kathmandu's midnight of 10 March is 2026-03-09T18:15Z.
    seed.mention(published_at=datetime(2026, 3, 9, 18, 14, 59, tzinfo=UTC), state="new")
    seed.mention(published_at=datetime(2026, 3, 9, 18, 15, tzinfo=UTC), state="new")
    seed.mention(published_at=datetime(2026, 3, 9, 18, 29, tzinfo=UTC), state="closed")
    body = body_for("states_volume", FROM, TO, time_zone="Asia/Kathmandu")
    volume = report(client, activity_token, body).json()
    assert series(volume["new"])["2026-03-09 00:00"] == 1
    assert series(volume["new"])["2026-03-10 00:00"] == 1
    assert series(volume["closed"])["2026-03-10 00:00"] == 1
    assert volume["new"][5]["date_range"]["date_from_utc"] == "2026-03-09T18:15:00Z"
