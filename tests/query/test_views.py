"""The published views: derived from the catalogue and registry, equal to what Profile Read
shows, and kept equal to the code by `sync_views`."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from carebase import recordtypes
from carebase.attributes import catalogue
from carebase.db.session import Database
from carebase.profiles import service as profiles
from carebase.query import service
from carebase.query.columns import TIMESTAMP
from carebase.query.event_columns import event_view_names
from carebase.query.views import PG_SCHEMA, published_views, sync_views
from carebase.settings import Settings

SECTIONS = {"support": "attributes", "customer": "customer", "commerce": "commerce"}


def test_customer_360_has_every_catalogue_attribute_and_the_amperity_columns() -> None:
    [customer_360] = [view for view in published_views() if view.name == "customer_360"]
    names = [column.name for column in customer_360.columns]
    assert len(names) == len(set(names))
    for attribute in catalogue.catalogue():
        expected = "customer_email" if attribute.name == "email" else attribute.name
        assert expected in names, attribute.name
    amperity = ["full_name", "email", "phone", "address", "address2", "city", "state", "postal"]
    assert set(amperity) <= set(names)
    assert names[0] == "profile_id"


def test_every_event_record_type_has_a_view() -> None:
    covered = {name for types in event_view_names().values() for name in types}
    events = {name for name, kind in recordtypes.REGISTRY.items() if kind.kind == "event"}
    assert covered == events
    assert set(event_view_names()) == {"purchases", "returns", "email_events", "sms_events"}
    assert {"ticket_events", "customer_360", "customer_spend"} <= {
        v.name for v in published_views()
    }


def _same(view_value: Any, read_value: Any, attribute: catalogue.Attribute) -> bool:
    if attribute.type == catalogue.TIMESTAMP and read_value is not None:
        return datetime.fromisoformat(view_value) == read_value
    if attribute.type == catalogue.STRING_OR_NUMBER and read_value is not None:
        return str(view_value) == str(read_value)
    if isinstance(read_value, float):
        return math.isclose(view_value, read_value, abs_tol=0.006)
    if attribute.name == "subscriptions":
        return [
            {**s, "changed_at": datetime.fromisoformat(s["changed_at"])} for s in view_value
        ] == [s.model_dump() for s in read_value]
    if attribute.name == "top_categories":
        return view_value == [c.model_dump() for c in read_value]
    if attribute.type == catalogue.MONEY:
        # Half-cent amounts may round either way (binary floats on one side, numeric on the other).
        return view_value.keys() == read_value.keys() and all(
            math.isclose(view_value[key], read_value[key], abs_tol=0.0101) for key in read_value
        )
    return bool(view_value == read_value)


def test_customer_360_shows_what_profile_read_shows(demo: Database, settings: Settings) -> None:
    result = service.run_query(
        demo, "SELECT * FROM customer_360 ORDER BY profile_id", settings=settings, max_rows=10_000
    )
    rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    assert len(rows) > 20
    with demo.unit_of_work(write=False) as session:
        read = profiles.read_many(
            session, [row["profile_id"] for row in rows], now=datetime.now(UTC)
        )
    assert [profile.id for profile in read] == [row["profile_id"] for row in rows]
    checked = 0
    for row, profile in zip(rows, read, strict=True):
        assert row["links"] == [link.model_dump() for link in profile.links]
        for attribute in catalogue.catalogue():
            section = getattr(profile, SECTIONS.get(attribute.family, attribute.family))
            expected = getattr(section, attribute.name)
            column = "customer_email" if attribute.name == "email" else attribute.name
            assert _same(row[column], expected, attribute), (attribute.name, row[column], expected)
            checked += 1
        customer = profile.customer
        name = " ".join(part for part in (customer.first_name, customer.last_name) if part)
        assert row["full_name"] == (name or None)
        emails = sorted(link.value for link in profile.links if link.type == "email")
        assert row["email"] == (customer.email or (emails[0] if emails else None))
        assert row["postal"] == (customer.postcode or customer.zip)
    assert checked > 1000


def test_customer_spend_has_a_row_per_currency(demo: Database, settings: Settings) -> None:
    spend = service.run_query(
        demo,
        "SELECT s.profile_id, s.currency, s.total_spend, s.order_count FROM customer_spend AS s",
        settings=settings,
        max_rows=10_000,
    )
    totals = service.run_query(
        demo,
        "SELECT profile_id, total_spend FROM customer_360 WHERE order_count > 0",
        settings=settings,
        max_rows=10_000,
    )
    by_profile: dict[str, dict[str, float]] = {}
    for profile_id, currency, amount, orders in spend.rows:
        if orders:
            by_profile.setdefault(profile_id, {})[currency] = amount
    assert by_profile == dict(totals.rows)


def test_ticket_events_are_the_tickets(demo: Database, settings: Settings) -> None:
    result = service.run_query(
        demo, "SELECT count(*), count(DISTINCT profile_id) FROM ticket_events", settings=settings
    )
    with demo.unit_of_work(write=False) as session:
        count = session.execute(text("SELECT count(*) FROM tickets")).scalar_one()
    assert result.rows[0][0] == count == 120
    [ticket_events] = [view for view in published_views() if view.name == "ticket_events"]
    searchable = {
        "title", "created_at", "closed_at", "duration", "reply_time", "first_reply_time",
        "channel_types", "channel_names", "status", "tags", "agents", "satisfaction_score",
    }  # fmt: skip
    assert searchable | {"profile_id"} <= {column.name for column in ticket_events.columns}
    assert {c.name for c in ticket_events.columns if c.type == TIMESTAMP} >= {"created_at"}


def _stored_definition(database: Database, name: str) -> str:
    with database.engine.connect() as connection:
        if database.dialect == "sqlite":
            query = "SELECT sql FROM sqlite_master WHERE name = :name"
        else:
            query = (
                "SELECT obj_description(c.oid, 'pg_class') FROM pg_class AS c JOIN pg_namespace "
                "AS n ON n.oid = c.relnamespace WHERE n.nspname = :schema AND c.relname = :name"
            )
        found = connection.execute(text(query), {"name": name, "schema": PG_SCHEMA})
        return str(found.scalar_one())


def test_sync_recreates_only_views_that_differ_from_the_code(database: Database) -> None:
    with database.engine.begin() as connection:
        assert sync_views(connection) == []
    before = _stored_definition(database, "purchases")
    with database.engine.begin() as connection:
        if database.dialect == "sqlite":
            connection.execute(text("DROP VIEW purchases"))
            connection.execute(text("CREATE VIEW purchases AS SELECT 1 AS stale"))
        else:
            connection.execute(text(f"DROP VIEW {PG_SCHEMA}.purchases"))
            connection.execute(text(f"CREATE VIEW {PG_SCHEMA}.purchases AS SELECT 1 AS stale"))
    assert service.sync_query_views(database) == ["purchases"]
    assert _stored_definition(database, "purchases") == before
    with database.engine.begin() as connection:
        assert sync_views(connection) == []
