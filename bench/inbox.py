"""The inbox's hot paths through a real server process (SQLite, durable commits).

1. Intake: `--mentions` inbound messages from `--authors` customers, posted as 1,000-record
   batches to `POST /v1/datasets/{id}/mention` with two rules and an ignored sender on the
   queue (each message is resolved to a profile, grouped, matched, logged and written with its
   `received` event). Raw baseline, same run, same batches: orjson decode, then `executemany`
   of (key, published_at, record JSON) into a bare SQLite table, one durable transaction per
   batch.
2. The inbox list: `GET /v1/mentions?tab=new&limit=50` (the first page, and a page deep in
   the list by its cursor). Raw baseline: the same page as one hand-written SQL query over
   the same database file through sqlite3.

    .venv/bin/python -m bench.inbox [--mentions 20000] [--authors 5000]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from tests.conftest import make_token, test_settings
from tests.serverproc import running_server

from carebase.db.migrate import migrate_to_head
from carebase.db.session import Database

BATCH = 1000
WORDS = ("parcel", "refund", "late", "order", "thanks", "broken", "size", "colour", "help")


def batches(mentions: int, authors: int) -> list[bytes]:
    """The messages as request bodies of BATCH records."""
    rng = random.Random(7)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    records: list[dict[str, Any]] = []
    for n in range(mentions):
        author = rng.randrange(authors)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 20)))
        records.append(
            {
                "mention_id": f"m{n}",
                "source_type": rng.choice(("twitter", "facebook", "email", "chat")),
                "account": "@acme_help",
                "author": {"id": f"twitter_{author}", "username": f"@c{author}"},
                "link": {"email": f"customer{author}@example.org"},
                "text": text,
                "published_at": (start + timedelta(seconds=30 * n)).isoformat(),
                "thread_id": f"t{author}-{n // 50}",
            }
        )
    return [orjson.dumps(records[i : i + BATCH]) for i in range(0, len(records), BATCH)]


def raw_intake(bodies: list[bytes], path: Path) -> tuple[int, float]:
    """(records, seconds) of decode + executemany, one durable commit per batch."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("CREATE TABLE raw (key TEXT, published_at TEXT, record TEXT)")
    started = time.perf_counter()
    count = 0
    for body in bodies:
        rows = [(r["mention_id"], r["published_at"], orjson.dumps(r)) for r in orjson.loads(body)]
        connection.execute("BEGIN")
        connection.executemany("INSERT INTO raw VALUES (?, ?, ?)", rows)
        connection.execute("COMMIT")
        count += len(rows)
    connection.close()
    return count, time.perf_counter() - started


def timed(call: Any, runs: int) -> float:
    """The median seconds of `runs` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=20_000)
    parser.add_argument("--authors", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    bodies = batches(args.mentions, args.authors)
    with tempfile.TemporaryDirectory() as tmp:
        raw_count, raw_seconds = raw_intake(bodies, Path(tmp) / "raw.db")
        url = f"sqlite:///{tmp}/carebase.db"
        database = Database.from_settings(test_settings(url))
        migrate_to_head(database.engine)
        admin = make_token(database, "admin")
        inbox = make_token(database, "inbox:read", "inbox:write")
        database.dispose()
        env = {
            "CAREBASE_LOG_LEVEL": "WARNING",
            "CAREBASE_RATE_LIMITS": "ingest=unlimited,admin=unlimited,inbox:read=unlimited,"
            "inbox:write=unlimited",
        }
        with running_server(url, workers=1, env=env) as server:
            as_admin = {"Authorization": f"Bearer {admin}"}
            as_inbox = {"Authorization": f"Bearer {inbox}"}
            with httpx.Client(base_url=server.url, timeout=300) as client:
                refunds = client.post(
                    "/v1/classifications",
                    headers=as_inbox,
                    json={"name": "Refunds", "colour": "#d62728"},
                ).json()["id"]
                queue = client.get("/v1/queues", headers=as_inbox).json()
                queue_id = (queue["items"] if isinstance(queue, dict) else queue)[0]["id"]
                for name, terms in (("Refunds", ["refund"]), ("Breakages", ["broken", "size"])):
                    client.post(
                        "/v1/rules",
                        headers=as_inbox,
                        json={
                            "queue_id": queue_id,
                            "name": name,
                            "conditions": {"terms": terms},
                            "actions": {"classify": [refunds]},
                            "enabled": True,
                        },
                    ).raise_for_status()
                client.post(
                    "/v1/ignored-senders", headers=as_inbox, json={"pattern": "twitter_13*"}
                ).raise_for_status()
                dataset = client.post(
                    "/v1/datasets",
                    headers=as_admin,
                    json={"name": "Social", "record_type": "mention"},
                ).json()["id"]
                started = time.perf_counter()
                count = 0
                for body in bodies:
                    answer = client.post(
                        f"/v1/datasets/{dataset}/mention",
                        content=body,
                        headers={**as_admin, "Content-Type": "application/json"},
                    )
                    answer.raise_for_status()
                    result = answer.json()
                    assert result["rejected"] == 0, result["rejections"][:3]
                    count += result["received"]
                seconds = time.perf_counter() - started

                def page(cursor: str | None = None) -> Any:
                    params: dict[str, Any] = {"tab": "new", "limit": 50}
                    if cursor:
                        params["cursor"] = cursor
                    answer = client.get("/v1/mentions", headers=as_inbox, params=params)
                    answer.raise_for_status()
                    return answer.json()

                cursor = None
                for _ in range(100):
                    cursor = page(cursor)["next_cursor"]
                first_page = timed(page, args.runs)
                deep_page = timed(lambda: page(cursor), args.runs)
        connection = sqlite3.connect(f"{tmp}/carebase.db")
        sql = (
            "SELECT * FROM mentions WHERE state = 'new' ORDER BY published_at, id LIMIT 50 OFFSET ?"
        )
        raw_first = timed(lambda: connection.execute(sql, (0,)).fetchall(), args.runs)
        raw_deep = timed(lambda: connection.execute(sql, (5000,)).fetchall(), args.runs)
        connection.close()
    rate, raw_rate = count / seconds, raw_count / raw_seconds
    print(f"intake: {count:,} mentions in {seconds:.1f} s = {rate:,.0f}/s")
    print(f"  raw baseline {raw_rate:,.0f}/s; ratio raw/carebase {raw_rate / rate:.1f}x")
    for label, ours, raw in (
        ("first page", first_page, raw_first),
        ("page 101 (cursor)", deep_page, raw_deep),
    ):
        print(
            f"list {label}: median {ours * 1000:.1f} ms over HTTP; raw SQL {raw * 1000:.2f} ms;"
            f" ratio {ours / raw:.0f}x"
        )


if __name__ == "__main__":
    main()
