"""Child process of bench/activity.py: the 12-month `mention_sla_export`, measured alone.

Starts the export as POST /v1/activity/reports does (`start_export`: the export row and its
queued job), then runs the job's work in this process (`write_export`, what the
`activity_export` job kind calls) and prints one JSON line: seconds, rows, bytes of CSV, and
peak RSS (ru_maxrss) before and after, so the interpreter and imports can be told apart.

    .venv/bin/python -m bench.activity_export <database url>
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any

from sqlalchemy import text
from tests.conftest import test_settings

from bench.activity_data import NOW
from carebase.db.session import Database


def max_rss_mb() -> float:
    """This process's peak resident set so far, in MB (ru_maxrss is KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Export 12 months and print the figures as JSON."""
    from carebase.activity import exports, service
    from carebase.activity.schemas import ReportRequest

    database = Database.from_settings(test_settings(sys.argv[1]))
    dialect = database.engine.dialect.name
    request = ReportRequest(type="mention_sla_export", date_from="2025-11-29", date_to="2026-11-28")
    kind, query = service.build_query(request, default_zone="UTC", now=NOW, dialect=dialect)
    with database.unit_of_work() as session:
        answer: dict[str, Any] = kind.run(session, query)
    with database.unit_of_work(write=False) as session:
        export_id = session.execute(
            text("SELECT id FROM activity_exports WHERE token_hash = :h"),
            {"h": exports.hash_token(answer["token"])},
        ).scalar_one()
    before = max_rss_mb()
    started = time.perf_counter()
    written = exports.write_export(database, export_id, now=NOW)
    seconds = time.perf_counter() - started
    assert written is not None
    rows, size = written
    database.dispose()
    figures = {
        "seconds": seconds,
        "rows": rows,
        "bytes": size,
        "rss_before_mb": before,
        "max_rss_mb": max_rss_mb(),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
