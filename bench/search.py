"""Profile search latency with a large population, against the raw range queries.

Seeds N profiles (default 1,000,000) as bench/profile_read.py does, plus customer attributes
with a first and last name drawn from small lists (so a typed name prefix matches tens of
thousands of profiles, the hard case). Starts `carebase serve` and sends
`GET /v1/profiles/search?q=…` with random prefixes (2 to 6 characters of an email, a name or a
last name) from one client; prints the server-side time (`Server-Timing`) p50/p95/max and
requests/s; then runs the same prefixes as bare sqlite3 range queries (the index scans search
makes, without the ranking, display fields or HTTP) and prints the ratio.

    .venv/bin/python -m bench.search [--profiles 1000000] [--queries 2000]
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
from pathlib import Path
from urllib.parse import quote

from tests.conftest import make_token, test_settings
from tests.serverproc import running_server

from bench.profile_read import CACHE, _schema_key, seed
from carebase.db.session import Database

FIRST = ["Jane", "John", "Zoë", "Ana", "Sam", "Priya", "Wei", "Lucas", "Emma", "Noah"]
LAST = ["Smith", "Nguyen", "O'Brien", "Müller", "Garcia", "Chen", "Patel", "Jones", "Kim", "Rossi"]
SEED_VERSION = 1


def seeded(profiles: int) -> Path:
    """The cached database with profiles and names (seeded the first time)."""
    cached = CACHE / f"search-{profiles}-{_schema_key()}-v{SEED_VERSION}.db"
    if cached.exists():
        return cached
    CACHE.mkdir(exist_ok=True)
    partial = cached.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    seed(partial, profiles)
    connection = sqlite3.connect(partial, isolation_level=None)
    connection.execute("PRAGMA journal_mode = OFF")
    connection.execute("PRAGMA synchronous = OFF")
    from carebase.kit.searchkey import name_key

    rows = []
    for n in range(profiles):
        first, last = FIRST[n % len(FIRST)], LAST[(n // len(FIRST)) % len(LAST)]
        rows.append(
            (
                f"prf_{n:026d}",
                first,
                last,
                name_key(first, last),
                name_key(None, last),
                f"customer{n}@example.com",
            )
        )
    connection.execute("BEGIN")
    connection.executemany(
        "INSERT INTO customer_attributes (profile_id, first_name, last_name, name_key, "
        "last_name_key, email, loyalty, custom_fields, record_count, computed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, '{}', '{}', 1, '2026-11-29 00:00:00.000000')",
        rows,
    )
    connection.execute("COMMIT")
    connection.execute("ANALYZE")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.close()
    partial.rename(cached)
    return cached


def prefixes(profiles: int, count: int) -> list[str]:
    """Random things an agent starts typing: an email, a full name, or a last name."""
    rng = random.Random(7)
    out = []
    for _ in range(count):
        n = rng.randrange(profiles)
        kind = rng.randrange(3)
        text = (
            f"customer{n}@example.com"
            if kind == 0
            else f"{FIRST[n % 10]} {LAST[(n // 10) % 10]}"
            if kind == 1
            else LAST[(n // 10) % 10]
        )
        out.append(text[: rng.randint(2, 6)])
    return out


def raw_ranges(path: Path, queries: list[str]) -> float:
    """Queries/s of the bare index range scans search makes for each prefix."""
    from carebase.kit.searchkey import fold, prefix_range

    connection = sqlite3.connect(path)
    started = time.perf_counter()
    for query in queries:
        for prefix in dict.fromkeys((query, query.lower())):
            low, high = prefix_range(prefix)
            connection.execute(
                "SELECT profile_id, link_type, value FROM profile_links WHERE value >= ? "
                "AND value < ? AND derived = 0 ORDER BY value LIMIT 21",
                (low, high),
            ).fetchall()
        low, high = prefix_range(fold(query))
        for column in ("name_key", "last_name_key"):
            connection.execute(
                f"SELECT profile_id, {column} FROM customer_attributes "  # noqa: S608
                f"WHERE {column} >= ? AND {column} < ? ORDER BY {column} LIMIT 21",
                (low, high),
            ).fetchall()
    connection.close()
    return len(queries) / (time.perf_counter() - started)


def main() -> None:
    """Seed (cached), serve, search, compare."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    cached = seeded(args.profiles)
    queries = prefixes(args.profiles, args.queries)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "carebase.db"
        shutil.copyfile(cached, path)
        url = f"sqlite:///{path}"
        database = Database.from_settings(test_settings(url))
        token = make_token(database, "profiles:read")
        database.dispose()
        with running_server(url, env={"CAREBASE_LOG_LEVEL": "WARNING"}) as server:
            host, port = server.url.removeprefix("http://").split(":")
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            headers = {"Authorization": f"Bearer {token}"}
            server_ms: list[float] = []
            found = 0
            started = time.perf_counter()
            for query in queries:
                connection.request("GET", f"/v1/profiles/search?q={quote(query)}", headers=headers)
                response = connection.getresponse()
                body = response.read()
                if response.status != 200:
                    raise RuntimeError(f"{response.status}: {body[:200]!r}")
                found += body.count(b'"profile_id"')
                timing = response.getheader("Server-Timing") or ""
                server_ms.append(float(timing.split("dur=")[1]))
            elapsed = time.perf_counter() - started
            connection.close()
        raw = raw_ranges(path, queries)
    server_ms.sort()
    p95 = server_ms[int(len(server_ms) * 0.95)]
    hits = found / len(queries)
    print(f"profiles: {args.profiles:,}; queries: {len(queries):,}; hits/query: {hits:.1f}")
    print(
        f"carebase search: {len(queries) / elapsed:,.0f} req/s (one client); server p50 "
        f"{statistics.median(server_ms):.2f} ms, p95 {p95:.2f} ms, max {server_ms[-1]:.2f} ms"
    )
    print(f"raw range scans (sqlite3, same prefixes): {raw:,.0f} queries/s")
    print(f"ratio carebase/raw: {(len(queries) / elapsed) / raw:.2f}")
    print(f"target p95 <= 50 ms: {'met' if p95 <= 50 else 'MISSED'}")


if __name__ == "__main__":
    main()
