"""The Profile Read API's hot path runs a fixed, small number of SQL statements: one for the
profile with all its attributes and ticket windows, one for its links, one for its recent
tickets, plus the token read. A regression that adds a query per table fails here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from carebase.db.session import Database
from tests.conftest import make_token
from tests.helpers import Brand, auth, ticket


@contextmanager
def _counting(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        sql: str = args[2]
        # Queries only: SQLite's BEGIN (the engine's own transaction control) is not one, and
        # the rate-limit counter (its own file on SQLite, its own transaction on PostgreSQL,
        # tested in tests/auth) is not the read's.
        if sql.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SET ")):
            return
        if "rate_limit_counters" not in sql:
            statements.append(sql)

    event_target = database.engine
    event.listen(event_target, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(event_target, "before_cursor_execute", count)


def _read(client: TestClient, token: str, path: str) -> dict[str, Any]:
    response = client.get(path, headers=auth(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_read_runs_the_token_read_and_three_statements(
    client: TestClient, admin_token: str, database: Database
) -> None:
    brand = Brand(client, admin_token)
    brand.post("customer_support_ticket", ticket("1"), ticket("2"))
    brand.post("customer_record", {"link": {"email": "aaron@gmail.com"}, "first_name": "Aaron"})
    reader = make_token(database, "profiles:read")
    path = "/v1/profiles/by/email/aaron@gmail.com"
    # The first use stamps the token's last_used_at (once a minute): not the read path.
    first = _read(client, reader, path)
    with _counting(database) as statements:
        body = _read(client, reader, path)
    assert body == first
    # The token, the profile with its attributes and windows, its links, its tickets.
    assert len(statements) == 4, statements
    with _counting(database) as statements:
        _read(client, reader, f"{path}?tickets=0")
    assert len(statements) == 3, statements
    with _counting(database) as statements:
        by_id = _read(client, reader, f"/v1/profiles/{body['id']}")
    assert len(statements) == 4, statements
    assert by_id == body
    assert body["attributes"]["ticket_count"] == 2
    assert body["customer"]["first_name"] == "Aaron"
    assert len(body["tickets"]) == 2


def test_a_merged_id_costs_one_more_statement(
    client: TestClient, admin_token: str, database: Database
) -> None:
    brand = Brand(client, admin_token)
    brand.post("customer_record", {"link": {"email": "a@x.org"}}, {"link": {"email": "b@x.org"}})
    before = {brand.profile("email", email)["id"] for email in ("a@x.org", "b@x.org")}
    brand.post("unify", {"records": [{"email": "a@x.org"}, {"email": "b@x.org"}]})
    survivor = brand.profile("email", "a@x.org")
    (merged,) = before - {survivor["id"]}
    reader = make_token(database, "profiles:read")
    _read(client, reader, "/v1/profiles/by/email/a@x.org")
    with _counting(database) as statements:
        body = _read(client, reader, f"/v1/profiles/{merged}")
    assert len(statements) == 5, statements
    assert body["resolved_from"] == merged
    assert {k: v for k, v in body.items() if k != "resolved_from"} == {
        k: v for k, v in survivor.items() if k != "resolved_from"
    }
