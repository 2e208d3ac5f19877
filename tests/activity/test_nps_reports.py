"""The NPS reports over HTTP on both engines, every expected value computed here from the
scores the test inserts: the category edges (6 detractor, 7 and 8 passive, 9 promoter),
nps_score = 100·(P - D)/received, nps_category, the people filters (the agent, the agent's
groups then), no data → nulls, unknown and non-NPS forms, and nps_volume's buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from carebase.activity.nps_reports import summarise
from carebase.db.session import Database
from tests.activity.case_helpers import (
    activity_token,
    add_answer,
    add_form,
    add_invitation,
    people,
    post_report,
    report,
)
from tests.inbox.conftest import People

__all__ = ["activity_token", "people"]  # fixtures

KEYS = [
    "total_sent",
    "total_received",
    "total_promoters",
    "total_passives",
    "total_detractors",
    "nps_score",
    "response_rate",
    "average_score",
]
APRIL = {"date_from": "2025-04-01T00:00:00+00:00", "date_to": "2025-04-10T23:59:59+00:00"}


def at(day: int, hour: int = 12, minute: int = 0, month: int = 4) -> datetime:
    """An instant in 2025 (UTC)."""
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def category(score: int) -> str:
    """Promoter 9-10, passive 7-8, detractor 0-6, written out here."""
    return "promoters" if score in (9, 10) else "passives" if score in (7, 8) else "detractors"


def expected(sent: int, scores: list[int]) -> dict[str, Any]:
    """The nps_summary object for these scores, computed independently."""
    p = sum(1 for s in scores if category(s) == "promoters")
    a = sum(1 for s in scores if category(s) == "passives")
    d = sum(1 for s in scores if category(s) == "detractors")
    n = len(scores)
    return {
        "total_sent": sent,
        "total_received": n,
        "total_promoters": p,
        "total_passives": a,
        "total_detractors": d,
        "nps_score": 100 * (p - d) / n if n else None,
        "response_rate": n / sent if sent else None,
        "average_score": sum(scores) / n if n else None,
    }


def test_nps_summary_counts_categories_at_their_edges_and_scores_p_minus_d(
    client: TestClient, database: Database, activity_token: str
) -> None:
    scores = [0, 6, 7, 8, 9, 10, 10, 3]
    with database.unit_of_work() as session:
        form = add_form(session, at(1))
        other = add_form(session, at(1))
        for n in range(11):
            add_invitation(session, form, at(1 + n % 9), None, [])
        add_invitation(session, form, at(20), None, [])  # after the window
        add_invitation(session, other, at(2), None, [])  # another form
        for n, score in enumerate(scores):
            add_answer(session, form, at(2 + n % 8), score)
        add_answer(session, form, at(3), None)  # no score: not an answer
        add_answer(session, form, at(28, month=3), 10)  # before the window
        add_answer(session, other, at(3), 0)
    found = report(client, activity_token, type="nps_summary", form=form, **APRIL)
    assert list(found) == KEYS
    assert found == expected(11, scores)
    assert found["nps_score"] == 100 * (3 - 3) / 8
    for wanted in ("promoters", "passives", "detractors"):
        kept = [s for s in scores if category(s) == wanted]
        narrowed = report(
            client, activity_token, type="nps_summary", form=form, nps_category=wanted, **APRIL
        )
        assert narrowed == expected(11, kept), wanted
    everything = report(
        client, activity_token, type="nps_summary", form=form, nps_category="all", **APRIL
    )
    assert everything == found


def test_the_category_edges_one_by_one(
    client: TestClient, database: Database, activity_token: str
) -> None:
    with database.unit_of_work() as session:
        forms = {score: add_form(session, at(1)) for score in (6, 7, 8, 9)}
        for score, form in forms.items():
            add_answer(session, form, at(2), score)
    totals = {
        score: report(client, activity_token, type="nps_summary", form=form, **APRIL)
        for score, form in forms.items()
    }
    assert [totals[6]["total_detractors"], totals[6]["nps_score"]] == [1, -100.0]
    assert [totals[7]["total_passives"], totals[7]["nps_score"]] == [1, 0.0]
    assert [totals[8]["total_passives"], totals[8]["nps_score"]] == [1, 0.0]
    assert [totals[9]["total_promoters"], totals[9]["nps_score"]] == [1, 100.0]


def test_without_answers_the_statistics_are_null(
    client: TestClient, database: Database, activity_token: str
) -> None:
    with database.unit_of_work() as session:
        form = add_form(session, at(1))
        add_invitation(session, form, at(2), None, [])
    found = report(client, activity_token, type="nps_summary", form=form, **APRIL)
    assert found == {
        "total_sent": 1,
        "total_received": 0,
        "total_promoters": 0,
        "total_passives": 0,
        "total_detractors": 0,
        "nps_score": None,
        "response_rate": 0.0,
        "average_score": None,
    }
    assert summarise(0, {}, "all")["response_rate"] is None


def test_users_and_groups_filter_by_the_agent_and_the_agents_groups_then(
    client: TestClient, database: Database, activity_token: str, people: People
) -> None:
    sam, ana, joe = people.agent("Sam"), people.agent("Ana"), people.agent("Joe")
    north = people.group("North", members=[ana])
    south = people.group("South")
    with database.unit_of_work() as session:
        form = add_form(session, at(1))
        add_invitation(session, form, at(2), sam, [])
        add_invitation(session, form, at(2), ana, [])
        add_invitation(session, form, at(2), joe, [south])  # Joe was in South then
        add_invitation(session, form, at(2), None, [])
        add_answer(session, form, at(3), 10, sam, [])
        add_answer(session, form, at(3), 2, ana, [])
        add_answer(session, form, at(3), 7, joe, [south])
        add_answer(session, form, at(3), 9, None, [north, south])

    def filtered(**filters: object) -> Any:
        return report(client, activity_token, type="nps_summary", form=form, **APRIL, **filters)

    assert filtered() == expected(4, [10, 2, 7, 9])
    assert filtered(users=[sam]) == expected(1, [10])
    assert filtered(users=[sam, ana]) == expected(2, [10, 2])
    assert filtered(groups=[north]) == expected(1, [2, 9])  # Ana is a member; one by group
    assert filtered(groups=[south]) == expected(1, [7, 9])
    assert filtered(users=[sam], groups=[south]) == expected(2, [10, 7, 9])
    assert filtered(users=[]) == expected(0, [])


def test_unknown_missing_and_non_nps_forms_are_refused(
    client: TestClient, database: Database, activity_token: str
) -> None:
    with database.unit_of_work() as session:
        plain = add_form(session, at(1), nps=False)
    for kind in ("nps_summary", "nps_volume"):
        unknown = post_report(client, activity_token, type=kind, form=987654, **APRIL)
        assert unknown.status_code == 404, unknown.text
        not_nps = post_report(client, activity_token, type=kind, form=plain, **APRIL)
        assert not_nps.status_code == 400
        assert not_nps.json()["error"]["details"][0]["field"] == "form"
        missing = post_report(client, activity_token, type=kind, **APRIL)
        assert missing.status_code == 400
        assert missing.json()["error"]["details"][0]["field"] == "form"


def test_nps_volume_is_one_summary_per_hour_with_the_utc_start(
    client: TestClient, database: Database, activity_token: str
) -> None:
    with database.unit_of_work() as session:
        form = add_form(session, at(1))
        add_invitation(session, form, at(1, 13, 5), None, [])
        add_invitation(session, form, at(1, 13, 55), None, [])
        add_invitation(session, form, at(1, 15, 0), None, [])
        add_answer(session, form, at(1, 13, 59), 9)
        add_answer(session, form, at(1, 15, 15), 4)
        add_answer(session, form, at(1, 15, 45), 8)
        add_answer(session, form, at(1, 16, 0), 10)  # after the window
    body = {"date_from": "2025-04-01T13:00:00+00:00", "date_to": "2025-04-01T15:59:59+00:00"}
    found = report(client, activity_token, type="nps_volume", form=form, **body)
    assert [list(row) for row in found] == [["date", "timestamp", "data"]] * 3
    assert [row["date"] for row in found] == [
        "2025-04-01T13:00:00+00:00",
        "2025-04-01T14:00:00+00:00",
        "2025-04-01T15:00:00+00:00",
    ]
    assert [row["timestamp"] for row in found] == [
        int(at(1, 13 + n, 0).timestamp()) for n in range(3)
    ]
    assert [list(row["data"]) for row in found] == [KEYS] * 3
    assert [row["data"] for row in found] == [
        expected(2, [9]),
        expected(0, []),
        expected(1, [4, 8]),
    ]


def test_nps_volume_days_follow_new_york_across_the_november_change(
    client: TestClient, database: Database, activity_token: str
) -> None:
    new_york = ZoneInfo("America/New_York")
    with database.unit_of_work() as session:
        form = add_form(session, at(1))
        # 23:30 on Sunday 2 November (EST, the 25-hour day) and 00:30 on the 3rd.
        add_answer(session, form, datetime(2025, 11, 3, 4, 30, tzinfo=UTC), 10)
        add_answer(session, form, datetime(2025, 11, 3, 5, 30, tzinfo=UTC), 0)
        # 00:30 on 2 November (EDT).
        add_answer(session, form, datetime(2025, 11, 2, 4, 30, tzinfo=UTC), 5)
    body = {"date_from": "2025-10-31", "date_to": "2025-11-04", "time_zone": "America/New_York"}
    found = report(client, activity_token, type="nps_volume", form=form, **body)
    starts = [
        (datetime(2025, 10, 31, tzinfo=new_york) + timedelta(days=n)).astimezone(UTC)
        for n in range(5)
    ]
    assert [row["date"] for row in found] == [start.isoformat() for start in starts]
    assert found[2]["date"] == "2025-11-02T04:00:00+00:00"
    assert found[3]["date"] == "2025-11-03T05:00:00+00:00"
    assert [row["timestamp"] for row in found] == [int(s.timestamp()) for s in starts]
    assert [row["data"]["total_received"] for row in found] == [0, 0, 2, 1, 0]
    assert found[2]["data"] == expected(0, [5, 10])


def test_the_registry_lists_the_cases_and_nps_types() -> None:
    from carebase.activity.catalog import report_types

    kinds = report_types()
    assert {name: kinds[name].section for name in ("case_summary", "case_volume")} == {
        "case_summary": "Cases",
        "case_volume": "Cases",
    }
    assert kinds["case_classifications"].section == "Cases"
    assert [kinds[name].needs_form for name in ("nps_summary", "nps_volume")] == [True, True]
    assert not kinds["case_summary"].needs_form
    assert all(kinds[name].description for name in ("nps_summary", "nps_volume", "case_volume"))
