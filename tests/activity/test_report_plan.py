"""Report statements run with PostgreSQL's JIT off, for their own transaction only (JIT
compiled the year's grouped aggregates for longer than it saved); SQLite is left alone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from carebase.activity import service
from carebase.activity.schemas import ReportRequest
from carebase.db.session import Database
from tests.conftest import FakeClock


def test_reports_run_without_jit_on_postgresql_and_only_in_their_transaction(
    database: Database, clock: FakeClock
) -> None:
    day = (clock.now - timedelta(days=1)).date().isoformat()
    body = ReportRequest.model_validate({"type": "summary", "date_from": day, "date_to": day})
    with database.unit_of_work(write=False) as session:
        dialect = session.get_bind().dialect.name
        kind, query = service.build_query(body, default_zone="UTC", now=clock.now, dialect=dialect)
        answer = service.run(session, kind, query)
        assert answer["total_volume"] == 0
        if dialect == "postgresql":
            assert session.execute(text("SHOW jit")).scalar() == "off"
    if dialect == "postgresql":
        with database.unit_of_work(write=False) as session:
            assert session.execute(text("SHOW jit")).scalar() == "on"
