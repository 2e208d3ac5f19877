"""Reading an orchestration's source, on both engines: a segment's current members with
customer_360 columns, and saved queries — the Amperity reference's Zendesk queries with
`profile_id` in place of `amperity_id` — through the SQL gate, uncapped and streamed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from carebase.activation import sources
from carebase.db.session import Database
from carebase.errors import SqlRefused
from carebase.query import service as queries
from carebase.settings import Settings
from tests.activation import runhelp

# The Amperity reference's queries (send-to-zendesk.txt), amperity_id → profile_id.
AMPERITY = {
    "attributes table": """SELECT
  profile_id
  ,profile_id AS external_id
  ,email AS email
  ,LOWER(full_name) AS name
  ,phone AS phone
FROM Customer_360""",
    "required fields": """SELECT
  profile_id AS external_id
  ,LOWER(full_name) AS name
  ,email AS email
FROM Customer_360""",
    "contact and location": """SELECT
  profile_id AS external_id
  ,LOWER(full_name) AS name
  ,email AS email
  ,phone AS phone
  ,address AS "user_fields.address"
  ,address2 AS "user_fields.address2"
  ,city AS "user_fields.city"
  ,state AS "user_fields.state"
  ,postal AS "user_fields.postal"
FROM Customer_360""",
    "Zendesk - Users": """SELECT
  profile_id AS external_id,
  lower(full_name) AS name,
  phone AS phone,
  city AS "user_fields.city"
FROM Customer_360""",
}


@pytest.fixture
def demo(database: Database, settings: Settings) -> Database:
    """Demo customers."""
    runhelp.load_demo(database, settings, profiles=20)
    return database


def customers(database: Database) -> dict[str, dict[str, Any]]:
    """{profile id: its customer_360 row} read directly."""
    view = "customer_360" if database.dialect == "sqlite" else "sql_api.customer_360"
    with database.unit_of_work(write=False) as session:
        rows = session.execute(
            text(f"SELECT profile_id, full_name, email, phone, city FROM {view}")  # noqa: S608
        ).all()
    return {str(r.profile_id): dict(r._mapping) for r in rows}


def read_all(database: Database, settings: Settings, **source: Any) -> list[sources.SourceRecord]:
    """Every record of a source, and that it came in chunks of at most `chunk`."""
    chunk = source.pop("chunk", 7)
    with database.unit_of_work(write=False) as session:
        parts = list(
            sources.read(
                session,
                database,
                source_type=source["source_type"],
                source_id=source["source_id"],
                attributes=source.get("attributes", []),
                mapping=source.get("mapping", {}),
                settings=settings,
                chunk=chunk,
            )
        )
    assert all(len(part) <= chunk for part in parts)
    return [record for part in parts for record in part]


@pytest.mark.parametrize("name", list(AMPERITY))
def test_amperity_queries_read_with_zendesk_field_names(
    demo: Database, settings: Settings, name: str
) -> None:
    query_id = runhelp.save_query(demo, AMPERITY[name], name=name)
    found = read_all(demo, settings, source_type="query", source_id=query_id)
    known = customers(demo)
    assert len(found) == len(known)
    for record in found:
        # Keyed by the profile (profile_id, else external_id), tied to it for forgetting.
        assert record.key in known
        assert record.profile_id == record.key
        row = known[record.key]
        assert record.fields["external_id"] == record.key
        assert record.fields["name"] == (row["full_name"].lower() if row["full_name"] else None)
        if "user_fields.city" in record.fields:
            assert record.fields["user_fields.city"] == row["city"]
        if "phone" in record.fields:
            assert record.fields["phone"] == row["phone"]
    assert any(record.fields.get("name") for record in found)


def test_query_keys_mapping_and_missing_keys(demo: Database, settings: Settings) -> None:
    query_id = runhelp.save_query(
        demo, "SELECT email AS mail, full_name, 'x' AS kept FROM customer_360 ORDER BY email"
    )
    found = read_all(
        demo,
        settings,
        source_type="query",
        source_id=query_id,
        mapping={"email": "mail", "name": "full_name"},
    )
    with_email = [r for r in found if r.fields.get("email")]
    assert with_email
    for record in with_email:
        # Renamed by the mapping; keyed by email (no profile_id, no external_id selected);
        # an email is not a profile id, so no profile is known.
        assert set(record.fields) == {"email", "name", "kept"}
        assert record.key == record.fields["email"]
        assert record.profile_id is None
    assert all(r.key is None for r in found if not r.fields.get("email"))


def test_query_is_not_capped_and_goes_through_the_gate(
    database: Database, settings: Settings
) -> None:
    big = runhelp.save_query(
        database,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10050) "
        "SELECT 'k' || i AS external_id FROM n",
    )
    found = read_all(database, settings, source_type="query", source_id=big, chunk=1000)
    assert len(found) == 10050 > queries.MAX_ROWS
    assert found[-1].key == "k10050"
    with pytest.raises(SqlRefused):
        list(queries.stream_query(database, "SELECT * FROM profiles", settings=settings))


def test_segment_members_with_attributes(demo: Database, settings: Settings) -> None:
    segment_id = runhelp.segment(demo)
    found = read_all(
        demo,
        settings,
        source_type="segment",
        source_id=segment_id,
        attributes=["email", "full_name", "city"],
        mapping={"name": "full_name"},
        chunk=4,
    )
    known = customers(demo)
    assert found
    assert [r.key for r in found] == sorted(r.key for r in found if r.key)
    for record in found:
        assert record.key == record.profile_id
        assert record.key is not None
        row = known[record.key]
        assert record.fields == {
            "profile_id": record.key,
            "email": row["email"],
            "name": row["full_name"],
            "city": row["city"],
        }


def test_a_segment_never_computed_fails_clearly(demo: Database, settings: Settings) -> None:
    segment_id = runhelp.segment(demo, computed=False)
    with pytest.raises(sources.SourceFailed, match="never been computed"):
        read_all(demo, settings, source_type="segment", source_id=segment_id)
