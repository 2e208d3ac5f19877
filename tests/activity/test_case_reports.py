"""The Cases reports over HTTP on both engines, every expected value computed here from the
rows the test inserts: case_summary over cases closed in the window (means, exact medians
and 90th percentiles, filters, nulls without data), case_volume (a case open for days in
each bucket, one opened and closed inside a bucket, a 25-hour day in New York) and
case_classifications (each case once per classification)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from carebase.activity.case_reports import open_counts
from carebase.db.session import Database
from tests.activity.case_helpers import (
    activity_token,
    add_case,
    add_classification,
    add_mention,
    add_reply,
    classify,
    people,
    post_report,
    report,
)
from tests.conftest import make_token
from tests.inbox.conftest import People

__all__ = ["activity_token", "people"]  # fixtures

SUMMARY_KEYS = [
    "total_cases",
    "first_reply_time",
    "resolution_time",
    "median_first_reply_time",
    "median_resolution_time",
    "agent_interactions",
    "agents_involved",
    "p90_first_reply_time",
    "p90_resolution_time",
]


def at(day: int, hour: int = 12, minute: int = 0, month: int = 3) -> datetime:
    """An instant in 2025 (UTC)."""
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def quantile(values: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: list[float]) -> float:
    """The arithmetic mean."""
    return sum(values) / len(values)


MARCH = {"date_from": "2025-03-01T00:00:00+00:00", "date_to": "2025-03-10T23:59:59+00:00"}


def test_case_summary_over_the_cases_closed_in_the_window(
    client: TestClient, database: Database, activity_token: str
) -> None:
    closed = [  # (first reply s, resolution s, agent replies, agents involved)
        (60.0, 600.0, 2, 1),
        (120.0, 1200.0, 4, 2),
        (300.0, 3000.0, 3, 3),
        (45.0, 7200.0, 7, 2),
    ]
    with database.unit_of_work() as session:
        for n, (first, resolution, replies, agents) in enumerate(closed):
            add_case(
                session,
                at(1 + n),
                at(2 + n),
                first_reply_s=first,
                resolution_s=resolution,
                agent_replies=replies,
                agents_involved=agents,
            )
        # Not counted: closed before the window, closed after it, still open.
        add_case(session, at(20, month=2), at(28, month=2), first_reply_s=1, resolution_s=1)
        add_case(session, at(9), at(11), first_reply_s=9999, resolution_s=9999)
        add_case(session, at(5), None, first_reply_s=5555, resolution_s=5555)
    found = report(client, activity_token, type="case_summary", **MARCH)
    firsts = [c[0] for c in closed]
    resolutions = [c[1] for c in closed]
    assert list(found) == SUMMARY_KEYS
    assert found == {
        "total_cases": 4,
        "first_reply_time": mean(firsts),
        "resolution_time": mean(resolutions),
        "median_first_reply_time": quantile(firsts, 0.5),
        "median_resolution_time": quantile(resolutions, 0.5),
        "agent_interactions": mean([c[2] for c in closed]),
        "agents_involved": mean([c[3] for c in closed]),
        "p90_first_reply_time": quantile(firsts, 0.9),
        "p90_resolution_time": quantile(resolutions, 0.9),
    }


def test_case_summary_without_cases_is_null_statistics(
    client: TestClient, activity_token: str
) -> None:
    found = report(client, activity_token, type="case_summary", **MARCH)
    assert list(found) == SUMMARY_KEYS
    assert found == dict.fromkeys(SUMMARY_KEYS) | {"total_cases": 0}


def test_case_filters_are_a_sent_public_reply_by_the_people_or_a_classified_mention(
    client: TestClient, database: Database, activity_token: str, people: People
) -> None:
    sam, ana, joe = people.agent("Sam"), people.agent("Ana"), people.agent("Joe")
    team = people.group("Team", members=[ana])
    with database.unit_of_work() as session:
        billing = add_classification(session, "Billing", at(1))
        cases = {}
        for name, first in (("sam", 10.0), ("ana", 20.0), ("note", 40.0), ("draft", 80.0)):
            case_id = add_case(session, at(2), at(3), first_reply_s=first, resolution_s=first)
            cases[name] = (case_id, add_mention(session, case_id, at(2)))
        add_reply(session, *cases["sam"], sam, at(2, 13))
        add_reply(session, *cases["ana"], ana, at(2, 13))
        # A private note and an unsent draft are not responses in the case.
        add_reply(session, *cases["note"], sam, at(2, 13), private=True)
        add_reply(session, *cases["note"], joe, at(2, 14))
        add_reply(session, *cases["draft"], sam, at(2, 13), status="draft")
        classify(session, cases["note"][1], billing, at(2))

    def totals(**filters: object) -> tuple[int, float | None]:
        found = report(client, activity_token, type="case_summary", **MARCH, **filters)
        return found["total_cases"], found["first_reply_time"]

    assert totals() == (4, (10 + 20 + 40 + 80) / 4)
    assert totals(users=[sam]) == (1, 10.0)
    assert totals(users=[sam, ana]) == (2, 15.0)
    assert totals(groups=[team]) == (1, 20.0)
    assert totals(users=[]) == (0, None)
    assert totals(classifications=[billing]) == (1, 40.0)
    assert totals(classifications=[billing], users=[sam]) == (0, None)


def expected_open(
    cases: list[tuple[datetime, datetime | None]], bounds: list[tuple[datetime, datetime]]
) -> list[int]:
    """Per bucket [start, end): cases opened before its end and not closed before its start."""
    return [
        sum(1 for o, c in cases if o < end and (c is None or c >= start)) for start, end in bounds
    ]


def test_case_volume_counts_every_case_open_at_some_moment_of_each_day(
    client: TestClient, database: Database, activity_token: str
) -> None:
    timeline: list[tuple[datetime, datetime | None]] = [
        (at(27, 9, month=2), at(3, 12)),  # open across three days of the window
        (at(2, 10), at(2, 11)),  # opens and closes inside one day
        (at(4, 8), None),  # still open
        (at(5, 23, 50), at(6, 1)),  # opens in the last bucket
        (at(20, month=2), at(28, month=2)),  # closed before
        (at(6, 9), None),  # opened after
        (at(1, 0), at(1, 0)),  # an instant, on the first bucket's start
    ]
    with database.unit_of_work() as session:
        billing = add_classification(session, "Billing", at(1))
        for opened, closed in timeline:
            case_id = add_case(session, opened, closed)
            if opened == at(2, 10):
                classify(session, add_mention(session, case_id, opened), billing, opened)
    body = {"date_from": "2025-03-01", "date_to": "2025-03-05", "time_zone": "UTC"}
    found = report(client, activity_token, type="case_volume", **body)
    days = [at(1 + n, 0) for n in range(6)]
    bounds = list(pairwise(days))
    assert list(found) == ["open"]
    assert [list(point) for point in found["open"]] == [["value", "date_range"]] * 5
    assert [point["date_range"] for point in found["open"]] == [
        {"date_from": f"2025-03-0{n} 00:00", "date_from_utc": f"2025-03-0{n}T00:00:00Z"}
        for n in range(1, 6)
    ]
    values = [point["value"] for point in found["open"]]
    assert values == expected_open(timeline, bounds) == [2, 2, 1, 1, 2]
    tagged = report(client, activity_token, type="case_volume", classifications=[billing], **body)
    assert [point["value"] for point in tagged["open"]] == [0, 1, 0, 0, 0]


def test_case_volume_buckets_follow_new_york_across_the_november_change(
    client: TestClient, database: Database, activity_token: str
) -> None:
    new_york = ZoneInfo("America/New_York")
    timeline: list[tuple[datetime, datetime | None]] = [
        # 23:30 to 23:45 on Sunday 2 November, New York time (EST): the 25-hour day.
        (datetime(2025, 11, 3, 4, 30, tzinfo=UTC), datetime(2025, 11, 3, 4, 45, tzinfo=UTC)),
        # 00:30 on 1 November (EDT) until 00:10 on 3 November (EST).
        (datetime(2025, 11, 1, 4, 30, tzinfo=UTC), datetime(2025, 11, 3, 5, 10, tzinfo=UTC)),
        # 23:30 on 31 October (EDT), still open.
        (datetime(2025, 11, 1, 3, 30, tzinfo=UTC), None),
    ]
    with database.unit_of_work() as session:
        for opened, closed in timeline:
            add_case(session, opened, closed)
    body = {"date_from": "2025-10-31", "date_to": "2025-11-04", "time_zone": "America/New_York"}
    found = report(client, activity_token, type="case_volume", **body)
    midnights = [datetime(2025, 10, 31, tzinfo=new_york) + timedelta(days=n) for n in range(6)]
    starts = [m.astimezone(UTC) for m in midnights]
    bounds = list(pairwise(starts))
    assert bounds[2][1] - bounds[2][0] == timedelta(hours=25)
    assert [point["date_range"]["date_from"] for point in found["open"]] == [
        "2025-10-31 00:00",
        "2025-11-01 00:00",
        "2025-11-02 00:00",
        "2025-11-03 00:00",
        "2025-11-04 00:00",
    ]
    assert [point["date_range"]["date_from_utc"] for point in found["open"]] == [
        start.strftime("%Y-%m-%dT%H:%M:%SZ") for start, _ in bounds
    ]
    values = [point["value"] for point in found["open"]]
    assert values == expected_open(timeline, bounds) == [1, 2, 3, 2, 1]


def test_open_counts_sweeps_openings_and_closings() -> None:
    # Two open at the start; one opens and closes in bucket 1; one closes in bucket 2.
    assert open_counts(2, [0, 1, 0, 0], [0, 1, 1, 0]) == [2, 3, 2, 1]
    assert open_counts(0, [], []) == []


def test_case_classifications_counts_each_active_case_once_per_classification(
    client: TestClient, database: Database, activity_token: str
) -> None:
    with database.unit_of_work() as session:
        billing = add_classification(session, "Billing", at(1))
        refund = add_classification(session, "Refund", at(1))
        spam = add_classification(session, "Spam", at(1))
        unused = add_classification(session, "Unused", at(1))
        # Active: open across the window's start, closed inside, opened inside and open.
        across = add_case(session, at(25, month=2), at(2))
        inside = add_case(session, at(3), at(4))
        still = add_case(session, at(8), None)
        # Not active: closed before the window, opened after it.
        before = add_case(session, at(1, month=2), at(27, month=2))
        after = add_case(session, at(12), None)
        tags = {
            across: [[billing, refund], [billing]],  # two mentions: counted once
            inside: [[refund]],
            still: [[refund, spam]],
            before: [[billing, spam]],
            after: [[spam]],
        }
        for case_id, mentions in tags.items():
            for classification_ids in mentions:
                mention_id = add_mention(session, case_id, at(5))
                for classification_id in classification_ids:
                    classify(session, mention_id, classification_id, at(5))
    found = report(client, activity_token, type="case_classifications", **MARCH)
    active = [across, inside, still]
    volumes = {
        c: sum(1 for case_id in active if any(c in ids for ids in tags[case_id]))
        for c in (billing, refund, spam, unused)
    }
    names = {billing: "Billing", refund: "Refund", spam: "Spam"}
    expected = sorted((c for c, n in volumes.items() if n), key=lambda c: (-volumes[c], c))
    assert found == [
        {"classification_id": c, "classification": names[c], "volume": volumes[c]} for c in expected
    ]
    assert [list(row) for row in found] == [["classification_id", "classification", "volume"]] * 3
    assert [row["volume"] for row in found] == [3, 1, 1]


def test_case_reports_need_the_activity_read_scope(client: TestClient, database: Database) -> None:
    other = make_token(database, "inbox:read", name="inbox")
    answer = post_report(client, other, type="case_volume", **MARCH)
    assert answer.status_code == 403


def test_case_volume_is_hourly_under_four_days(
    client: TestClient, database: Database, activity_token: str
) -> None:
    timeline: list[tuple[datetime, datetime | None]] = [
        (at(2, 9, 50), at(2, 10, 5)),  # two hours
        (at(2, 11, 10), at(2, 11, 40)),  # inside one hour
        (at(2, 12, 59), None),  # the last minute of the window's last hour
    ]
    with database.unit_of_work() as session:
        for opened, closed in timeline:
            add_case(session, opened, closed)
    body = {"date_from": "2025-03-02T09:00:00+00:00", "date_to": "2025-03-02T12:59:59+00:00"}
    found = report(client, activity_token, type="case_volume", **body)
    hours = [at(2, 9 + n, 0) for n in range(5)]
    assert [point["date_range"]["date_from"] for point in found["open"]] == [
        f"2025-03-02 {9 + n:02d}:00" for n in range(4)
    ]
    values = [point["value"] for point in found["open"]]
    assert values == expected_open(timeline, list(pairwise(hours))) == [1, 1, 1, 1]
