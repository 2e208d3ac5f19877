"""Mixed-type ingest through a real server process: every Lexer record type and tickets.

Generates the demo brand (customer records, products, purchases, returns, tickets, email and
SMS events, unify records; `--profiles` people, `--tickets` tickets), posts each type's
1,000-record batches to its own dataset on `carebase serve` (SQLite, durable commits) in the
demo's load order (so merges happen), and prints records/s per type. The raw baseline,
measured in the same run on the same batches: orjson decode, then `executemany` of
(natural key, action_at, record JSON) into a bare SQLite table, one durable (WAL,
synchronous=FULL) transaction per batch.

    .venv/bin/python -m bench.ingest_mixed [--profiles 5000] [--tickets 20000]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
from tests.conftest import make_token, test_settings
from tests.serverproc import running_server

from carebase.db.migrate import migrate_to_head
from carebase.db.session import Database
from carebase.demo.generate import generate

BATCH = 1000
KEYS = ("purchase_id", "return_id", "email_id", "sms_id", "ticket_id", "product_id", "name")


def bodies_by_type(profiles: int, tickets: int) -> dict[str, list[bytes]]:
    """Each record type's batches as request bodies, in the demo's load order."""
    data = generate(
        profiles=profiles, tickets=tickets, seed=7, anchor=datetime(2026, 11, 23, tzinfo=UTC)
    )
    return {
        record_type: [orjson.dumps(records[i : i + BATCH]) for i in range(0, len(records), BATCH)]
        for record_type, records in data.batches.items()
    }


def raw_baseline(bodies: list[bytes], connection: sqlite3.Connection) -> tuple[int, float]:
    """(records, seconds) of decode + executemany, one durable commit per batch."""
    started = time.perf_counter()
    count = 0
    for body in bodies:
        rows = [
            (
                next((str(r[k]) for k in KEYS if k in r), None),
                r.get("action_at"),
                orjson.dumps(r),
            )
            for r in orjson.loads(body)
        ]
        connection.execute("BEGIN")
        connection.executemany("INSERT INTO records VALUES (?, ?, ?)", rows)
        connection.execute("COMMIT")
        count += len(rows)
    return count, time.perf_counter() - started


def through_server(bodies: dict[str, list[bytes]], url: str) -> dict[str, tuple[int, float]]:
    """{record type: (records, seconds)} posting every batch to a fresh server."""
    database = Database.from_settings(test_settings(url))
    migrate_to_head(database.engine)
    token = make_token(database, "admin")
    database.dispose()
    env = {
        "CAREBASE_LOG_LEVEL": "WARNING",
        "CAREBASE_RATE_LIMITS": "ingest=unlimited,admin=unlimited",
    }
    timings: dict[str, tuple[int, float]] = {}
    with running_server(url, workers=1, env=env) as server:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=300) as client:
            for record_type, batches in bodies.items():
                dataset = client.post(
                    "/v1/datasets", json={"name": record_type, "record_type": record_type}
                ).json()["id"]
                started = time.perf_counter()
                count = 0
                for body in batches:
                    response = client.post(f"/v1/datasets/{dataset}/{record_type}", content=body)
                    response.raise_for_status()
                    result = response.json()
                    assert result["rejected"] == 0, result["rejections"][:3]
                    count += result["received"]
                timings[record_type] = (count, time.perf_counter() - started)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=5000)
    parser.add_argument("--tickets", type=int, default=20_000)
    args = parser.parse_args()
    bodies = bodies_by_type(args.profiles, args.tickets)
    total = sum(len(body) for batches in bodies.values() for body in batches)
    records = sum(orjson.loads(body).__len__() for batches in bodies.values() for body in batches)
    print(f"{records:,} records of {len(bodies)} types, {total / 1e6:.1f} MB of JSON")
    with tempfile.TemporaryDirectory() as tmp:
        connection = sqlite3.connect(Path(tmp) / "raw.db", isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("CREATE TABLE records (record_key TEXT, action_at TEXT, record TEXT)")
        raw = {
            record_type: raw_baseline(batches, connection)
            for record_type, batches in bodies.items()
        }
        connection.close()
        ours = through_server(bodies, f"sqlite:///{tmp}/carebase.db")
    print(f"{'record type':<24}{'records':>9}{'carebase/s':>12}{'raw/s':>12}{'ratio':>8}")
    for record_type in bodies:
        count, seconds = ours[record_type]
        raw_count, raw_seconds = raw[record_type]
        rate, raw_rate = count / seconds, raw_count / raw_seconds
        print(
            f"{record_type:<24}{count:>9,}{rate:>12,.0f}{raw_rate:>12,.0f}{rate / raw_rate:>8.2f}"
        )
    count = sum(n for n, _ in ours.values())
    rate = count / sum(s for _, s in ours.values())
    raw_rate = count / sum(s for _, s in raw.values())
    print(f"{'all':<24}{count:>9,}{rate:>12,.0f}{raw_rate:>12,.0f}{rate / raw_rate:>8.2f}")


if __name__ == "__main__":
    main()
