"""Console page latency with a large population, against the same SQL through bare sqlite3.

Seeds N profiles (default 1,000,000) as bench/search.py does (an email, a ticket, support
attributes, a first and last name each; cached under `.bench-cache/`), and gives a busy few
(`--busy`, default 2,000) 60 more engagements each (email opens and purchases), so History is
several pages long. Signs an agent in (a user and a session made through the services), starts
`carebase serve` and asks, for random profiles (half of them busy):

- the profile page (`/profiles/{id}`, Summary open: the whole page),
- each tab as htmx swaps it in (`HX-Target: profile-view`): Notes, Summary, Attributes,
  History, and History's next page (`/history/items?cursor=…`),
- the search list as you type (`/profiles/search?q=…`, 2 to 6 characters of an email, a name
  or a last name),

and prints the server-side time (`Server-Timing`, measured inside the server) p50/p95/max per
page. The baseline, in the same run: the same requests made in-process first with every SQL
statement they run recorded (session lookup included), then those statements replayed
through bare sqlite3 — the database work alone, without the framework, templates or HTTP.

    .venv/bin/python -m bench.console [--profiles 1000000] [--samples 300] [--busy 2000]
"""

from __future__ import annotations

import argparse
import http.client
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import event
from tests.conftest import test_settings
from tests.console_session import create_signed_in
from tests.serverproc import running_server

from bench.profile_read import CACHE, _schema_key
from bench.search import prefixes, seeded
from carebase.app import create_app
from carebase.db.session import Database

SEED_VERSION = 1
EVENTS_PER_BUSY = 60
PAGES = ("profile page", "notes", "summary", "attributes", "history", "history page 2", "search")
TAB = {"HX-Request": "true", "HX-Target": "profile-view"}
HTMX = {"HX-Request": "true"}
# (page, path, headers) of each request to make.
Plan = list[tuple[str, str, dict[str, str]]]


def busy_ids(profiles: int, busy: int) -> list[str]:
    """The profiles given a long history: spread evenly over the population."""
    step = max(1, profiles // busy)
    return [f"prf_{n:026d}" for n in range(0, profiles, step)][:busy]


def seeded_console(profiles: int, busy: int) -> Path:
    """The cached search seed plus 60 engagements for each busy profile."""
    cached = CACHE / f"console-{profiles}-{busy}-{_schema_key()}-v{SEED_VERSION}.db"
    if cached.exists():
        return cached
    base = seeded(profiles)
    partial = cached.with_suffix(".partial")
    shutil.copyfile(base, partial)
    connection = sqlite3.connect(partial, isolation_level=None)
    connection.execute("PRAGMA journal_mode = OFF")
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute(
        "INSERT INTO datasets (id, name, record_type, created_at) VALUES "
        "('ds_bench_opens', 'opens', 'email_open', '2026-01-01 00:00:00.000000'), "
        "('ds_bench_orders', 'orders', 'purchase', '2026-01-01 00:00:00.000000')"
    )
    rows = []
    for profile_id in busy_ids(profiles, busy):
        for n in range(EVENTS_PER_BUSY):
            at = f"2025-{1 + n % 12:02d}-{1 + n % 28:02d} {n % 24:02d}:00:00.000000"
            if n % 3:
                record = (
                    f'{{"link": {{"email": "x@example.com"}}, "email_id": "{profile_id}-{n}", '
                    f'"campaign_id": "Campaign {n}", "subject": "Winter edit {n}"}}'
                )
                rows.append(
                    ("ds_bench_opens", "email_open", f"{profile_id}-{n}", profile_id, at, record)
                )
            else:
                record = (
                    f'{{"link": {{"email": "x@example.com"}}, "purchase_id": "o-{profile_id}-{n}", '
                    f'"type": "ecommerce", "currency": "AUD", "products": [{{"price_paid": 40.0, '
                    f'"quantity": 1, "product_reference": {{"id": "P-{n % 5}", '
                    f'"id_type": "product_id"}}}}]}}'
                )
                rows.append(
                    ("ds_bench_orders", "purchase", f"o-{profile_id}-{n}", profile_id, at, record)
                )
    connection.execute("BEGIN")
    connection.executemany(
        "INSERT INTO events (dataset_id, record_type, event_key, profile_id, action_at, record, "
        "content_hash, received_at) VALUES (?, ?, ?, ?, ?, ?, printf('%064d', 0), "
        "'2026-01-01 00:00:00.000000')",
        rows,
    )
    connection.execute("COMMIT")
    connection.execute("ANALYZE")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.close()
    partial.rename(cached)
    return cached


def requests(profiles: int, busy: list[str], samples: int) -> Plan:
    """(page, path, headers) for `samples` profiles, each page of each, and as many searches."""
    rng = random.Random(11)
    out: list[tuple[str, str, dict[str, str]]] = []
    for n in range(samples):
        profile = busy[n % len(busy)] if n % 2 else f"prf_{rng.randrange(profiles):026d}"
        base = f"/profiles/{profile}"
        out += [
            ("profile page", base, {}),
            ("notes", f"{base}/notes", TAB),
            ("summary", f"{base}/summary", TAB),
            ("attributes", f"{base}/attributes", TAB),
            ("history", f"{base}/history", TAB),
        ]
    out += [("search", f"/profiles/search?q={quote(q)}", HTMX) for q in prefixes(profiles, samples)]
    return out


def next_pages(client: TestClient, busy: list[str], samples: int) -> Plan:
    """History's second page for busy profiles: the sentinel's address on their first page."""
    out = []
    for profile in busy[: max(1, samples // 2)]:
        text = client.get(f"/profiles/{profile}/history", headers=TAB).text
        start = text.find('hx-get="/profiles/')
        marker = text.find("/history/items?", start)
        if marker < 0:
            continue
        begin = text.rfind('"', 0, marker) + 1
        end = text.find('"', marker)
        out.append(("history page 2", text[begin:end].replace("&amp;", "&"), HTMX))
    return out


@contextmanager
def recording(database: Database) -> Iterator[list[tuple[str, Any]]]:
    """Every statement the engine sends to SQLite (with its parameters) while inside."""
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", record)


def capture(
    path: Path, cookie: tuple[str, str], plan: Plan, busy: list[str], samples: int
) -> tuple[Plan, list[list[tuple[str, Any]]]]:
    """The plan with History's second pages added, and the SQL each of its requests runs,
    made in-process."""
    settings = test_settings(f"sqlite:///{path}")
    database = Database.from_settings(settings)
    app = create_app(settings, database=database, run_jobs=False)
    captured = []
    with TestClient(app, base_url="https://testserver") as client:
        client.cookies.set(*cookie)
        plan = plan + next_pages(client, busy, samples)
        for _, url, headers in plan:
            with recording(database) as statements:
                response = client.get(url, headers=headers)
            assert response.status_code == 200, (url, response.status_code)
            # Writes (a session's last-seen stamp) are not the page's reads.
            captured.append(
                [s for s in statements if s[0].lstrip().upper().startswith(("SELECT", "WITH"))]
            )
    database.dispose()
    return plan, captured


def replay(path: Path, captured: list[list[tuple[str, Any]]]) -> list[float]:
    """Milliseconds each request's statements take through bare sqlite3 (one connection)."""
    connection = sqlite3.connect(path)
    out = []
    for statements in captured:
        started = time.perf_counter()
        for statement, parameters in statements:
            connection.execute(statement, parameters).fetchall()
        out.append((time.perf_counter() - started) * 1000)
    connection.close()
    return out


def measure(url: str, cookie: tuple[str, str], plan: Plan) -> list[float]:
    """Server-side milliseconds (Server-Timing) of each request, one client, in order."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    out = []
    for _, path, headers in plan:
        connection.request("GET", path, headers={**headers, "Cookie": f"{cookie[0]}={cookie[1]}"})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {body[:200]!r}")
        timing = response.getheader("Server-Timing") or ""
        out.append(float(timing.split("dur=")[1]))
    connection.close()
    return out


def pct(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> None:
    """Seed (cached), sign in, capture the SQL, serve, measure, compare."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=300, help="profiles (and searches)")
    parser.add_argument("--busy", type=int, default=2000)
    args = parser.parse_args()
    started = time.perf_counter()
    cached = seeded_console(args.profiles, args.busy)
    print(f"seeded (or cached) in {time.perf_counter() - started:.0f} s", flush=True)
    busy = busy_ids(args.profiles, args.busy)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "carebase.db"
        shutil.copyfile(cached, path)
        url = f"sqlite:///{path}"
        settings = test_settings(url)
        database = Database.from_settings(settings)
        agent = create_signed_in(
            database, settings, timezone="Australia/Melbourne", now=datetime.now(UTC)
        )
        database.dispose()
        cookie = (agent.cookie, agent.secret)
        plan, captured = capture(
            path, cookie, requests(args.profiles, busy, args.samples), busy, args.samples
        )
        raw = replay(path, captured)
        with running_server(url, env={"CAREBASE_LOG_LEVEL": "WARNING"}) as server:
            measure(server.url, cookie, plan[: len(plan) // 10])  # warm up
            served = measure(server.url, cookie, plan)
    print(
        f"profiles: {args.profiles:,} ({args.busy:,} with {EVENTS_PER_BUSY} more engagements); "
        f"{args.samples} profiles sampled (half busy), {args.samples} searches; one client, "
        "one server worker, SQLite"
    )
    print(
        f"{'page':16} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}   "
        f"{'raw SQL p50':>11} {'p95':>7}   ratio p50"
    )
    worst = 0.0
    for page in PAGES:
        index = [i for i, (name, _, _) in enumerate(plan) if name == page]
        if not index:
            continue
        ms = [served[i] for i in index]
        base = [raw[i] for i in index]
        p95 = pct(ms, 0.95)
        worst = max(worst, p95)
        ratio = statistics.median(ms) / max(statistics.median(base), 1e-6)
        print(
            f"{page:16} {len(ms):5} {statistics.median(ms):8.2f} {p95:8.2f} {max(ms):8.2f}   "
            f"{statistics.median(base):11.2f} {pct(base, 0.95):7.2f}   {ratio:6.1f}x"
        )
    print(f"worst p95 {worst:.2f} ms: target p95 <= 50 ms {'met' if worst <= 50 else 'MISSED'}")


if __name__ == "__main__":
    main()
