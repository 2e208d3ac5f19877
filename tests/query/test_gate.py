"""The parser gate, on its own: what passes, what is refused and why (no database)."""

from __future__ import annotations

import pytest

from carebase.errors import SqlRefused, SqlSyntaxError
from carebase.query.gate import CheckedQuery, check
from carebase.query.views import schema_for_gate

SCHEMA = schema_for_gate()
ENGINES = ["sqlite", "postgresql"]
# Amperity's "Send query results to Zendesk" examples, amperity_id read as profile_id.
AMPERITY = [
    "SELECT profile_id ,profile_id AS external_id ,email AS email ,LOWER(full_name) AS name "
    ",phone AS phone FROM Customer_360",
    "SELECT profile_id AS external_id ,LOWER(full_name) AS name ,email AS email FROM Customer_360",
    "SELECT profile_id AS external_id ,LOWER(full_name) AS name ,email AS email ,phone AS phone "
    ',address AS "user_fields.address" ,address2 AS "user_fields.address2" ,city AS '
    '"user_fields.city" ,state AS "user_fields.state" ,postal AS "user_fields.postal" '
    "FROM Customer_360",
    "SELECT profile_id AS external_id, lower(full_name) AS name, phone AS phone, city AS "
    '"user_fields.city" FROM Customer_360',
]


@pytest.mark.parametrize("dialect", ENGINES)
@pytest.mark.parametrize("sql", AMPERITY)
def test_the_amperity_examples_pass(dialect: str, sql: str) -> None:
    checked = check(sql, dialect=dialect, schema=SCHEMA, max_rows=100)
    assert checked.columns[0] in {"profile_id", "external_id"}
    assert checked.sql.endswith("LIMIT 101")


@pytest.mark.parametrize("dialect", ENGINES)
def test_a_query_is_capped_at_one_row_past_the_limit_and_named_as_written(dialect: str) -> None:
    checked = check(
        "SELECT count(*), max(last_ticket_date) AS last FROM customer_360 WHERE ticket_count >= 3",
        dialect=dialect,
        schema=SCHEMA,
        max_rows=7,
    )
    assert checked.sql.startswith("SELECT * FROM (")
    assert checked.sql.endswith("LIMIT 8")
    assert checked.columns == ("COUNT(*)", "last")
    assert checked.types[1] == "TIMESTAMPTZ"


@pytest.mark.parametrize("dialect", ENGINES)
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM customer_360",
        "SELECT c.profile_id FROM customer_360 AS c JOIN customer_spend AS s ON "
        "s.profile_id = c.profile_id WHERE s.currency = 'AUD' AND s.total_spend > 500",
        "WITH recent AS (SELECT profile_id FROM ticket_events WHERE created_at > '2026-01-01') "
        "SELECT profile_id, count(*) FROM recent GROUP BY profile_id HAVING count(*) >= 3",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) "
        "SELECT n FROM r",
        "SELECT profile_id FROM purchases UNION SELECT profile_id FROM returns",
        "SELECT profile_id, row_number() OVER (ORDER BY ticket_count DESC) FROM customer_360",
        "SELECT CASE WHEN ticket_count > 2 THEN 'many' ELSE 'few' END, coalesce(city, '?') "
        "FROM customer_360",
    ],
)
def test_reads_of_the_views_pass(dialect: str, sql: str) -> None:
    check(sql, dialect=dialect, schema=SCHEMA, max_rows=100)


REFUSED = [
    ("INSERT INTO customer_360 (profile_id) VALUES ('x')", "INSERT is not allowed"),
    ("UPDATE customer_360 SET city = 'x'", "UPDATE is not allowed"),
    ("DELETE FROM customer_360", "DELETE is not allowed"),
    ("CREATE TABLE x (a INT)", "CREATE is not allowed"),
    ("DROP TABLE api_tokens", "DROP is not allowed"),
    ("PRAGMA table_info(api_tokens)", "PRAGMA is not allowed"),
    ("SELECT 1; SELECT 2", "Only one statement"),
    ("SELECT * FROM customer_360; DROP TABLE api_tokens", "Only one statement"),
    ("SELECT * FROM api_tokens", "'api_tokens' is not a published view"),
    ('SELECT * FROM "API_TOKENS"', "'API_TOKENS' is not a published view"),
    ("SELECT * FROM user_sessions", "'user_sessions' is not a published view"),
    ("SELECT credentials FROM connectors", "'connectors' is not a published view"),
    ("SELECT * FROM users", "'users' is not a published view"),
    ("SELECT * FROM profiles", "'profiles' is not a published view"),
    ("SELECT (SELECT token_hash FROM api_tokens) FROM customer_360", "'api_tokens' is not"),
    ("SELECT * FROM customer_360 WHERE profile_id IN (SELECT id FROM users)", "'users' is not"),
    ("WITH t AS (SELECT * FROM api_tokens) SELECT * FROM t", "'api_tokens' is not"),
    ("WITH customer_360 AS (SELECT 1 AS a) SELECT a FROM customer_360", "may not take the name"),
    ("SELECT * FROM public.api_tokens", "names a schema"),
    ("SELECT * FROM main.customer_360", "names a schema"),
    ("SELECT * FROM sql_api.customer_360", "names a schema"),
    ("SELECT load_extension('/tmp/x.so')", "load_extension() is not allowed"),
    ("SELECT set_config('role', 'carebase', true)", "set_config() is not allowed"),
    ("SELECT pg_sleep(10)", "pg_sleep() is not allowed"),
    ("SELECT pg_read_file('/etc/passwd')", "pg_read_file() is not allowed"),
    ("SELECT query_to_xml('select 1', true, false, '')", "query_to_xml() is not allowed"),
    ("SELECT * FROM pragma_table_info('api_tokens')", "pragma_table_info() is not allowed"),
    ("SELECT randomblob(1000000000)", "randomblob() is not allowed"),
    ("SELECT * INTO copy FROM customer_360", "writes are not allowed"),
    ("SELECT nope FROM customer_360", "Column 'nope' could not be resolved"),
    ("VACUUM", "VACUUM is not"),
    ("", "empty"),
]


@pytest.mark.parametrize("dialect", ENGINES)
@pytest.mark.parametrize(("sql", "why"), REFUSED)
def test_everything_else_is_refused_naming_why(dialect: str, sql: str, why: str) -> None:
    with pytest.raises(SqlRefused) as refused:
        check(sql, dialect=dialect, schema=SCHEMA, max_rows=100)
    assert refused.value.status_code == 400
    assert refused.value.code == "sql_refused"
    assert why in refused.value.message


@pytest.mark.parametrize("dialect", ENGINES)
def test_attach_is_refused(dialect: str) -> None:
    with pytest.raises((SqlRefused, SqlSyntaxError)):
        check("ATTACH DATABASE '/tmp/x.db' AS x", dialect=dialect, schema=SCHEMA, max_rows=10)


def test_sqlite_attach_names_attach() -> None:
    with pytest.raises(SqlRefused, match="ATTACH is not allowed"):
        check("ATTACH DATABASE '/tmp/x.db' AS x", dialect="sqlite", schema=SCHEMA, max_rows=10)


@pytest.mark.parametrize("dialect", ENGINES)
def test_a_syntax_error_gives_its_position(dialect: str) -> None:
    with pytest.raises(SqlSyntaxError) as failed:
        check(
            "SELECT profile_id FROM customer_360 WHERE (",
            dialect=dialect,
            schema=SCHEMA,
            max_rows=1,
        )
    assert failed.value.code == "sql_syntax_error"
    assert failed.value.status_code == 400
    assert failed.value.details["line"] == 1


def test_an_overlong_query_is_refused() -> None:
    with pytest.raises(SqlRefused, match="longer than"):
        check("SELECT 1" + " " * 30_000, dialect="sqlite", schema=SCHEMA, max_rows=1)


@pytest.mark.parametrize("dialect", ENGINES)
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT " + "(" * 3000 + "1" + ")" * 3000,
        "SELECT * FROM customer_360 WHERE " + " OR ".join(["ticket_count = 1"] * 2000),  # noqa: S608
        "\x00SELECT 1",
        "SELECT $$x$$",
        "SELECT 1 FROM customer_360 AS c WHERE c.profile_id = ANY(ARRAY['a'])",
    ],
)
def test_odd_input_is_refused_or_passes_never_crashes(dialect: str, sql: str) -> None:
    outcome: object
    try:
        outcome = check(sql, dialect=dialect, schema=SCHEMA, max_rows=10)
    except (SqlRefused, SqlSyntaxError) as refused:
        outcome = refused.status_code
    assert outcome == 400 or isinstance(outcome, CheckedQuery)
