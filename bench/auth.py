"""Benchmark the per-request auth path: token lookup, last-used stamp and rate-limit count.

Prints, for SQLite and (when its binaries are found) PostgreSQL:
  * authorize() calls/s in-process (token read + counter transaction, as each request
    does), against a raw baseline: the same two statements (SELECT by hash, counter
    upsert) issued through the bare driver with no ORM or logic;
  * HTTP requests/s through a real server process: an authenticated GET against the
    unauthenticated /v1/health of the same server, i.e. what auth costs a request.

    .venv/bin/python -m bench.auth [--calls 5000] [--requests 2000]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from tests.pg import start_postgres
from tests.serverproc import running_server

from carebase.auth import service
from carebase.auth.secrets import hash_token
from carebase.db.migrate import migrate_to_head
from carebase.db.session import Database
from carebase.settings import RateLimit, Settings

POLICY = RateLimit(10_000_000, 60)


def timed(function: Callable[[], None], count: int) -> float:
    """Calls per second of `function`."""
    started = time.perf_counter()
    for _ in range(count):
        function()
    return count / (time.perf_counter() - started)


def prepare(url: str) -> tuple[Database, str]:
    settings = Settings(database_url=url, _env_file=None)
    database = Database.from_settings(settings)
    migrate_to_head(database.engine)
    with database.unit_of_work() as session:
        secret = service.create_token(
            session, name="bench", scopes=["admin"], now=datetime.now(UTC), created_by=None
        ).secret
    return database, secret


def bench_authorize(database: Database, secret: str, calls: int) -> float:
    def once() -> None:
        # The request path of `require_scope`: read the token, count the request.
        now = datetime.now(UTC)
        with database.unit_of_work(write=False) as session:
            principal, _ = service.authenticate(
                session, secret, required="admin", resource=None, now=now
            )
        with database.counters() as counters:
            service.count_request(counters, principal, required="admin", policy=POLICY, now=now)

    once()
    return timed(once, calls)


_RAW_UPSERT = (
    "INSERT INTO counters (bucket, window_start, hits) VALUES ({p}, {p}, 1) "
    "ON CONFLICT (bucket, window_start) DO UPDATE SET hits = counters.hits + 1 RETURNING hits"
)


def raw_sqlite(path: Path, token_hash: str, calls: int) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("CREATE TABLE tokens (hash TEXT PRIMARY KEY, id TEXT)")
    connection.execute(
        "CREATE TABLE counters (bucket TEXT, window_start INT, hits INT, "
        "PRIMARY KEY (bucket, window_start))"
    )
    connection.execute("INSERT INTO tokens VALUES (?, 'tok')", (token_hash,))
    upsert = _RAW_UPSERT.format(p="?")

    def once() -> None:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("SELECT id FROM tokens WHERE hash = ?", (token_hash,)).fetchone()
        connection.execute(upsert, ("tok:admin", int(time.time() // 60))).fetchone()
        connection.execute("COMMIT")

    return timed(once, calls)


def raw_postgres(dsn: str, token_hash: str, calls: int) -> float:
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("CREATE TABLE tokens (hash TEXT PRIMARY KEY, id TEXT)")
        connection.execute(
            "CREATE UNLOGGED TABLE counters (bucket TEXT, window_start BIGINT, "
            "hits INT, PRIMARY KEY (bucket, window_start))"
        )
        connection.execute("INSERT INTO tokens VALUES (%s, 'tok')", (token_hash,))
        upsert = _RAW_UPSERT.format(p="%s")

        def once() -> None:
            with connection.transaction():
                connection.execute("SET LOCAL synchronous_commit = off")
                connection.execute("SELECT id FROM tokens WHERE hash = %s", (token_hash,))
                connection.execute(upsert, ("tok:admin", int(time.time() // 60))).fetchone()

        return timed(once, calls)


def bench_http(url: str, secret: str, requests: int, clients: int = 8) -> tuple[float, float]:
    """(health req/s, authenticated req/s) through a real server with `clients` threads."""
    env = {"CAREBASE_LOG_LEVEL": "WARNING", "CAREBASE_RATE_LIMITS": "admin=unlimited"}
    with running_server(url, env=env) as server:
        base = server.url

        def load(path: str, headers: dict[str, str]) -> float:
            per_client = requests // clients

            def worker() -> None:
                with httpx.Client(base_url=base, headers=headers) as client:
                    for _ in range(per_client):
                        client.get(path).raise_for_status()

            started = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                for future in [pool.submit(worker) for _ in range(clients)]:
                    future.result()
            return per_client * clients / (time.perf_counter() - started)

        load("/v1/health", {})  # warm up
        health = load("/v1/health", {})
        authed = load("/v1/tokens", {"Authorization": f"Bearer {secret}"})
        return health, authed


def report(engine: str, ours: float, raw: float, health: float, authed: float) -> None:
    print(
        f"{engine:<11} authorize(): {ours:8.0f} calls/s   raw driver: {raw:8.0f} calls/s   "
        f"ratio {ours / raw:5.2f}"
    )
    print(
        f"{'':<11} HTTP: /v1/health {health:6.0f} req/s   authenticated GET /v1/tokens "
        f"{authed:6.0f} req/s   ratio {authed / health:5.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        database, secret = prepare(url)
        ours = bench_authorize(database, secret, args.calls)
        database.dispose()
        raw = raw_sqlite(Path(tmp) / "raw.db", hash_token(secret), args.calls)
        health, authed = bench_http(url, secret, args.requests)
        report("sqlite", ours, raw, health, authed)
    try:
        server = start_postgres()
    except (FileNotFoundError, KeyError) as error:
        print(f"postgresql  skipped: {error}")
        return
    try:
        for name in ("bench", "raw"):
            with psycopg.connect(server.dsn(), autocommit=True) as connection:
                connection.execute(f"CREATE DATABASE {name}")
        url = server.url("bench")
        database, secret = prepare(url)
        ours = bench_authorize(database, secret, args.calls)
        database.dispose()
        raw = raw_postgres(server.dsn("raw"), hash_token(secret), args.calls)
        health, authed = bench_http(url, secret, args.requests)
        report("postgresql", ours, raw, health, authed)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
