"""Segments and safe SQL at scale: 1M profiles, 5M tickets over 12 months, both engines.

Measures, on each engine, against the same count written by hand in SQL on the same tables
(the raw baseline, measured in the same run):
1. preview — `POST /v1/segments/preview`'s service: count (an attribute condition AND a
   120-day ticket event condition with a `where` on tags and satisfaction);
   (also the compiled count alone, without the validation and the total of live profiles);
2. refresh — materialising that segment's membership as a new version;
3. SQL — `SELECT … FROM customer_360 WHERE …` returning 100 rows through the safe-SQL path
   (gate, read-only connection, deadline), p50/p95.
The population (bench/segments_data.py) is generated once and cached under `.bench-cache/`.

    .venv/bin/python -m bench.segments [--profiles 1000000] [--tickets 5000000]
        [--engine sqlite|postgresql|both] [--repeat 7]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from tests.conftest import test_settings

from bench.segments_data import NOW, migrate, postgres_cluster, sqlite_database
from carebase.db.session import Database

DEFINITION: dict[str, Any] = {
    "type": "group",
    "op": "and",
    "children": [
        {"type": "attribute", "field": "ticket_count", "op": "gte", "value": 3},
        {
            "type": "event",
            "event": "customer_support_ticket",
            "window_days": 120,
            "count": {"op": "gte", "value": 1},
            "where": {
                "type": "group",
                "op": "and",
                "children": [
                    {"type": "event_field", "field": "tags", "op": "contains", "value": "refund"},
                    {
                        "type": "event_field",
                        "field": "satisfaction_score",
                        "op": "eq",
                        "value": "bad",
                    },
                ],
            },
        },
    ],
}
SINCE = NOW - timedelta(days=120)
# The same count by hand: what a person who knows the tables would write.
RAW_COUNT = {
    "sqlite": (
        "SELECT count(*) FROM support_attributes s WHERE s.ticket_count >= 3 AND s.profile_id "
        "IN (SELECT t.profile_id FROM tickets t WHERE t.created_at >= :since "
        "AND t.satisfaction_score = '\"bad\"' "
        "AND EXISTS (SELECT 1 FROM json_each(t.tags) WHERE json_each.value = 'refund'))"
    ),
    "postgresql": (
        "SELECT count(*) FROM support_attributes s WHERE s.ticket_count >= 3 AND s.profile_id "
        "IN (SELECT t.profile_id FROM tickets t WHERE t.created_at >= :since "
        "AND t.satisfaction_score = '\"bad\"'::jsonb AND t.tags ? 'refund')"
    ),
}
SQL = (
    "SELECT c.profile_id, c.full_name, c.email, c.city, c.ticket_count FROM customer_360 AS c "
    "WHERE c.city = 'Hobart' AND c.ticket_count >= 2 LIMIT 100"
)
RAW_SQL = (
    "SELECT a.profile_id, a.first_name || ' ' || a.last_name, a.email, a.city, s.ticket_count "
    "FROM customer_attributes a JOIN support_attributes s ON s.profile_id = a.profile_id "
    "WHERE a.city = 'Hobart' AND s.ticket_count >= 2 LIMIT 100"
)


def timed(function: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Seconds of each of `repeat` calls after one warm-up call, and the last result."""
    result = function()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return times, result


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def line(what: str, ours: list[float], raw: list[float], detail: str = "") -> None:
    """One figure: ours and the raw baseline, median and p95, and the ratio of medians."""
    mine, base = statistics.median(ours), statistics.median(raw)
    print(
        f"  {what:<34} {mine * 1000:9.1f} ms (p95 {p95(ours) * 1000:8.1f})   raw "
        f"{base * 1000:9.1f} ms (p95 {p95(raw) * 1000:8.1f})   ratio {mine / base:5.2f}  {detail}",
        flush=True,
    )


def measure(engine: str, url: str, repeat: int) -> None:
    """Every figure on one engine."""
    from carebase.query import service as query
    from carebase.segments import refresh
    from carebase.segments import service as segments
    from carebase.segments.compiler import count_select
    from carebase.segments.definition import parse_definition
    from carebase.segments.preview import preview

    settings = test_settings(url)
    database = Database.from_settings(settings)
    try:
        raw_count = text(RAW_COUNT[engine]).bindparams(since=SINCE)
        node = parse_definition(DEFINITION, window_limit_days=120)
        compiled = count_select(node, now=NOW, segment_members=segments.current_members)

        def ours_count() -> int:
            with database.unit_of_work(write=False) as session:
                return int(session.execute(compiled).scalar_one())

        def ours_preview() -> int:
            with database.unit_of_work(write=False) as session:
                result = preview(
                    session,
                    DEFINITION,
                    now=NOW,
                    window_limit_days=120,
                    segment_members=segments.current_members,
                )
                return result.count

        def raw_preview() -> int:
            with database.unit_of_work(write=False) as session:
                return int(session.execute(raw_count).scalar_one())

        raw, expected = timed(raw_preview, repeat)
        ours, counted = timed(ours_count, repeat)
        assert counted == expected, (counted, expected)
        line("segment count (compiled SQL)", ours, raw, f"count {counted:,}")
        # What POST /v1/segments/preview does: validate, count, and count all live profiles.
        ours, counted = timed(ours_preview, repeat)
        assert counted == expected, (counted, expected)
        line("preview (validate, count, total)", ours, raw)

        with database.unit_of_work() as session:
            segment = segments.create_segment(
                session,
                {"name": f"bench {time.time_ns()}", "definition": DEFINITION},
                now=NOW,
                created_by=None,
            )
        segment_id = segment.id

        def ours_refresh() -> int:
            with database.unit_of_work() as session:
                done = refresh.refresh(session, segment_id, now=NOW, window_limit_days=120)
                assert done is not None
                return done.size

        def raw_refresh() -> int:
            with database.unit_of_work() as session:
                session.execute(text("CREATE TEMPORARY TABLE IF NOT EXISTS bench_members (p text)"))
                session.execute(text("DELETE FROM bench_members"))
                select = RAW_COUNT[engine].replace("SELECT count(*)", "SELECT s.profile_id")
                inserted = session.execute(
                    text(f"INSERT INTO bench_members (p) {select}").bindparams(since=SINCE)
                )
                return int(inserted.rowcount)

        refresh_repeat = max(3, repeat // 2)
        ours, size = timed(ours_refresh, refresh_repeat)
        raw, raw_size = timed(raw_refresh, refresh_repeat)
        assert size == raw_size, (size, raw_size)
        line("full refresh", ours, raw, f"size {size:,}")

        def ours_sql() -> int:
            return len(query.run_query(database, SQL, settings=settings, max_rows=100).rows)

        def raw_sql() -> int:
            with database.unit_of_work(write=False) as session:
                return len(session.execute(text(RAW_SQL)).all())

        ours, rows = timed(ours_sql, repeat * 5)
        raw, raw_rows = timed(raw_sql, repeat * 5)
        line("customer_360 100 rows", ours, raw, f"rows {rows}/{raw_rows}")
    finally:
        database.dispose()


@contextmanager
def sqlite_copy(profiles: int, tickets: int) -> Iterator[str]:
    """A scratch copy of the cached SQLite population (segments write their versions)."""
    cached = sqlite_database(profiles, tickets)
    directory = Path(tempfile.mkdtemp(prefix="carebase-bench-segments-"))
    try:
        path = directory / "carebase.db"
        shutil.copyfile(cached, path)
        migrate(f"sqlite:///{path}")
        yield f"sqlite:///{path}"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    """Generate (once) and measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--tickets", type=int, default=5_000_000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(
        f"segments bench: {args.profiles:,} profiles, {args.tickets:,} tickets over 365 days; "
        "median (p95) of each, against the same work by hand in SQL",
        flush=True,
    )
    if args.engine in ("sqlite", "both"):
        with sqlite_copy(args.profiles, args.tickets) as url:
            print("SQLite", flush=True)
            measure("sqlite", url, args.repeat)
    if args.engine in ("postgresql", "both"):
        with postgres_cluster(args.profiles, args.tickets) as server:
            print("PostgreSQL", flush=True)
            measure("postgresql", server.url(), args.repeat)


if __name__ == "__main__":
    main()
