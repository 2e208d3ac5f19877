"""The safe SQL API: POST /v1/query (JSON and CSV), the views list, saved queries, errors."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from carebase.app import create_app
from carebase.db.session import Database
from tests.conftest import FakeClock, make_token, test_settings
from tests.query.conftest import bearer
from tests.query.test_engines import RUNAWAY
from tests.query.test_gate import AMPERITY


def _run(client: TestClient, token: str, sql: str, **extra: object) -> dict[str, object]:
    response = client.post("/v1/query", json={"sql": sql, **extra}, headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_the_amperity_examples_run(client: TestClient, demo: Database, runner_token: str) -> None:
    with demo.unit_of_work(write=False) as session:
        live = session.execute(
            text("SELECT count(*) FROM profiles WHERE merged_into_id IS NULL")
        ).scalar_one()
    for sql in AMPERITY:
        body = _run(client, runner_token, sql, limit=10_000)
        assert body["truncated"] is False
        rows = body["rows"]
        assert isinstance(rows, list)
        assert len(rows) == live
    body = _run(client, runner_token, AMPERITY[2], limit=10_000)
    assert body["columns"] == [
        "external_id", "name", "email", "phone", "user_fields.address", "user_fields.address2",
        "user_fields.city", "user_fields.state", "user_fields.postal",
    ]  # fmt: skip
    named = [row for row in body["rows"] if row[1]]  # type: ignore[union-attr]
    assert named
    assert all(row[1] == row[1].lower() for row in named)
    assert all(row[2] for row in named)


def test_frequent_complainers_match_an_independent_count(
    client: TestClient, demo: Database, runner_token: str
) -> None:
    with demo.unit_of_work(write=False) as session:
        expected = sorted(
            session.execute(
                text("SELECT profile_id FROM tickets GROUP BY profile_id HAVING count(*) >= 3")
            ).scalars()
        )
    body = _run(
        client,
        runner_token,
        "SELECT profile_id FROM customer_360 WHERE ticket_count >= 3 ORDER BY profile_id",
        limit=1000,
    )
    assert [row[0] for row in body["rows"]] == expected  # type: ignore[union-attr]
    assert expected


def test_rows_are_capped_and_flagged(client: TestClient, demo: Database, runner_token: str) -> None:
    body = _run(client, runner_token, "SELECT profile_id, last_ticket_date FROM customer_360")
    assert 20 < len(body["rows"]) < 100  # type: ignore[arg-type]
    assert body["truncated"] is False
    body = _run(client, runner_token, "SELECT profile_id FROM ticket_events", limit=7)
    assert len(body["rows"]) == 7  # type: ignore[arg-type]
    assert body["truncated"] is True
    body = _run(client, runner_token, "SELECT created_at FROM ticket_events", limit=1)
    assert body["rows"][0][0].endswith("+00:00")  # type: ignore[index]
    assert isinstance(body["elapsed_ms"], float)
    too_many = client.post(
        "/v1/query", json={"sql": "SELECT 1", "limit": 10_001}, headers=bearer(runner_token)
    )
    assert too_many.status_code == 422


def test_csv_download(client: TestClient, demo: Database, runner_token: str) -> None:
    response = client.post(
        "/v1/query",
        json={
            "sql": "SELECT profile_id, tags, ticket_count FROM customer_360",
            "format": "csv",
            "limit": 5,
        },
        headers=bearer(runner_token),
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["carebase-truncated"] == "true"
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["profile_id", "tags", "ticket_count"]
    assert len(rows) == 6
    assert rows[1][1].startswith("[")


@pytest.mark.parametrize(
    ("sql", "code", "why"),
    [
        ("SELECT * FROM api_tokens", "sql_refused", "'api_tokens' is not a published view"),
        ("DELETE FROM customer_360", "sql_refused", "DELETE is not allowed"),
        ("SELECT 1; SELECT 2", "sql_refused", "Only one statement"),
        ("SELECT set_config('role', 'x', true)", "sql_refused", "set_config() is not allowed"),
        ("SELECT nope FROM customer_360", "sql_refused", "'nope' could not be resolved"),
        ("SELECT FROM WHERE", "sql_syntax_error", "could not be parsed"),
    ],
)
def test_refusals_are_400s_naming_why(
    client: TestClient, runner_token: str, sql: str, code: str, why: str
) -> None:
    response = client.post("/v1/query", json={"sql": sql}, headers=bearer(runner_token))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert why in error["message"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_engine_error_is_a_400(client: TestClient, demo: Database, runner_token: str) -> None:
    response = client.post(
        "/v1/query",
        json={"sql": "SELECT CAST(full_name AS INTEGER) FROM customer_360"},
        headers=bearer(runner_token),
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "sql_error"
    assert "invalid input syntax" in response.json()["error"]["message"]


def test_the_views_are_listed(client: TestClient, runner_token: str) -> None:
    response = client.get("/v1/query/views", headers=bearer(runner_token))
    assert response.status_code == 200
    views = {view["name"]: view for view in response.json()["items"]}
    assert next(iter(views)) == "customer_360"
    columns = {column["name"]: column for column in views["customer_360"]["columns"]}
    assert columns["ticket_count"]["type"] == "integer"
    assert columns["total_spend"]["type"] == "json"
    assert "satisfaction_score" in {c["name"] for c in views["ticket_events"]["columns"]}


def test_scopes(client: TestClient, database: Database, runner_token: str) -> None:
    reader = make_token(database, "profiles:read")
    denied = client.post("/v1/query", json={"sql": "SELECT 1"}, headers=bearer(reader))
    assert denied.status_code == 403
    saving = client.post(
        "/v1/queries", json={"name": "x", "sql": "SELECT 1"}, headers=bearer(runner_token)
    )
    assert saving.status_code == 403


def test_saved_queries(
    client: TestClient, demo: Database, writer_token: str, runner_token: str
) -> None:
    headers = bearer(writer_token)
    sql = "SELECT profile_id, email FROM customer_360 WHERE ticket_count >= 3"
    created = client.post(
        "/v1/queries",
        json={"name": "Frequent complainers", "description": "3+ tickets", "sql": sql},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    saved = created.json()
    assert saved["id"].startswith("qry_")
    assert saved["created_by"]
    assert (
        client.post(
            "/v1/queries", json={"name": "Frequent complainers", "sql": sql}, headers=headers
        ).status_code
        == 409
    )
    refused = client.post(
        "/v1/queries", json={"name": "bad", "sql": "SELECT * FROM users"}, headers=headers
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "sql_refused"

    listed = client.get("/v1/queries", headers=bearer(runner_token)).json()
    assert [item["name"] for item in listed["items"]] == ["Frequent complainers"]
    ran = client.post(f"/v1/queries/{saved['id']}/run", headers=bearer(runner_token))
    assert ran.status_code == 200
    assert ran.json()["columns"] == ["profile_id", "email"]
    direct = _run(client, runner_token, sql)
    assert ran.json()["rows"] == direct["rows"]
    capped = client.post(
        f"/v1/queries/{saved['id']}/run",
        json={"limit": 1, "format": "csv"},
        headers=bearer(runner_token),
    )
    assert capped.status_code == 200
    assert capped.text.startswith("profile_id,email")

    changed = client.put(
        f"/v1/queries/{saved['id']}",
        json={
            "name": "Complainers",
            "description": "",
            "sql": "SELECT profile_id FROM customer_360",
        },
        headers=headers,
    )
    assert changed.status_code == 200
    assert changed.json()["name"] == "Complainers"
    assert (
        client.get(f"/v1/queries/{saved['id']}", headers=bearer(runner_token)).json()["sql"]
        == "SELECT profile_id FROM customer_360"
    )
    assert client.delete(f"/v1/queries/{saved['id']}", headers=headers).status_code == 204
    assert client.get(f"/v1/queries/{saved['id']}", headers=headers).status_code == 404
    assert client.post(f"/v1/queries/{saved['id']}/run", headers=headers).status_code == 404


@pytest.fixture
def quick_client(database_url: str, database: Database) -> Iterator[TestClient]:
    """The app with a 2-second query deadline."""
    settings = test_settings(database_url, query_timeout_seconds=2.0)
    app = create_app(settings, database=database, clock=FakeClock(), run_jobs=False)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_runaway_query_stops_and_the_server_answers_meanwhile(
    quick_client: TestClient, database: Database
) -> None:
    token = make_token(database, "query:run", "ingest")
    admin = make_token(database, "admin")
    answers: dict[str, object] = {}

    def runaway() -> None:
        started = time.monotonic()
        response = quick_client.post("/v1/query", json={"sql": RUNAWAY}, headers=bearer(token))
        answers["runaway"] = (response.status_code, response.json(), time.monotonic() - started)
        answers["runaway_done"] = time.monotonic()

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.2)
    views = quick_client.get("/v1/query/views", headers=bearer(token))
    quick = quick_client.post("/v1/query", json={"sql": "SELECT 1 AS one"}, headers=bearer(token))
    # A write is not held up either (on SQLite a query takes no turn of the single writer).
    dataset = quick_client.post(
        "/v1/datasets",
        json={"name": "meanwhile", "record_type": "customer_support_ticket"},
        headers=bearer(admin),
    )
    answered = time.monotonic()
    thread.join(timeout=30)
    assert views.status_code == 200
    assert quick.json()["rows"] == [[1]]
    assert dataset.status_code == 201, dataset.text
    assert answered < answers["runaway_done"]  # type: ignore[operator]
    status, body, took = answers["runaway"]  # type: ignore[misc]
    assert status == 400
    assert body["error"]["code"] == "query_timeout"  # type: ignore[index]
    assert 1.9 < took < 8
