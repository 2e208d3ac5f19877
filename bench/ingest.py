"""Ingest throughput through a real server process, against a raw baseline on the same engine.

Generates N realistic tickets over M profiles, posts them in 1,000-event batches to
`carebase serve` (durable commits), and prints events/s. The raw baseline, measured in the
same run: the same batches decoded with orjson and written into a bare table, one durable
transaction per batch - on SQLite with `executemany` (WAL, synchronous=FULL), on PostgreSQL
with COPY from as many concurrent connections as there are clients.

With several clients, each posts the tickets of its own customers (customer number modulo
the client count), so no two concurrent batches share a link; answers that are not 2xx are
counted and printed, not raised. `--engine postgresql` (or `both`) starts a throwaway
PostgreSQL cluster from the local binaries, as tests/pg.py does, but durable (fsync and
synchronous_commit on), and prints the PostgreSQL ratio too.

    .venv/bin/python -m bench.ingest [--events 100000] [--profiles 20000] [--clients 2]
        [--workers 2] [--engine sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
from tests.conftest import make_token, test_settings
from tests.pg import PostgresServer, find_pg_bin, free_port
from tests.serverproc import running_server

from bench.data import tickets
from carebase.db.migrate import migrate_to_head
from carebase.db.session import Database

BATCH = 1000


def batches(events: int, profiles: int, clients: int = 1) -> list[list[bytes]]:
    """Each client's share of the events as request bodies of 1,000: client i gets the
    tickets of customers whose number is i modulo `clients`, so shares never share a link."""
    shares: list[list[bytes]] = [[] for _ in range(clients)]
    pending: list[list[dict[str, Any]]] = [[] for _ in range(clients)]
    for event in tickets(events, profiles):
        customer = int(event["link"]["email"].removeprefix("customer").split("@")[0])
        batch = pending[customer % clients]
        batch.append(event)
        if len(batch) == BATCH:
            shares[customer % clients].append(orjson.dumps(batch))
            batch.clear()
    for share, batch in zip(shares, pending, strict=True):
        if batch:
            share.append(orjson.dumps(batch))
    return shares


def _row(e: dict[str, Any]) -> tuple[Any, ...]:
    return (
        e["ticket_id"],
        e["action_at"],
        e["link"].get("email"),
        e["link"].get("mobile"),
        e["title"],
        e["ticket_url"],
        e["description"],
        e["timeline"]["created_at"],
        e["timeline"].get("closed_at"),
        e["timeline"]["duration"],
        e["timeline"]["reply_time"],
        e["timeline"]["first_reply_time"],
        orjson.dumps(e["channel"]["type"]).decode(),
        orjson.dumps(e["channel"]["name"]).decode(),
        e["status"],
        orjson.dumps(e["tags"]).decode(),
        orjson.dumps(e["agents"]).decode(),
        e["satisfaction_score"],
    )


RAW_COLUMNS = (
    "ticket_id TEXT, action_at TEXT, email TEXT, mobile TEXT, title TEXT, ticket_url TEXT, "
    "description TEXT, created_at TEXT, closed_at TEXT, duration {real}, reply_time {real}, "
    "first_reply_time {real}, channel_types TEXT, channel_names TEXT, status TEXT, tags TEXT, "
    "agents TEXT, satisfaction_score TEXT"
)


def raw_baseline(bodies: list[bytes], path: Path) -> float:
    """Events/s of decode + executemany into a bare table, one durable commit per batch."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute(f"CREATE TABLE tickets ({RAW_COLUMNS.format(real='REAL')})")
    started = time.perf_counter()
    count = 0
    for body in bodies:
        rows = [_row(e) for e in orjson.loads(body)]
        connection.execute("BEGIN")
        connection.executemany(f"INSERT INTO tickets VALUES ({', '.join('?' * 18)})", rows)  # noqa: S608
        connection.execute("COMMIT")
        count += len(rows)
    elapsed = time.perf_counter() - started
    connection.close()
    return count / elapsed


def raw_postgres_baseline(shares: list[list[bytes]], dsn: str) -> float:
    """Events/s of decode + COPY into a bare table, one durable commit per batch, one
    connection per client share, all at once."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(
            f"CREATE TABLE raw_tickets ({RAW_COLUMNS.format(real='DOUBLE PRECISION')})"
        )

    def load(share: list[bytes]) -> int:
        count = 0
        with psycopg.connect(dsn) as connection:
            for body in share:
                rows = [_row(e) for e in orjson.loads(body)]
                with (
                    connection.cursor() as cursor,
                    cursor.copy("COPY raw_tickets FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
                connection.commit()
                count += len(rows)
        return count

    started = time.perf_counter()
    with ThreadPoolExecutor(len(shares)) as pool:
        count = sum(pool.map(load, shares))
    return count / (time.perf_counter() - started)


@contextmanager
def durable_postgres() -> Iterator[PostgresServer]:
    """A throwaway cluster from the local binaries, as tests/pg.py starts one, but with
    fsync and synchronous_commit on: the baseline and carebase both pay for durable commits."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise SystemExit("PostgreSQL binaries (initdb, pg_ctl) not found")
    run_as = "postgres" if os.geteuid() == 0 else None  # PostgreSQL refuses to run as root
    if run_as:
        pwd.getpwnam(run_as)
    root = Path(tempfile.mkdtemp(prefix="carebase-bench-pg-"))
    if run_as:
        shutil.chown(root, user=run_as)
    data_dir, port = root / "data", free_port()
    initdb = [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "carebase", "-A", "trust"]
    subprocess.run([*initdb, "-E", "UTF8"], user=run_as, check=True, capture_output=True)
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {root} -c max_connections=100"
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data_dir)]
    subprocess.run(
        [*pg_ctl, "-o", options, "-l", str(root / "server.log"), "-w", "-t", "60", "start"],
        user=run_as,
        check=True,
        capture_output=True,
    )
    server = PostgresServer(bin_dir, data_dir, port, run_as)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Posted:
    """What posting every share through the server did."""

    events_per_second: float
    latencies: list[float] = field(default_factory=list)
    accepted: int = 0
    failures: dict[int, int] = field(default_factory=dict)


def through_server(shares: list[list[bytes]], url: str, *, workers: int) -> Posted:
    """Post each client's share at once, one client per share, to a fresh server."""
    database = Database.from_settings(test_settings(url))
    migrate_to_head(database.engine)
    token = make_token(database, "admin")
    database.dispose()
    env = {
        "CAREBASE_LOG_LEVEL": "WARNING",
        "CAREBASE_RATE_LIMITS": "ingest=unlimited,admin=unlimited",
    }
    with running_server(url, workers=workers, env=env) as server:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        dataset = httpx.post(
            f"{server.url}/v1/datasets", json={"name": "bench"}, headers=headers
        ).json()["id"]
        path = f"/v1/datasets/{dataset}/customer_support_ticket"
        result = Posted(0.0)
        lock = threading.Lock()

        def post(share: list[bytes]) -> None:
            with httpx.Client(base_url=server.url, headers=headers, timeout=300) as client:
                for body in share:
                    begun = time.perf_counter()
                    response = client.post(path, content=body)
                    took = (time.perf_counter() - begun) * 1000
                    with lock:
                        result.latencies.append(took)
                        if response.is_success:
                            result.accepted += response.json()["received"]
                        else:
                            status = response.status_code
                            result.failures[status] = result.failures.get(status, 0) + 1

        started = time.perf_counter()
        with ThreadPoolExecutor(len(shares)) as pool:
            list(pool.map(post, shares))
        result.events_per_second = result.accepted / (time.perf_counter() - started)
    return result


def report(engine: str, raw: float, raw_name: str, posted: Posted, args: Any) -> None:
    """Print one engine's figures and ratio."""
    latencies = sorted(posted.latencies)
    p50, p99 = latencies[len(latencies) // 2], latencies[max(int(len(latencies) * 0.99) - 1, 0)]
    failed = sum(posted.failures.values())
    print(f"raw baseline ({raw_name}): {raw:10,.0f} events/s")
    print(
        f"carebase through HTTP ({engine}, {args.workers} worker(s), {args.clients} "
        f"client(s)): {posted.events_per_second:,.0f} events/s   batch p50 {p50:.0f} ms, "
        f"p99 {p99:.0f} ms"
    )
    print(
        f"  batches answered non-2xx: {failed} of {len(latencies)}"
        + (f" {dict(sorted(posted.failures.items()))}" if failed else "")
    )
    print(f"{engine} ratio: {posted.events_per_second / raw:.2f} (target >= 0.40)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--profiles", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=1, help="concurrent posting clients")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="sqlite")
    args = parser.parse_args()
    shares = batches(args.events, args.profiles, args.clients)
    bodies = [body for share in shares for body in share]
    size = sum(len(body) for body in bodies)
    print(
        f"{args.events} tickets over {args.profiles} profiles, {len(bodies)} batches, "
        f"{size / 1e6:.1f} MB of JSON, {args.clients} client share(s) with disjoint customers"
    )
    if args.engine in {"sqlite", "both"}:
        with tempfile.TemporaryDirectory() as tmp:
            raw = raw_baseline(bodies, Path(tmp) / "raw.db")
            posted = through_server(shares, f"sqlite:///{tmp}/carebase.db", workers=args.workers)
        report("SQLite", raw, "orjson + executemany, SQLite, one connection", posted, args)
    if args.engine in {"postgresql", "both"}:
        with durable_postgres() as server:
            with psycopg.connect(server.dsn(), autocommit=True) as connection:
                connection.execute("CREATE DATABASE raw_bench")
                connection.execute("CREATE DATABASE carebase_bench")
            raw = raw_postgres_baseline(shares, server.dsn("raw_bench"))
            posted = through_server(shares, server.url("carebase_bench"), workers=args.workers)
        name = f"orjson + COPY, PostgreSQL, {args.clients} connection(s)"
        report("PostgreSQL", raw, name, posted, args)


if __name__ == "__main__":
    main()
