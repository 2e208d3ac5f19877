"""Profile Read API latency with a large population.

Loads N profiles (default 1,000,000), each with an email, a ticket and its attributes,
straight into SQLite in bulk (setup, not measured), then starts `carebase serve` and drives
`GET /v1/profiles/by/email/…` from several client processes. Prints server-side latency
(from the `Server-Timing` header) p50/p99, client-side p50/p99 and requests/s, and, as the
raw baseline measured in the same run, the same lookup as two indexed SELECTs through the
bare sqlite3 driver.

    .venv/bin/python -m bench.profile_read [--profiles 1000000] [--seconds 20] [--clients 4]
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from tests.conftest import make_token, test_settings
from tests.serverproc import running_server

from carebase.attributes.support import SupportState
from carebase.db import bulk
from carebase.db.migrate import migrate_to_head
from carebase.db.session import Database
from carebase.models import Dataset, Profile, ProfileLink, SupportAttributes, Ticket
from carebase.models.base import table

CHUNK = 20_000


def load(url: str, profiles: int) -> None:
    """Bulk-load `profiles` profiles with one email, one ticket and attributes each."""
    database = Database.from_settings(test_settings(url))
    migrate_to_head(database.engine)
    now = datetime.now(UTC)
    with database.unit_of_work() as session:
        session.add(
            Dataset(
                id="ds_bench", name="bench", record_type="customer_support_ticket", created_at=now
            )
        )
    started = time.perf_counter()
    for start in range(0, profiles, CHUNK):
        numbers = range(start, min(start + CHUNK, profiles))
        ids = [f"prf_{n:026d}" for n in numbers]
        tickets = []
        for n, profile_id in zip(numbers, ids, strict=True):
            created = now - timedelta(days=n % 400, minutes=n % 1440)
            tickets.append(
                {
                    "dataset_id": "ds_bench",
                    "ticket_id": f"T{n}",
                    "profile_id": profile_id,
                    "action_at": created,
                    "created_at": created,
                    "closed_at": None,
                    "duration": 30.0,
                    "reply_time": 5.0,
                    "first_reply_time": 4.0,
                    "status": "open",
                    "title": "Where is my order?",
                    "ticket_url": f"https://x.zendesk.com/t/{n}",
                    "description": "Customer asks about delivery.",
                    "channel_types": ["email"],
                    "channel_names": ["help@mybrand.com"],
                    "tags": ["shipping"],
                    "agents": ["Sam K"],
                    "satisfaction_score": "good",
                    "custom_fields": {},
                    "link": {"email": f"customer{n}@example.com"},
                    "content_hash": "0" * 64,
                    "received_at": now,
                }
            )
        with database.unit_of_work() as session:
            bulk.insert_rows(
                session,
                table(Profile),
                [
                    {"id": p, "created_at": now, "updated_at": now, "merged_into_id": None}
                    for p in ids
                ],
            )
            bulk.insert_rows(
                session,
                table(ProfileLink),
                [
                    {
                        "profile_id": p,
                        "link_type": "email",
                        "system_name": "",
                        "value": f"customer{n}@example.com",
                        "derived": False,
                        "created_at": now,
                    }
                    for n, p in zip(numbers, ids, strict=True)
                ],
            )
            bulk.insert_rows(session, table(Ticket), tickets)
            rows = []
            for ticket in tickets:
                state = SupportState()
                state.fold(ticket)
                rows.append({"profile_id": ticket["profile_id"], **state.row(now)})
            bulk.insert_rows(session, table(SupportAttributes), rows)
        done = min(start + CHUNK, profiles)
        print(
            f"\rloaded {done:,} profiles ({done / (time.perf_counter() - started):,.0f}/s)",
            end="",
            flush=True,
        )
    print()
    database.dispose()


def _client(args: tuple[str, str, int, float, int]) -> tuple[list[float], list[float]]:
    base, token, profiles, seconds, seed = args
    rng = random.Random(seed)
    server_ms: list[float] = []
    client_ms: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        # A fresh connection every 100 requests, so the kernel spreads clients over the
        # workers as a load balancer would (one keep-alive connection pins one worker).
        with httpx.Client(base_url=base, headers={"Auth-Api-Token": token}) as client:
            for _ in range(100):
                email = f"customer{rng.randrange(profiles)}@example.com"
                begun = time.perf_counter()
                response = client.get(f"/v1/profiles/by/email/{email}")
                client_ms.append((time.perf_counter() - begun) * 1000)
                response.raise_for_status()
                timing = response.headers["Server-Timing"]
                server_ms.append(float(timing.split("dur=")[1]))
    return server_ms, client_ms


def raw_baseline(path: Path, profiles: int, count: int = 20_000) -> float:
    """Lookups/s of link -> attributes through the bare driver."""
    connection = sqlite3.connect(path)
    rng = random.Random(1)
    started = time.perf_counter()
    for _ in range(count):
        email = f"customer{rng.randrange(profiles)}@example.com"
        profile_id = connection.execute(
            "SELECT profile_id FROM profile_links WHERE value = ? AND link_type = 'email' "
            "AND system_name = ''",
            (email,),
        ).fetchone()[0]
        connection.execute(
            "SELECT * FROM support_attributes WHERE profile_id = ?", (profile_id,)
        ).fetchone()
    connection.close()
    return count / (time.perf_counter() - started)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "carebase.db"
        url = f"sqlite:///{path}"
        load(url, args.profiles)
        database = Database.from_settings(test_settings(url))
        token = make_token(database, "profiles:read")
        database.dispose()
        raw = raw_baseline(path, args.profiles)
        env = {"CAREBASE_LOG_LEVEL": "WARNING", "CAREBASE_RATE_LIMITS": "profiles:read=unlimited"}
        with running_server(url, workers=args.workers, env=env) as server:
            _client((server.url, token, args.profiles, 2, 99))  # warm up
            jobs = [
                (server.url, token, args.profiles, args.seconds, seed)
                for seed in range(args.clients)
            ]
            started = time.perf_counter()
            with multiprocessing.Pool(args.clients) as pool:
                results = pool.map(_client, jobs)
            elapsed = time.perf_counter() - started
    server_ms = [v for s, _ in results for v in s]
    client_ms = [v for _, c in results for v in c]
    rate = len(server_ms) / elapsed
    print(
        f"{args.profiles:,} profiles, {args.clients} client processes, "
        f"{args.workers} server worker(s), {len(server_ms):,} requests in {elapsed:.1f} s"
    )
    print(
        f"server-side  p50 {percentile(server_ms, 0.5):6.2f} ms   "
        f"p99 {percentile(server_ms, 0.99):6.2f} ms   (target p99 <= 10 ms)"
    )
    print(
        f"client-side  p50 {percentile(client_ms, 0.5):6.2f} ms   "
        f"p99 {percentile(client_ms, 0.99):6.2f} ms   mean {statistics.mean(client_ms):.2f} ms"
    )
    print(f"throughput   {rate:8,.0f} requests/s")
    print(
        f"raw baseline {raw:8,.0f} lookups/s (two indexed SELECTs, bare sqlite3, one thread); "
        f"ratio {rate / raw:.3f}"
    )


if __name__ == "__main__":
    main()
