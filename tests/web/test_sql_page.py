"""The SQL page over HTTP, on both engines: managers only; the views and their columns;
a query's rows as a table (and as the htmx fragment), the truncated notice, refusals in
words, CSV download, and saved queries saved, opened, run again and deleted."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carebase.web.pages import sql
from tests.console_session import ConsoleUser
from tests.helpers import Brand
from tests.web.console import console, field_errors, signed_in_as, toast

HTMX = {"HX-Request": "true", "HX-Target": "sql-result"}
QUERY = "SELECT c.profile_id, c.email FROM customer_360 AS c ORDER BY c.email"


@pytest.fixture
def emails(client: TestClient, admin_token: str) -> list[str]:
    """Three customers with an email each."""
    brand = Brand(client, admin_token)
    found = [f"c{n}@fake.com" for n in range(3)]
    for number, email in enumerate(found):
        brand.post(
            "customer_record",
            {"link": {"email": email}, "email": email, "first_name": f"C{number}"},
        )
    return found


def test_only_managers_use_sql(app: FastAPI, people: dict[str, ConsoleUser]) -> None:
    with console(app) as client:
        agent = signed_in_as(client, people["agent"])
        assert agent.get("/sql").status_code == 403
        assert agent.post("/sql", data={"sql": QUERY}).status_code == 403


def test_the_page_lists_the_views_and_their_columns(manager: TestClient) -> None:
    page = manager.get("/sql")
    assert page.status_code == 200
    assert "<code>customer_360</code>" in page.text
    assert "<code>ticket_events</code>" in page.text
    assert "<td><code>full_name</code></td>" in page.text
    assert '<textarea id="sql" name="sql" class="code-editor"' in page.text
    assert "None yet" in page.text


def test_a_query_answers_a_table(manager: TestClient, emails: list[str]) -> None:
    page = manager.post("/sql", data={"sql": QUERY, "action": "run"})
    assert page.status_code == 200
    assert '<th scope="col">email</th>' in page.text
    assert re.findall(r"<td>(c\d@fake\.com)</td>", page.text) == emails
    assert re.search(r"3 rows in [\d.,]+ ms", page.text)
    fragment = manager.post("/sql", data={"sql": QUERY, "action": "run"}, headers=HTMX)
    assert fragment.text.startswith('<div id="sql-result"')
    assert "<textarea" not in fragment.text


def test_more_rows_than_shown_say_so(manager: TestClient, emails: list[str]) -> None:
    # 3⁵ rows: five copies of the view, joined.
    sql_text = (
        "SELECT a.profile_id FROM customer_360 AS a, customer_360 AS b, customer_360 AS c,"
        " customer_360 AS d, customer_360 AS e"
    )
    assert sql.SHOWN_ROWS < 3**5
    page = manager.post("/sql", data={"sql": sql_text, "action": "run"})
    assert "Showing the first 100 rows: there are more." in page.text
    table = page.text.split('class="table table--sql"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr><td>") == sql.SHOWN_ROWS


@pytest.mark.parametrize(
    ("sql_text", "title"),
    [
        ("DELETE FROM customer_360", "Refused"),
        ("SELECT * FROM users", "Refused"),
        ("SELECT c.email FROM customer_360 AS c; SELECT 1", "Refused"),
        ("SELECT c.email FROM customer_360 AS c WHERE (", "The SQL could not be read"),
    ],
)
def test_refusals_are_shown_in_words(manager: TestClient, sql_text: str, title: str) -> None:
    page = manager.post("/sql", data={"sql": sql_text, "action": "run"})
    assert page.status_code == 200
    shown = re.search(r'role="alert">.*?<strong>(.*?)</strong></p><p>(.*?)</p>', page.text, re.S)
    assert shown is not None, page.text[-3000:]
    assert shown.group(1) == title
    assert shown.group(2)
    # The SQL stays in the editor to be fixed.
    assert '<table class="table table--sql">' not in page.text


def test_the_result_downloads_as_csv(manager: TestClient, emails: list[str]) -> None:
    download = manager.post("/sql", data={"sql": QUERY, "action": "csv"})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows[0] == ["profile_id", "email"]
    assert [row[1] for row in rows[1:]] == emails
    refused = manager.post("/sql", data={"sql": "DROP TABLE users", "action": "csv"})
    assert refused.status_code == 400
    assert "Refused" in refused.text


def test_saved_queries_are_saved_opened_run_again_and_deleted(
    manager: TestClient, emails: list[str]
) -> None:
    nameless = manager.post("/sql", data={"sql": QUERY, "action": "save", "name": ""})
    assert nameless.status_code == 422
    assert "save-name" in field_errors(nameless) or "name" in field_errors(nameless)
    saved = manager.post("/sql", data={"sql": QUERY, "action": "save", "name": "Emails"})
    assert saved.status_code == 303
    opened = manager.get(saved.headers["location"])
    assert toast(opened) == "Saved Emails."
    assert QUERY in opened.text
    query_id = re.search(r"query=(qry_[^&]+)", saved.headers["location"])
    assert query_id is not None
    again = manager.get(f"/sql?query={query_id.group(1)}&run=1")
    assert re.findall(r"<td>(c\d@fake\.com)</td>", again.text) == emails
    taken = manager.post("/sql", data={"sql": QUERY, "action": "save", "name": "Emails"})
    assert taken.status_code == 422
    refused = manager.post("/sql", data={"sql": "DELETE FROM users", "action": "save", "name": "X"})
    assert refused.status_code == 422
    assert "Only SQL that passes the checks can be saved" in refused.text
    deleted = manager.post(f"/sql/queries/{query_id.group(1)}/delete")
    assert deleted.status_code == 303
    assert "None yet" in manager.get("/sql").text
