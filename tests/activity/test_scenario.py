"""A week of a small team around the end of daylight saving in Sydney, on both engines: every
value of every report type the API answers equals what the oracle (tests/activity/oracle.py)
computes from the scenario's raw facts by the contract's definitions. Then the DST days
themselves, in New York and Sydney: one bucket for a 25-hour day, with the right counts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from carebase.db.session import Database
from carebase.settings import Settings
from tests.activity.compare import differences
from tests.activity.oracle import REPORTS, Ask, Oracle
from tests.activity.scenario import SYDNEY, Facts, Seeded, seed
from tests.conftest import make_token
from tests.inbox.conftest import make_mention

NEW_YORK = ZoneInfo("America/New_York")


def post(client: TestClient, token: str, body: dict[str, Any]) -> Any:
    response = client.post("/v1/activity/reports", json=body, headers={"Auth-Api-Token": token})
    assert response.status_code == 200, (body, response.text)
    return response.json()


def body_of(kind: str, ask: Ask) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": kind,
        "date_from": ask.date_from.isoformat(),
        "date_to": ask.date_to.isoformat(),
        "time_zone": ask.zone.key,
    }
    for name in ("users", "groups", "classifications"):
        value = getattr(ask, name)
        if value is not None:
            body[name] = sorted(value)
    if kind.startswith("nps_"):
        body["form"] = ask.form
        body["nps_category"] = ask.nps_category
    return body


def asks(seeded: Seeded) -> dict[str, Ask]:
    """The requests the scenario is checked with: the whole week (daily, a 25-hour day in
    it), two days around the change (hourly), the reference's April, and filters."""
    week = (
        datetime(2018, 3, 30, tzinfo=SYDNEY),
        datetime(2018, 4, 5, 23, 59, 59, tzinfo=SYDNEY),
    )
    u, g, c = seeded.users, seeded.groups, seeded.classifications
    return {
        "week": Ask(*week, SYDNEY, form=seeded.form),
        "hours": Ask(
            datetime(2018, 3, 31, 6, tzinfo=SYDNEY),
            datetime(2018, 4, 1, 17, 59, 59, tzinfo=SYDNEY),
            SYDNEY,
            form=seeded.form,
        ),
        "april": Ask(
            datetime.fromisoformat("2018-04-01T00:00:00+11:00"),
            datetime.fromisoformat("2018-04-30T23:59:59+11:00"),
            SYDNEY,
            form=seeded.form,
            nps_category="promoters",
        ),
        "users": Ask(*week, SYDNEY, users=frozenset({u["jane"], u["cleo"]}), form=seeded.form),
        "groups": Ask(
            *week,
            SYDNEY,
            groups=frozenset({g["sales"]}),
            form=seeded.form,
            nps_category="detractors",
        ),
        "classifications": Ask(
            *week,
            SYDNEY,
            classifications=frozenset({c["amusing"], c["feedback"]}),
            form=seeded.form,
        ),
        "hours, filtered": Ask(
            datetime(2018, 3, 31, 20, tzinfo=SYDNEY),
            datetime(2018, 4, 2, 8, tzinfo=SYDNEY),
            SYDNEY,
            users=frozenset({u["jane"], u["dev"]}),
            classifications=frozenset({c["customer service"]}),
            form=seeded.form,
        ),
        # Nobody: every count 0, every statistic null.
        "nobody": Ask(*week, SYDNEY, users=frozenset({999_999}), form=seeded.form),
        "utc": Ask(
            datetime(2018, 3, 30, tzinfo=UTC),
            datetime(2018, 4, 4, 12, tzinfo=UTC),
            ZoneInfo("UTC"),
            form=seeded.form,
            nps_category="passives",
        ),
    }


def test_every_report_value_matches_the_oracle(
    client: TestClient, database: Database, settings: Settings
) -> None:
    seeded = seed(database, settings)
    oracle = Oracle(Facts.read(database))
    problems: list[str] = []
    for name, ask in asks(seeded).items():
        # A token per request set: the API allows 100 requests per 5 minutes per token.
        token = make_token(database, "activity:read", name=f"activity {name}")
        for kind in REPORTS:
            expected = oracle.report(kind, ask)
            response = client.post(
                "/v1/activity/reports", json=body_of(kind, ask), headers={"Auth-Api-Token": token}
            )
            if response.status_code != 200:
                problems.append(f"{name}/{kind}: {response.status_code} {response.text:.200}")
                continue
            problems += [f"{name}/{kind} {d}" for d in differences(response.json(), expected)]
    assert problems == [], "\n".join(problems[:60])


def test_the_scenario_has_something_in_every_report(database: Database, settings: Settings) -> None:
    # The oracle's own answers are not trivially empty: a comparison of nulls proves little.
    seeded = seed(database, settings)
    oracle = Oracle(Facts.read(database))
    week = asks(seeded)["week"]
    summary = oracle.summary(week)
    assert summary["total_volume"] >= 25
    assert 0 < summary["broke_sla"] < summary["total_responded_to"] < summary["total_volume"]
    assert summary["broke_action_sla"] > 0
    assert len(oracle.user_summary(week)) >= 4
    assert len(oracle.states(week)) >= 5
    cases = oracle.case_summary(week)
    assert cases["total_cases"] >= 3
    assert cases["agents_involved"] > 1
    assert any(p["value"] for p in oracle.case_volume(week)["open"])
    assert len(oracle.case_classifications(week)) == 3
    nps = oracle.nps_summary(week)
    assert nps["total_promoters"]
    assert nps["total_detractors"]
    assert nps["total_passives"]
    assert nps["total_sent"] > nps["total_received"]
    assert len(oracle.states_volume(asks(seeded)["hours"])["new"]) == 37  # 36 h + the repeat


# DST: the day the clocks go back is one bucket of 25 hours; in hourly series the repeated
# hour is two buckets with the same label and their own UTC starts.


def mentions_at(database: Database, instants: list[datetime]) -> None:
    with database.unit_of_work() as session:
        for at in instants:
            make_mention(session, published_at=at)


def series(client: TestClient, token: str, body: dict[str, Any]) -> list[tuple[str, str, int]]:
    answer = post(client, token, {"type": "states_volume", **body})
    return [
        (p["date_range"]["date_from"], p["date_range"]["date_from_utc"], p["value"])
        for p in answer["new"]
    ]


def test_new_york_november_the_25_hour_day_is_one_bucket(
    client: TestClient, database: Database
) -> None:
    # 4 November 2018: 02:00 EDT becomes 01:00 EST.
    local = [
        datetime(2018, 11, 3, 23, 59, tzinfo=NEW_YORK),
        datetime(2018, 11, 4, 0, 0, tzinfo=NEW_YORK),
        datetime(2018, 11, 4, 1, 30, tzinfo=NEW_YORK),  # EDT (fold 0)
        datetime(2018, 11, 4, 1, 30, fold=1, tzinfo=NEW_YORK),  # EST, an hour later
        datetime(2018, 11, 4, 23, 59, 59, tzinfo=NEW_YORK),
        datetime(2018, 11, 5, 0, 0, tzinfo=NEW_YORK),
    ]
    mentions_at(database, [at.astimezone(UTC) for at in local])
    token = make_token(database, "activity:read")
    days = series(
        client,
        token,
        {"date_from": "2018-11-02", "date_to": "2018-11-06", "time_zone": "America/New_York"},
    )
    assert days == [
        ("2018-11-02 00:00", "2018-11-02T04:00:00Z", 0),
        ("2018-11-03 00:00", "2018-11-03T04:00:00Z", 1),
        ("2018-11-04 00:00", "2018-11-04T04:00:00Z", 4),
        ("2018-11-05 00:00", "2018-11-05T05:00:00Z", 1),
        ("2018-11-06 00:00", "2018-11-06T05:00:00Z", 0),
    ]
    hours = series(
        client,
        token,
        {
            "date_from": "2018-11-04T00:00:00-04:00",
            "date_to": "2018-11-04T02:59:59-05:00",
            "time_zone": "America/New_York",
        },
    )
    assert hours == [
        ("2018-11-04 00:00", "2018-11-04T04:00:00Z", 1),
        ("2018-11-04 01:00", "2018-11-04T05:00:00Z", 1),
        ("2018-11-04 01:00", "2018-11-04T06:00:00Z", 1),
        ("2018-11-04 02:00", "2018-11-04T07:00:00Z", 0),
    ]


def test_sydney_april_the_25_hour_day_is_one_bucket(client: TestClient, database: Database) -> None:
    # 1 April 2018: 03:00 AEDT becomes 02:00 AEST.
    local = [
        datetime(2018, 4, 1, 0, 10, tzinfo=SYDNEY),
        datetime(2018, 4, 1, 2, 30, tzinfo=SYDNEY),  # AEDT
        datetime(2018, 4, 1, 2, 30, fold=1, tzinfo=SYDNEY),  # AEST
        datetime(2018, 4, 1, 23, 30, tzinfo=SYDNEY),
        datetime(2018, 4, 2, 0, 30, tzinfo=SYDNEY),
    ]
    mentions_at(database, [at.astimezone(UTC) for at in local])
    token = make_token(database, "activity:read")
    days = series(
        client,
        token,
        {"date_from": "2018-03-31", "date_to": "2018-04-04", "time_zone": "Australia/Sydney"},
    )
    assert days == [
        ("2018-03-31 00:00", "2018-03-30T13:00:00Z", 0),
        ("2018-04-01 00:00", "2018-03-31T13:00:00Z", 4),
        ("2018-04-02 00:00", "2018-04-01T14:00:00Z", 1),
        ("2018-04-03 00:00", "2018-04-02T14:00:00Z", 0),
        ("2018-04-04 00:00", "2018-04-03T14:00:00Z", 0),
    ]
    hours = series(
        client,
        token,
        {
            "date_from": "2018-04-01T02:00:00+11:00",
            "date_to": "2018-04-01T03:59:59+10:00",
            "time_zone": "Australia/Sydney",
        },
    )
    assert hours == [
        ("2018-04-01 02:00", "2018-03-31T15:00:00Z", 1),
        ("2018-04-01 02:00", "2018-03-31T16:00:00Z", 1),
        ("2018-04-01 03:00", "2018-03-31T17:00:00Z", 0),
    ]


@pytest.mark.parametrize(
    ("zone", "date_from", "date_to", "labels"),
    [
        ("America/New_York", "2018-11-04T00:00:00-04:00", "2018-11-04T02:00:00-05:00",
         ["00:00", "01:00", "01:00", "02:00"]),
        ("Australia/Sydney", "2018-04-01T01:00:00+11:00", "2018-04-01T02:00:00+10:00",
         ["01:00", "02:00", "02:00"]),
    ],
)  # fmt: skip
def test_the_oracle_buckets_agree_with_the_hand_written_ones(
    zone: str, date_from: str, date_to: str, labels: list[str]
) -> None:
    from tests.activity.oracle import buckets

    ask = Ask(datetime.fromisoformat(date_from), datetime.fromisoformat(date_to), ZoneInfo(zone))
    assert [b.label[-5:] for b in buckets(ask)] == labels


def test_the_oracle_covers_every_registered_report_type() -> None:
    from carebase.activity.catalog import report_types

    # mention_sla_export answers a job's token, not figures (test_reference_examples.py).
    assert set(report_types()) == {*REPORTS, "mention_sla_export"}
