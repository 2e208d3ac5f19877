"""docs/query.md lists every view's columns as the code defines them, and its examples run."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from carebase.db.session import Database
from carebase.query.views import markdown_tables
from tests.query.conftest import bearer

DOC = Path(__file__).resolve().parents[2] / "docs" / "query.md"


def test_the_column_tables_are_the_code_s() -> None:
    text = DOC.read_text()
    assert text.endswith("## Columns\n\n" + markdown_tables()), (
        "regenerate: python -m carebase.query.views"
    )


EXAMPLES = {
    "sqlite": [
        "SELECT profile_id, count(*) AS tickets FROM ticket_events WHERE created_at >= "
        "datetime('now', '-120 days') GROUP BY profile_id HAVING count(*) >= 3",
        "SELECT c.profile_id FROM customer_360 AS c WHERE EXISTS "
        "(SELECT 1 FROM json_each(c.tags) AS t WHERE t.value = 'vip')",
        "SELECT json_extract(total_spend, '$.AUD') FROM customer_360",
    ],
    "postgresql": [
        "SELECT profile_id, count(*) AS tickets FROM ticket_events WHERE created_at >= "
        "now() - interval '120 days' GROUP BY profile_id HAVING count(*) >= 3",
        "SELECT c.profile_id FROM customer_360 AS c WHERE c.tags ? 'vip'",
        "SELECT (total_spend->>'AUD')::numeric FROM customer_360",
    ],
}
UNHAPPY_VIPS = (
    "SELECT c.profile_id, c.full_name, s.total_spend FROM customer_360 AS c "
    "JOIN customer_spend AS s ON s.profile_id = c.profile_id "
    "WHERE s.currency = 'AUD' AND s.total_spend > 500 AND c.profile_id IN "
    "(SELECT profile_id FROM ticket_events WHERE satisfaction_score = 'bad' AND {recent})"
)


def test_the_examples_run(
    client: TestClient, demo: Database, runner_token: str, database_url: str
) -> None:
    engine = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    recent = (
        "created_at >= datetime('now', '-400 days')"
        if engine == "sqlite"
        else "created_at >= now() - interval '400 days'"
    )
    for sql in [*EXAMPLES[engine], UNHAPPY_VIPS.format(recent=recent)]:
        response = client.post("/v1/query", json={"sql": sql}, headers=bearer(runner_token))
        assert response.status_code == 200, (sql, response.text)
    vip = client.post(
        "/v1/query", json={"sql": EXAMPLES[engine][1]}, headers=bearer(runner_token)
    ).json()
    assert vip["rows"]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_examples_cover_both_engines(engine: str) -> None:
    assert len(EXAMPLES[engine]) == 3
