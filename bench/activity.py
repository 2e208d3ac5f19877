# ruff: noqa: S608 -- the raw SQL is built from this file's constants, never from input
"""The Activity reports at scale: 1M mentions over 12 months, on SQLite and PostgreSQL.

Seeds a throwaway database of each engine (bench/activity_data.py: 200 agents in 10 groups,
30 classifications, ~333k cases, responses, an NPS form with invitations and answers), then
runs every report type of `carebase.activity.registry` (but the export) over 12 months,
1 month and 1 day (hourly buckets) through the real path (`service.build_query` and the
type's `run`, in a read session) and prints p50/p95 beside a raw baseline measured in the
same run: the same aggregate written by hand in SQL over the same tables. Reports whose
p95 is over 1 s are marked `SLOW`. Last, the 12-month `mention_sla_export`: the export job
run in a child process (so the seeding's memory does not count), its time, peak RSS, rows
and bytes.

    .venv/bin/python -m bench.activity [--mentions 1000000] [--engine sqlite|postgresql|both]
        [--runs 7] [--url <a database seeded earlier>] [--no-export]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session
from tests.conftest import test_settings
from tests.pg import PostgresServer, start_postgres

from bench.activity_data import FORM_ID, NOW, seed_postgres, seed_sqlite
from carebase.db.migrate import migrate_to_head
from carebase.db.session import Database
from carebase.models.base import to_sqlite_text

SLOW_S = 1.0
# (label, date_from, date_to): bare dates read in the report zone (UTC), date_to inclusive.
WINDOWS = [
    ("12 months", "2025-11-29", "2026-11-28"),
    ("1 month", "2026-10-29", "2026-11-28"),
    ("1 day", "2026-11-27", "2026-11-27"),
]
COHORT = "m.published_at >= :f AND m.published_at <= :t"
STATS = (
    "count(m.response_s), avg(m.response_s), min(m.response_s), max(m.response_s), "
    "avg(m.action_s), min(m.action_s), max(m.action_s), count(m.action_s), "
    "sum(CASE WHEN m.broke_sla THEN 1 ELSE 0 END), "
    "sum(CASE WHEN m.broke_action_sla THEN 1 ELSE 0 END)"
)
NPS = (
    "count(*), sum(CASE WHEN r.score >= 9 THEN 1 ELSE 0 END), "
    "sum(CASE WHEN r.score BETWEEN 7 AND 8 THEN 1 ELSE 0 END), "
    "sum(CASE WHEN r.score <= 6 THEN 1 ELSE 0 END), avg(r.score)"
)
# What a person who knows the tables would write for each report ({bucket} is the window's
# day or hour of the column named inside it).
RAW: dict[str, list[str]] = {
    "states_volume": [
        f"SELECT {{bucket:m.published_at}}, m.state, count(*) FROM mentions m WHERE {COHORT} "
        "GROUP BY 1, 2"
    ],
    "states": [f"SELECT m.state, count(*) FROM mentions m WHERE {COHORT} GROUP BY m.state"],
    "classifications": [
        "SELECT mc.classification_id, c.name, m.state, count(*) FROM mentions m "
        "JOIN mention_classifications mc ON mc.mention_id = m.id "
        f"JOIN classifications c ON c.id = mc.classification_id WHERE {COHORT} "
        "GROUP BY mc.classification_id, c.name, m.state"
    ],
    "response_volume": [
        f"SELECT {{bucket:m.published_at}}, avg(m.response_s), count(m.response_s) "
        f"FROM mentions m WHERE {COHORT} GROUP BY 1"
    ],
    "user_summary": [
        "SELECT u.id, u.first_name, u.last_name, a.n FROM users u JOIN (SELECT m.assignee_id "
        f"AS id, count(*) AS n FROM mentions m WHERE {COHORT} GROUP BY m.assignee_id) a "
        "ON a.id = u.id",
        f"SELECT m.first_responder_id, {STATS}, sum(CASE WHEN m.responded_in_private "
        f"THEN 1 ELSE 0 END) FROM mentions m WHERE {COHORT} AND m.response_s IS NOT NULL "
        "GROUP BY m.first_responder_id",
    ],
    "user_volume": [
        "SELECT u.id, u.first_name, u.last_name, m.state, count(*) FROM mentions m "
        f"JOIN users u ON u.id = m.assignee_id WHERE {COHORT} GROUP BY u.id, u.first_name, "
        "u.last_name, m.state"
    ],
    "case_volume": [
        # Open during a bucket = opened before its end and not closed before its start:
        # cases opened and closed per bucket, summed up in Python.
        "SELECT {bucket:k.opened_at}, count(*) FROM cases k WHERE k.opened_at <= :t "
        "AND (k.closed_at IS NULL OR k.closed_at >= :f) GROUP BY 1",
        "SELECT {bucket:k.closed_at}, count(*) FROM cases k WHERE k.closed_at >= :f "
        "AND k.closed_at <= :t GROUP BY 1",
    ],
    "case_classifications": [
        "SELECT mc.classification_id, c.name, count(DISTINCT k.id) FROM cases k "
        "JOIN mentions m ON m.case_id = k.id JOIN mention_classifications mc "
        "ON mc.mention_id = m.id JOIN classifications c ON c.id = mc.classification_id "
        "WHERE k.opened_at <= :t AND (k.closed_at IS NULL OR k.closed_at >= :f) "
        "GROUP BY mc.classification_id, c.name"
    ],
    "nps_summary": [
        f"SELECT count(*) FROM form_invitations i WHERE i.form_id = {FORM_ID} "
        "AND i.sent_at >= :f AND i.sent_at <= :t",
        f"SELECT {NPS} FROM form_responses r WHERE r.form_id = {FORM_ID} AND r.answered_at "
        ">= :f AND r.answered_at <= :t AND r.score IS NOT NULL",
    ],
    "nps_volume": [
        "SELECT {bucket:i.sent_at}, count(*) FROM form_invitations i "
        f"WHERE i.form_id = {FORM_ID} AND i.sent_at >= :f AND i.sent_at <= :t GROUP BY 1",
        f"SELECT {{bucket:r.answered_at}}, {NPS} FROM form_responses r "
        f"WHERE r.form_id = {FORM_ID} AND r.answered_at >= :f AND r.answered_at <= :t "
        "AND r.score IS NOT NULL GROUP BY 1",
    ],
}


def bucket_sql(column: str, dialect: str, hourly: bool) -> str:
    """The UTC day (or hour) of a column, as a hand-written query would group by it."""
    if dialect == "sqlite":
        return f"substr({column}, 1, {13 if hourly else 10})"
    return f"date_trunc('{'hour' if hourly else 'day'}', {column} AT TIME ZONE 'UTC')"


def expand(sql: str, dialect: str, hourly: bool) -> str:
    """RAW's `{bucket:column}` markers in SQL."""
    while "{bucket:" in sql:
        head, rest = sql.split("{bucket:", 1)
        column, tail = rest.split("}", 1)
        sql = head + bucket_sql(column, dialect, hourly) + tail
    return sql.replace("{{", "{").replace("}}", "}")


def median_by_offset(session: Session, table: str, column: str, where: str, bounds: Any) -> Any:
    """The median the textbook way: count, then ORDER BY … LIMIT 1 OFFSET n/2."""
    where = f"{where} AND {column} IS NOT NULL"
    count = session.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"), bounds).scalar()
    if not count:
        return None
    return session.execute(
        text(f"SELECT {column} FROM {table} WHERE {where} ORDER BY {column} LIMIT 1 OFFSET :o"),
        {**bounds, "o": int(count) // 2},
    ).scalar()


def raw_report(session: Session, name: str, dialect: str, hourly: bool, bounds: Any) -> Any:
    """The raw baseline of one report type (None when there is none for it)."""
    if name == "summary":
        totals = session.execute(
            text(f"SELECT count(*), {STATS} FROM mentions m WHERE {COHORT}"), bounds
        ).one()
        medians = [
            median_by_offset(session, "mentions m", f"m.{c}", COHORT, bounds)
            for c in ("response_s", "action_s")
        ]
        return (*totals, *medians)
    if name == "case_summary":
        where = "k.status = 'closed' AND k.closed_at >= :f AND k.closed_at <= :t"
        totals = session.execute(
            text(
                "SELECT count(*), avg(k.first_reply_s), avg(k.resolution_s), "
                f"avg(k.agent_replies), avg(k.agents_involved) FROM cases k WHERE {where}"
            ),
            bounds,
        ).one()
        medians = [
            median_by_offset(session, "cases k", f"k.{c}", where, bounds)
            for c in ("first_reply_s", "resolution_s")
        ]
        return (*totals, *medians)
    if name not in RAW:
        return None
    return [session.execute(text(expand(sql, dialect, hourly)), bounds).all() for sql in RAW[name]]


def timed(function: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """Seconds of each of `runs` calls after one warm-up call, and the last result."""
    result = function()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return times, result


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def check(name: str, ours: Any, raw: Any) -> str:
    """A cross-check of the report against its raw baseline, where one number is plain."""
    try:
        if name == "summary":
            return "" if ours["total_volume"] == raw[0] else f"MISMATCH {ours['total_volume']}"
        if name == "states":
            same = sum(r["volume"] for r in ours) == sum(n for _, n in raw[0])
            return "" if same else "MISMATCH total"
        if name == "case_summary":
            return "" if ours["total_cases"] == raw[0] else f"MISMATCH {ours['total_cases']}"
        if name == "nps_summary":
            return "" if ours["total_sent"] == raw[0][0][0] else f"MISMATCH {ours['total_sent']}"
    except (KeyError, TypeError, IndexError) as error:
        return f"unchecked ({error!r})"
    return ""


def measure(engine: str, url: str, runs: int, *, with_export: bool = True) -> None:
    """Every report over every window on one engine."""
    from carebase.activity import service
    from carebase.activity.catalog import report_types
    from carebase.activity.schemas import ReportRequest

    database = Database.from_settings(test_settings(url))
    dialect = database.engine.dialect.name
    kinds = [k for k in report_types().values() if k.name != "mention_sla_export"]
    if not kinds:
        print("  (no report types registered yet: raw baselines only)", flush=True)
    names = [k.name for k in kinds] or ["summary", "case_summary", *RAW]
    print(
        f"  {'report':<22}{'window':<11}{'p50 ms':>9}{'p95 ms':>9}{'raw p50':>9}"
        f"{'raw p95':>9}{'ratio':>9}",
        flush=True,
    )
    try:
        for name in names:
            for label, date_from, date_to in WINDOWS:
                request = ReportRequest(
                    type=name if kinds else "summary",
                    date_from=date_from,
                    date_to=date_to,
                    form=FORM_ID,
                )
                if kinds:
                    window = service.build_query(
                        request, default_zone="UTC", now=NOW, dialect=dialect
                    )[1].window
                else:
                    window = _window(date_from, date_to)
                bounds = _bounds(window.utc_from, window.utc_to, dialect)

                def raw(
                    name: str = name, hourly: bool = window.hourly, bounds: Any = bounds
                ) -> Any:
                    with database.unit_of_work(write=False) as session:
                        return raw_report(session, name, dialect, hourly, bounds)

                def ours(request: Any = request) -> Any:
                    with database.unit_of_work(write=False) as session:
                        kind, query = service.build_query(
                            request, default_zone="UTC", now=NOW, dialect=dialect
                        )
                        return kind.run(session, query)

                raw_times, raw_result = timed(raw, runs)
                base = f"{statistics.median(raw_times) * 1000:9.1f}{p95(raw_times) * 1000:9.1f}"
                if not kinds:
                    print(f"  {name:<22}{label:<11}{'':>18}{base}", flush=True)
                    continue
                our_times, result = timed(ours, runs)
                mine = statistics.median(our_times)
                ratio = mine / max(statistics.median(raw_times), 1e-9)
                slow = "  SLOW (p95 > 1 s)" if p95(our_times) > SLOW_S else ""
                print(
                    f"  {name:<22}{label:<11}{mine * 1000:9.1f}{p95(our_times) * 1000:9.1f}"
                    f"{base}{ratio:9.2f}{slow}  {check(name, result, raw_result)}",
                    flush=True,
                )
    finally:
        database.dispose()
    if with_export:
        export(url)


def _window(date_from: str, date_to: str) -> Any:
    from carebase.activity.service import read_instant
    from carebase.activity.timebuckets import Window

    zone = __import__("zoneinfo").ZoneInfo("UTC")
    return Window(
        read_instant(date_from, "date_from", zone, end_of_day=False),
        read_instant(date_to, "date_to", zone, end_of_day=True),
        zone,
    )


def _bounds(utc_from: datetime, utc_to: datetime, dialect: str) -> dict[str, Any]:
    if dialect == "sqlite":
        return {"f": to_sqlite_text(utc_from), "t": to_sqlite_text(utc_to)}
    return {"f": utc_from, "t": utc_to}


def export(url: str) -> None:
    """The 12-month CSV export, in a child process: seconds, peak RSS, rows and bytes."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.activity_export", url],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        print(f"  mention_sla_export: not measured ({(done.stderr or '').strip()[-300:]})")
        return
    figures = json.loads(lines[-1])
    print(
        f"  mention_sla_export 12 months: {figures['seconds']:.1f} s, peak RSS "
        f"{figures['max_rss_mb']:.0f} MB ({figures['rss_before_mb']:.0f} MB before the export "
        f"began), {figures['rows']:,} rows, "
        f"{figures['bytes'] / 1e6:.1f} MB of CSV",
        flush=True,
    )


@contextmanager
def sqlite_database(mentions: int) -> Iterator[str]:
    """A seeded SQLite file, deleted on exit."""
    directory = Path(tempfile.mkdtemp(prefix="carebase-bench-activity-"))
    try:
        path = directory / "carebase.db"
        url = f"sqlite:///{path}"
        _migrate(url)
        started = time.perf_counter()
        counts = seed_sqlite(str(path), mentions)
        _seeded(counts, time.perf_counter() - started)
        yield url
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def postgres_database(mentions: int) -> Iterator[str]:
    """A seeded throwaway PostgreSQL cluster (1 GB shared buffers), removed on exit."""
    server = start_postgres()
    try:
        _tune(server)
        _migrate(server.url())
        started = time.perf_counter()
        counts = seed_postgres(server.dsn(), mentions)
        _seeded(counts, time.perf_counter() - started)
        yield server.url()
    finally:
        server.stop()


def _tune(server: PostgresServer) -> None:
    import psycopg

    with psycopg.connect(server.dsn(), autocommit=True) as connection:
        for setting in (
            "shared_buffers = '1GB'",
            "work_mem = '64MB'",
            "maintenance_work_mem = '512MB'",
            "effective_cache_size = '4GB'",
            "max_wal_size = '8GB'",
        ):
            connection.execute(f"ALTER SYSTEM SET {setting}")
    subprocess.run(
        [str(server.bin_dir / "pg_ctl"), "-D", str(server.data_dir), "-w", "restart"],
        user=server.run_as,
        check=True,
        # The restarted server inherits our descriptors: a pipe would never reach EOF.
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
    )


def _migrate(url: str) -> None:
    database = Database.from_settings(test_settings(url))
    try:
        migrate_to_head(database.engine)
    finally:
        database.dispose()


def _seeded(counts: dict[str, int], seconds: float) -> None:
    listed = ", ".join(f"{table} {n:,}" for table, n in counts.items() if n > 1000)
    print(f"  seeded in {seconds:.1f} s: {listed}", flush=True)


def main() -> None:
    """Seed each engine and measure."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-export", action="store_true", help="skip the CSV export")
    parser.add_argument(
        "--url",
        help="measure this already seeded database (a URL from an earlier seeding) instead of "
        "seeding throwaway ones",
    )
    args = parser.parse_args()
    if args.url:
        engine = "sqlite" if args.url.startswith("sqlite") else "postgresql"
        print(f"activity bench on {args.url}: p50/p95 of {args.runs} runs", flush=True)
        measure(engine, args.url, args.runs, with_export=not args.no_export)
        return
    print(
        f"activity bench: {args.mentions:,} mentions over 12 months; p50/p95 of {args.runs} "
        "runs after a warm-up, against the same aggregate by hand in SQL (ratio of p50s)",
        flush=True,
    )
    if args.engine in ("sqlite", "both"):
        print("SQLite", flush=True)
        with sqlite_database(args.mentions) as url:
            measure("sqlite", url, args.runs, with_export=not args.no_export)
    if args.engine in ("postgresql", "both"):
        print("PostgreSQL", flush=True)
        with postgres_database(args.mentions) as url:
            measure("postgresql", url, args.runs, with_export=not args.no_export)


if __name__ == "__main__":
    main()
