"""POST /v1/activity/reports refuses exactly as the reference documents: 400 with its wording
(`invalid_report`), 401 without a token or with a wrong one, 404 for an unknown NPS form, 429
after 100 requests in 5 minutes with one token (another token unaffected)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from carebase.db.session import Database
from tests.conftest import FakeClock, make_token
from tests.inbox.forms_helpers import make_form

APRIL = {"date_from": "2018-04-01T00:00:00+11:00", "date_to": "2018-04-30T23:59:59+11:00"}


@pytest.fixture
def token(database: Database) -> str:
    return make_token(database, "activity:read", name="activity")


def report(client: TestClient, token: str | None, **body: Any) -> Any:
    headers = {"Auth-Api-Token": token} if token else {}
    return client.post("/v1/activity/reports", json=body, headers=headers)


def refused(response: Any, status: int, code: str, message: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    if message is not None:
        assert error["message"] == message
    return error


def test_a_range_over_12_months_is_too_long(client: TestClient, token: str) -> None:
    response = report(
        client,
        token,
        type="summary",
        date_from="2018-04-01T00:00:00+11:00",
        date_to="2019-04-02T00:00:00+11:00",
    )
    error = refused(response, 400, "invalid_report", "Invalid report - date range is too long")
    assert error["details"][0]["field"] == "date_to"


def test_exactly_12_months_is_allowed(client: TestClient, token: str) -> None:
    response = report(
        client,
        token,
        type="summary",
        date_from="2018-04-01T00:00:00+11:00",
        date_to="2019-03-31T23:59:59+11:00",
    )
    assert response.status_code == 200, response.text
    assert response.json()["total_volume"] == 0


def test_a_start_in_the_future_is_refused(client: TestClient, token: str, clock: FakeClock) -> None:
    start = clock.now + timedelta(days=1)
    response = report(
        client,
        token,
        type="summary",
        date_from=start.isoformat(),
        date_to=(start + timedelta(days=2)).isoformat(),
    )
    error = refused(
        response, 400, "invalid_report", "Invalid report - starting date is a future date"
    )
    assert error["details"][0]["field"] == "date_from"


@pytest.mark.parametrize("kind", ["bogus", "", "SUMMARY", "user_volumes"])
def test_an_unknown_type_is_invalid(client: TestClient, token: str, kind: str) -> None:
    error = refused(
        report(client, token, type=kind, **APRIL),
        400,
        "invalid_report",
        "Invalid report - invalid type",
    )
    assert error["details"][0]["field"] == "type"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_to": "2018-13-01"}, "date_to"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"nps_category": "fans"}, "nps_category"),
        ({"date_from": "2018-04-30T00:00:00+11:00", "date_to": "2018-04-01"}, "date_to"),
    ],
)
def test_a_field_that_does_not_read_is_named(
    client: TestClient, token: str, fields: dict[str, str], field: str
) -> None:
    body = {"type": "summary", **APRIL, **fields}
    error = refused(report(client, token, **body), 400, "invalid_report")
    assert error["message"].startswith("Invalid report - ")
    assert [d["field"] for d in error["details"]] == [field]


def test_without_a_token_401(client: TestClient) -> None:
    refused(report(client, None, type="summary", **APRIL), 401, "unauthenticated")


@pytest.mark.parametrize(
    "wrong", ["12345678-1234-1234-1234-123456789", "cb_" + "A" * 36, "Bearer x"]
)
def test_with_a_wrong_token_401(client: TestClient, wrong: str) -> None:
    refused(report(client, wrong, type="summary", **APRIL), 401, "invalid_token")


def test_either_header_authenticates(client: TestClient, token: str) -> None:
    bearer = client.post(
        "/v1/activity/reports",
        json={"type": "summary", **APRIL},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert bearer.status_code == 200, bearer.text
    assert report(client, token, type="summary", **APRIL).json() == bearer.json()


def test_a_token_without_the_scope_403(client: TestClient, database: Database) -> None:
    other = make_token(database, "profiles:read", name="profiles")
    refused(report(client, other, type="summary", **APRIL), 403, "insufficient_scope")


def test_an_unknown_nps_form_404(client: TestClient, token: str) -> None:
    for kind in ("nps_summary", "nps_volume"):
        refused(
            report(client, token, type=kind, form=999_999, nps_category="all", **APRIL),
            404,
            "not_found",
        )


def test_a_form_that_is_not_nps_or_none_at_all_400_naming_form(
    client: TestClient, token: str, database: Database, clock: FakeClock
) -> None:
    competition = make_form(database, clock.now, "Competition", nps=False)
    for body in ({"form": competition}, {}):
        error = refused(
            report(client, token, type="nps_summary", **APRIL, **body), 400, "invalid_report"
        )
        assert [d["field"] for d in error["details"]] == ["form"]


def test_an_nps_form_answers(
    client: TestClient, token: str, database: Database, clock: FakeClock
) -> None:
    form = make_form(database, clock.now)
    response = report(client, token, type="nps_summary", form=form, **APRIL)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "total_sent": 0,
        "total_received": 0,
        "total_promoters": 0,
        "total_passives": 0,
        "total_detractors": 0,
        "nps_score": None,
        "response_rate": None,
        "average_score": None,
    }


def test_the_101st_request_in_5_minutes_is_rate_limited_per_token(
    client: TestClient, token: str, database: Database, clock: FakeClock
) -> None:
    body = {"type": "summary", **APRIL}
    for n in range(100):
        response = report(client, token, **body)
        assert response.status_code == 200, (n, response.text)
        clock.advance(2)  # 100 requests in 200 seconds: inside one 5-minute window
    limited = report(client, token, **body)
    error = refused(limited, 429, "rate_limited")
    assert error["message"]
    assert int(limited.headers["Retry-After"]) > 0
    # Another token has its own 100.
    other = make_token(database, "activity:read", name="another application")
    assert report(client, other, **body).status_code == 200
    # The first is still refused a moment later, and served again once the window passed.
    clock.advance(5)
    assert report(client, token, **body).status_code == 429
    clock.advance(600)
    assert report(client, token, **body).status_code == 200
